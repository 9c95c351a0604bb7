"""Heads-up Hold'em (hunl_quick with the shipped quick buckets): the file, the API over the
run, and ``holdemd strategy show`` (run and file) agree on 1,000 random decisions; damaged
files and missing abstractions are one line; the exports run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import holdemd.blueprint.abstraction as abstraction_module
from holdemd import Blueprint
from holdemd.blueprint.export import export_blueprint
from holdemd.cli import main
from holdemd.errors import BlueprintError
from holdemd.lookup.show import look_up, lookup_json
from holdemd.rundir.load import load_snapshot
from tests.blueprint.hunl_files import random_decision, write_hunl

DECISIONS = 1000


@pytest.fixture(scope="module")
def hunl(tmp_path_factory) -> tuple[Path, Path]:
    """(run directory, blueprint file) of hunl_quick with random strategy sums, 3% untrained."""
    return write_hunl(tmp_path_factory.mktemp("hunl"))


def test_a_thousand_decisions_agree_across_file_api_and_show(hunl):
    run, path = hunl
    from_file = Blueprint.open(path)
    from_run = Blueprint.open(run)
    rng = np.random.default_rng(17)
    translated = untrained = 0
    for _ in range(DECISIONS):
        hand, board, history = random_decision(from_file, rng)
        in_file = from_file.strategy(hand, board, history)
        in_run = from_run.strategy(hand, board, history)
        assert in_file.decision.node == in_run.decision.node and in_file.bucket == in_run.bucket
        assert in_file.trained == in_run.trained
        assert np.abs(in_file.probabilities - in_run.probabilities).max() <= from_file.max_error
        shown_file = lookup_json(from_file, look_up(from_file, hand, board, history))
        shown_run = lookup_json(from_run, look_up(from_run, hand, board, history))
        for shown, result in ((shown_file, in_file), (shown_run, in_run)):
            assert [x["probability"] for x in shown["actions"]] == result.probabilities.tolist()
            assert (
                shown["bucket"] == result.bucket
                and shown["tree_history"] == result.decision.tree_history
            )
        translated += bool(in_file.decision.translations)
        untrained += not in_file.trained
    assert translated > 20 and untrained > 5  # the walk translated sizes; some rows untrained
    assert from_file.max_error < 1 / 255


def test_the_command_line_agrees_from_the_run_and_the_file(hunl, capsys):
    run, path = hunl
    blueprint = Blueprint.open(path)
    rng = np.random.default_rng(23)
    for _ in range(6):
        hand, board, history = random_decision(blueprint, rng)
        outputs = []
        for source in (["--run", str(run)], ["--blueprint", str(path)]):
            argv = ["strategy", "show", *source, "--hand", hand, "--history", history, "--json"]
            assert main([*argv, "--board", board]) == 0
            outputs.append(json.loads(capsys.readouterr().out))
        expected = blueprint.strategy(hand, board, history).probabilities
        got = [x["probability"] for x in outputs[1]["actions"]]
        assert got == expected.tolist()
        run_probs = np.array([x["probability"] for x in outputs[0]["actions"]])
        assert np.abs(run_probs - expected).max() <= blueprint.max_error
        assert outputs[0]["tree_history"] == outputs[1]["tree_history"]


def test_damaged_files_are_refused_with_one_line(hunl, tmp_path, capsys):
    _, path = hunl
    data = path.read_bytes()
    damaged = tmp_path / "damaged.bp"
    for bad, fragment in (
        (data[: len(data) // 2], "is damaged: truncated"),
        (data[:5000] + bytes([data[5000] ^ 0x40]) + data[5001:], "does not match its sha256"),
    ):
        damaged.write_bytes(bad)
        for argv in (
            ["strategy", "show", "--blueprint", str(damaged), "--hand", "AsKs"],
            ["blueprint", "info", str(damaged)],
        ):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"holdemd: blueprint {damaged} is damaged") and fragment in err
            assert err.count("\n") == 1


def test_a_missing_abstraction_is_one_line_and_an_embedded_one_installs(
    hunl, tmp_path, monkeypatch
):
    run, path = hunl
    monkeypatch.setattr(abstraction_module, "find_bundle", lambda digest, hint=None: None)
    with pytest.raises(BlueprintError) as error:
        Blueprint.open(path).strategy("AsKs")
    message = str(error.value)
    assert message.startswith(f"blueprint {path}: its card abstraction (digest ")
    assert "preset quick, 169/50/50/50 buckets) is not on this machine" in message
    assert "--embed-abstraction" in message and "\n" not in message
    monkeypatch.undo()
    embedded = tmp_path / "embedded.bp"
    report = export_blueprint(load_snapshot(run), embedded, embed=True)
    assert report.embedded_abstraction and report.bytes > 4_000_000
    # A machine without the bundle: an empty cache (holding only the river table, which the
    # installed bundle would otherwise rebuild) and no shipped bundles.
    from holdemd.abstraction.store import river_cache_path

    river = river_cache_path(
        Blueprint.open(embedded).manifest["abstraction"]["bundle_manifest"]["tables"]["river"][
            "sha256"
        ]
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(abstraction_module, "_bundles", lambda directory: [])
    new_river = river_cache_path(river.name.removeprefix("river-").removesuffix(".npy"))
    new_river.parent.mkdir(parents=True)
    new_river.symlink_to(river)
    blueprint = Blueprint.open(embedded)
    assert blueprint.strategy("AsKs").bucket_label == "AKs"
    installed = list((tmp_path / "cache" / "holdemd" / "abstraction").glob("blueprint-*.npz"))
    assert len(installed) == 1


def test_ranges_csv_and_info_commands(hunl, capsys):
    run, path = hunl
    assert main(["blueprint", "ranges", "--blueprint", str(path), "--seat", "BTN"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("# holdem, snapshot it-000000000007") and "# f: fold" in out
    assert main(["blueprint", "ranges", "--run", str(run), "--history", "r2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["token"] for a in data["actions"]] == ["f", "c", "r6", "a"]  # 3-bet: pot
    argv = ["blueprint", "csv", "--blueprint", str(path), "--history", "r2 c", "--board"]
    assert main([*argv, "AhKd7c"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hand,bucket,bucket_label,action,label,probability"
    assert len(lines) == 1 + (1326 - 3 * 51 + 3) * 4
    assert main(["blueprint", "csv", "--blueprint", str(path)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 169 * 5  # preflop: the classes
    assert main(["blueprint", "info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bits"] == 8 and info["abstraction"]["preset"] == "quick"
