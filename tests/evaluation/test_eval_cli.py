"""``holdemd eval --vs`` and ``--lbr`` at the command line: output, JSON, one-line errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.config.loader import load_config
from tests.evaluation.runs import ROOT, eval_error, make_run, needs_jit


@pytest.fixture(scope="module")
def leduc_run(tmp_path_factory) -> Path:
    config = load_config(ROOT / "configs" / "leduc.yaml")
    return make_run(tmp_path_factory.mktemp("leduc"), config, (200, 20_000))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    config = load_config(ROOT / "configs" / "holdem_tiny.yaml")
    return make_run(tmp_path_factory.mktemp("tiny"), config, (20_000,))


@needs_jit
def test_vs_reports_each_opponent_with_its_interval_and_the_exact_value(leduc_run, capsys):
    argv = ["eval", "--run", str(leduc_run), "--vs", "random,call,snapshot:first"]
    assert main([*argv, "--hands", "20000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluation"] == "head-to-head" and report["unit"] == "chips/game"
    assert report["actions"] == "expected" and report["deals"] == 20_000
    assert [r["opponent"] for r in report["results"]] == ["random", "call", "snapshot:first"]
    for row in report["results"]:
        assert row["low"] < row["mean"] < row["high"] and row["hands"] == 40_000
        assert abs(row["mean"] - row["exact"]) < 1.5 * row["ci95"], row
    # A trained strategy beats the baselines and its own early snapshot.
    assert all(row["low"] > 0 for row in report["results"])

    assert main([*argv, "--hands", "2000", "--actions", "sampled", "--seed", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "leduc, snapshot it-000000020000 (20,000 iterations)"
    assert lines[1] == (
        "head-to-head: 2,000 deals x 2 seats (duplicate), actions sampled, hand-ending ones "
        "scored exactly, seed 4"
    )
    assert lines[2].startswith("vs random ") and "chips/game" in lines[2] and "exact" in lines[2]
    assert len(lines) == 5


@needs_jit
def test_lbr_reports_a_lower_bound_below_the_exact_exploitability(tiny_run, capsys):
    assert main(["eval", "--run", str(tiny_run), "--lbr", "--hands", "3000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["evaluation"] == "lbr" and report["lbr"]["unit"] == "mbb/hand"
    assert report["lbr"]["low"] <= report["exact_exploitability"]
    assert report["lbr_preflop"] == "greedy" and report["lbr_menu"] == "the tree's"
    assert sum(report["lbr_action_shares"].values()) == pytest.approx(1.0)

    assert main(["eval", "--run", str(tiny_run), "--lbr", "--hands", "500", "--lbr-bets", "1"]) == 0
    out = capsys.readouterr().out
    assert "bets: 1 menu" in out and "LBR value (a lower bound on exploitability): " in out
    assert "exact exploitability: " in out


def test_bad_opponents_are_one_line_errors(leduc_run, capsys):
    run = str(leduc_run)
    err = eval_error(capsys, "--run", run, "--vs", "random,foo")
    assert err.startswith("holdemd: --vs foo: unknown opponent; use random, call, raise or ")
    assert "snapshot:NAME (snapshots: it-000000000200, it-000000020000)" in err
    err = eval_error(capsys, "--run", run, "--vs", "snapshot:it-9")
    assert err.startswith(f"holdemd: --vs snapshot:it-9: no such snapshot in {run}; use random")
    assert eval_error(capsys, "--run", run, "--vs", ",").startswith(
        "holdemd: --vs ',': name opponents"
    )


def test_missing_snapshot_and_run_are_one_line_errors(leduc_run, tmp_path, capsys):
    err = eval_error(capsys, "--run", str(tmp_path / "none"), "--vs", "call")
    assert err.endswith("no such run directory; pass the --logdir of a training run")
    assert (
        main(["eval", "--run", str(leduc_run), "--snapshot", "nope", "--vs", "call"]) == 2
    )  # a user names another snapshot (issue 11: usage errors exit 2)
    err = capsys.readouterr().err
    assert err.startswith("holdemd: no snapshot 'nope' in ") and err.count("\n") == 1


def test_lbr_on_other_games_is_a_one_line_error(leduc_run, tmp_path, capsys):
    err = eval_error(capsys, "--run", str(leduc_run), "--lbr")
    assert err == (
        "holdemd: --lbr: local best response is for heads-up Hold'em, this run is leduc; "
        "use `holdemd eval --run DIR` without --lbr for its exact best response"
    )
    config = load_config(ROOT / "configs" / "holdem_tiny.yaml")
    three = make_run(
        tmp_path / "three", replace(config, game=replace(config.game, players=3)), (10,)
    )
    err = eval_error(capsys, "--run", str(three), "--lbr")
    assert err.startswith("holdemd: --lbr: local best response needs a heads-up game, this run ")


def test_flags_that_do_not_apply_are_one_line_errors(leduc_run, tiny_run, capsys):
    run = str(leduc_run)
    assert eval_error(capsys, "--run", run, "--vs", "call", "--lbr").startswith(
        "holdemd: --vs and --lbr are separate evaluations"
    )
    assert eval_error(capsys, "--run", run, "--vs", "call", "--hands", "1").startswith(
        "holdemd: --hands 1: play at least 2 deals"
    )
    assert eval_error(capsys, "--run", run, "--hands", "100").startswith(
        "holdemd: --hands applies to --vs or --lbr"
    )
    assert eval_error(capsys, "--run", run, "--vs", "call", "--lbr-bets", "1").startswith(
        "holdemd: --lbr-bets applies to --lbr"
    )
    assert eval_error(capsys, "--run", str(tiny_run), "--lbr", "--lbr-bets", "pot").startswith(
        "holdemd: --lbr-bets pot: 'pot' is neither a pot fraction in (0, 20] nor 'allin'"
    )


@needs_jit
def test_heads_up_holdem_end_to_end(tmp_path, capsys):
    """A HUNL run: no exact evaluation, but head-to-head and LBR (loads the quick buckets)."""
    config = load_config(ROOT / "configs" / "hunl_quick.yaml")
    run = make_run(tmp_path / "hunl", config, (20_000,))
    err = eval_error(capsys, "--run", str(run))
    assert err == (
        f"holdemd: --run {run}: holdem has too many deals for an exact evaluation; "
        "measure it with --vs random,call or --lbr"
    )
    assert main(["eval", "--run", str(run), "--vs", "call", "--hands", "5000", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["actions"] == "sampled" and report["allin_ev"] is True
    assert report["results"][0]["exact"] is None and report["unit"] == "mbb/hand"
    assert main(["eval", "--run", str(run), "--lbr", "--hands", "100", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["lbr_preflop"] == "fold-call" and report["exact_exploitability"] is None
