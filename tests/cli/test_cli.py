"""The `holdemd` command at its edge: files written, lines printed, exit codes."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from holdemd.cli import build_parser, main
from holdemd.games.factory import make_game
from holdemd.rundir.snapshot_read import read_snapshot
from holdemd.solver.exact import ExactEvaluator
from holdemd.solver.tables import uniform_strategy
from holdemd.strategy_export import json_to_strategy, strategy_to_json, write_json_atomic

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, game: str, iterations: int, extra: str = "") -> Path:
    # One worker and batches that divide the targets: iteration counts come out exact.
    path = tmp_path / f"{game}.yaml"
    path.write_text(
        f"game:\n  name: {game}\nsolver:\n  seed: 3\n"
        f"training:\n  iterations: {iterations}\n  eval_interval: 0\n  num_workers: 1\n"
        f"  batch_size: 100\n  tensorboard: false\n{extra}"
    )
    return path


def _holdemd(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "holdemd.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=kwargs.pop("cwd", ROOT),
        **kwargs,
    )


def test_train_writes_a_snapshot_with_a_complete_manifest(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--config",
                str(_config(tmp_path, "kuhn", 5000)),
                "--logdir",
                str(run),
                "--seed",
                "9",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "trained kuhn: 5,000 iterations" in out and "exploitability" in out
    snap = run / "snapshots" / "it-000000005000"
    arrays, manifest = read_snapshot(snap)
    assert arrays["regret"].shape == (12, 2) and arrays["strategy_sum"].any()
    assert manifest["game"] == "kuhn" and manifest["iteration"] == 5000 and manifest["seed"] == 9
    assert manifest["config"]["training"]["iterations"] == 5000
    assert manifest["elapsed_seconds"] > 0 and manifest["package_version"]
    assert (run / "logs" / "train.log").read_text().count("snapshot written") == 1


def test_eval_and_export_agree_on_the_trained_strategy(tmp_path, capsys):
    run = tmp_path / "run"
    main(["train", "--config", str(_config(tmp_path, "leduc", 20_000)), "--logdir", str(run)])
    capsys.readouterr()
    assert main(["eval", "--run", str(run), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["game"] == "leduc" and report["iteration"] == 20_000
    assert 0 < report["exploitability"] < 2.373611
    out = tmp_path / "leduc.json"
    assert main(["strategy", "export", "--run", str(run), "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    game = make_game("leduc")
    reread = json_to_strategy(game, data, str(out))
    assert ExactEvaluator(game).exploitability(reread) == pytest.approx(
        report["exploitability"], abs=1e-12
    )


@pytest.mark.parametrize(("name", "expected"), [("kuhn", 0.458333), ("leduc", 2.373611)])
def test_uniform_strategy_round_trips_through_json(tmp_path, name, expected):
    game = make_game(name)
    path = tmp_path / f"{name}.json"
    write_json_atomic(path, strategy_to_json(game, uniform_strategy(game)))
    policy = json_to_strategy(game, json.loads(path.read_text()), str(path))
    assert ExactEvaluator(game).exploitability(policy) == pytest.approx(expected, abs=1e-6)


def test_export_keys_and_columns_follow_the_documented_format():
    leduc = strategy_to_json(make_game("leduc"), uniform_strategy(make_game("leduc")))
    assert len(leduc) == 288
    for key in ("K:", "Q:r", "QK:rc/", "JK:rc/r", "KK:crrc/crr"):
        assert key in leduc
    assert leduc["K:"] == [0.0, 0.5, 0.5]  # no fold when not facing a bet
    assert leduc["Q:rr"] == [0.5, 0.5, 0.0]  # no third raise
    assert all(abs(sum(p) - 1) < 1e-9 for p in leduc.values())
    kuhn = strategy_to_json(make_game("kuhn"), uniform_strategy(make_game("kuhn")))
    assert sorted(kuhn) == sorted(f"{c}:{h}" for c in "JQK" for h in ("", "p", "b", "pb"))


def test_a_missing_infoset_is_refused_with_the_fix():
    game = make_game("kuhn")
    data = strategy_to_json(game, uniform_strategy(game))
    del data["J:pb"]
    with pytest.raises(Exception, match=r"s.json: 1 infosets missing, e.g. 'J:pb'; export again"):
        json_to_strategy(game, data, "s.json")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "game:\n  name: leduc\ntraining:\n  iteratons: 5\n",
            "bad.yaml: unknown key 'training.iteratons'",
        ),
        ("game:\n  name: chess\n", "bad.yaml: key 'game.name' must be one of"),
        (
            "game:\n  name: leduc\ntraining:\n  iterations: lots\n",
            "bad.yaml: key 'training.iterations' must be an integer, got 'lots'",
        ),
        (
            "game:\n  name: leduc\ntraining:\n  time_budget: soon\n",
            "'soon' is not a duration; use seconds or e.g. 90s, 30m, 8h",
        ),
        ("game: [leduc\n", "bad.yaml"),
    ],
)
def test_a_bad_config_is_one_line_and_exit_code_2(tmp_path, body, message):
    (tmp_path / "bad.yaml").write_text(body)
    result = _holdemd("train", "--config", "bad.yaml", "--logdir", "run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("holdemd: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()  # nothing was started


def test_missing_config_file_and_missing_run_are_clear(tmp_path):
    result = _holdemd("train", "--config", "nope.yaml", cwd=tmp_path)
    assert (
        result.returncode == 2
        and "nope.yaml" in result.stderr
        and "configs/leduc.yaml" in result.stderr
    )
    result = _holdemd("eval", "--run", str(tmp_path / "none"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"holdemd: {tmp_path / 'none'}: no such run directory; pass the --logdir of a training run"
    )


def test_training_into_an_existing_run_is_refused(tmp_path, capsys):
    config = str(_config(tmp_path, "kuhn", 100))
    assert main(["train", "--config", config, "--logdir", str(tmp_path / "r")]) == 0
    assert main(["train", "--config", config, "--logdir", str(tmp_path / "r")]) == 2
    assert "already holds a run" in capsys.readouterr().err


def test_ctrl_c_stops_with_a_final_snapshot(tmp_path):
    config = _config(tmp_path, "leduc", 0, extra="  time_budget: 10m\n  progress_interval: 0.2\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holdemd.cli",
            "train",
            "--config",
            str(config),
            "--logdir",
            str(tmp_path / "run"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        log = tmp_path / "run" / "logs" / "train.log"
        # Wait for a progress line: training, not compiling, is under way.
        while time.monotonic() < deadline and " it/s" not in (
            log.read_text() if log.exists() else ""
        ):
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "(interrupted)" in out
    assert "stop requested (SIGINT)" in err
    snapshots = list((tmp_path / "run" / "snapshots").iterdir())
    assert len(snapshots) == 1
    _, manifest = read_snapshot(snapshots[0])
    assert manifest["iteration"] > 0


def test_help_of_every_command():
    for args in (
        ["--help"],
        ["train", "--help"],
        ["eval", "--help"],
        ["strategy", "export", "--help"],
    ):
        result = _holdemd(*args)
        assert result.returncode == 0 and "usage: holdemd" in result.stdout


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _all_parsers(sub)
    return found


def test_no_holdemd_parser_takes_an_abbreviated_option():
    parsers = _all_parsers(build_parser())
    assert len(parsers) >= 10  # holdemd, its commands, buckets and strategy subcommands
    assert [p.prog for p in parsers if p.allow_abbrev] == []


def test_train_does_not_read_snapshot_as_snapshot_interval(capsys):
    # The corrupt-snapshot error suggests `--snapshot NAME`, an option of eval, not of train.
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["train", "--config", "c.yaml", "--snapshot", "s-000003"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --snapshot s-000003" in capsys.readouterr().err
