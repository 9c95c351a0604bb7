"""``holdemd buckets``: argument parsing and the handlers, through a tiny argparse parser."""

from __future__ import annotations

import argparse

import pytest

from holdemd.abstraction import AbstractionError
from holdemd.abstraction.store import shipped_dir
from holdemd.cli.buckets import add_parser as add_buckets_parser


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="holdemd")
    add_buckets_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(list(argv))


def test_build_arguments(tmp_path):
    args = parse("buckets", "build", "--preset", "mid", "--out", str(tmp_path / "m.npz"))
    assert (args.preset, args.seed, args.threads, args.out.name) == ("mid", 0, None, "m.npz")
    args = parse("buckets", "build", "--preset", "quick", "--seed", "7", "--threads", "1")
    assert (args.seed, args.threads, args.out) == (7, 1, None)


def test_bad_preset_and_missing_action_are_usage_errors(capsys):
    with pytest.raises(SystemExit) as excinfo:
        parse("buckets", "build", "--preset", "huge")
    assert excinfo.value.code == 2
    with pytest.raises(SystemExit):
        parse("buckets")
    assert "usage:" in capsys.readouterr().err


def test_too_many_threads_fails_before_any_work(tmp_path):
    args = parse(
        "buckets",
        "build",
        "--preset",
        "quick",
        "--threads",
        "4096",
        "--out",
        str(tmp_path / "q.npz"),
    )
    with pytest.raises(AbstractionError, match=r"--threads must be 1\.\.") as excinfo:
        args.handler(args)
    assert excinfo.value.exit_code == 2
    assert not (tmp_path / "q.npz").exists()


def test_info_on_a_missing_file_names_it_and_the_fix(tmp_path):
    args = parse("buckets", "info", str(tmp_path / "gone.npz"))
    with pytest.raises(AbstractionError) as excinfo:
        args.handler(args)
    message = str(excinfo.value)
    assert "gone.npz: bucket file not found" in message
    assert "holdemd buckets build --preset quick --out" in message


@pytest.mark.slow
def test_info_on_the_shipped_bundle(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the river table is built there
    args = parse("buckets", "info", str(shipped_dir() / "quick.npz"))
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "169/50/50/50" in out and "digest:" in out and "river:" in out
