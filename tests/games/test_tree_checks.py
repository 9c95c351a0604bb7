"""A tree is counted before it is built: `holdemd tree` prints the count first, and run set-up
refuses a tree or tables that would not fit in memory, naming the estimate, without building."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from holdemd.cli import main
from holdemd.errors import UsageError
from holdemd.games import factory as game_factory
from holdemd.games import holdem, tree_size
from holdemd.games import report as tree_report
from holdemd.training.plan import plan_run

ROOT = Path(__file__).resolve().parents[2]
# Six players, one pot-sized bet per street, two raises per street: 3,381,072 nodes, past the
# 3,000,000 the old tree builder handled, and counted in a few hundredths of a second.
SIX_MAX_POT = """\
game:
  name: holdem
  players: 6
  bet_sizes: {preflop: [[1.0]], flop: [[1.0]], turn: [[1.0]], river: [[1.0]]}
  max_raises: {preflop: 2, flop: 2, turn: 2, river: 2}
"""
# hunl_quick's menu for six players: 115,334,632 nodes, a 19.4 GiB tree and 100.6 GiB of tables.
SIX_MAX_QUICK_MENU = """\
game:
  name: holdem
  players: 6
  bet_sizes:
    preflop: [[0.5, 1.0], [1.0]]
    flop: [[0.5, 1.0], [1.0]]
    turn: [[0.5, 1.0]]
    river: [[0.5, 1.0]]
"""
GIB = 2**30


@pytest.fixture
def no_building(monkeypatch):
    """Make any attempt to build a game fail the test: refusals must come from the count."""

    def refuse(*args, **kwargs):
        raise AssertionError("the tree was built")

    monkeypatch.setattr(game_factory, "build_game", refuse)
    monkeypatch.setattr(tree_report, "build_game_arrays", refuse)
    monkeypatch.setattr(holdem, "build_game_arrays", refuse)


@pytest.fixture
def six_max(tmp_path) -> Path:
    path = tmp_path / "six.yaml"
    path.write_text(SIX_MAX_QUICK_MENU)
    return path


@pytest.fixture
def memory(monkeypatch):
    """16 GiB available, whatever this machine has: the messages name it."""
    monkeypatch.setattr(tree_report, "available_memory", lambda: 16 * GIB)


def test_a_tree_that_does_not_fit_is_refused_without_building(
    tmp_path, six_max, no_building, memory
):
    with pytest.raises(UsageError) as error:
        plan_run(six_max, {}, logdir=tmp_path / "run")
    assert str(error.value) == (
        f"{six_max}: the tables need 100.6 GiB (2,700,310,100 infoset rows x 5 actions x 2 "
        "tables) plus 132.0 MiB of card buckets and 19.4 GiB for the betting tree (115,334,632 "
        "nodes, counted without building it), but only 16.0 GiB of memory is available; use "
        "fewer buckets, a smaller bet menu or lower max_raises "
        f"(see `holdemd tree --config {six_max}`)"
    )
    assert not (tmp_path / "run").exists()


def test_a_tree_past_the_old_node_limit_is_accepted_when_it_fits(tmp_path, memory):
    config = tmp_path / "six.yaml"
    config.write_text(SIX_MAX_POT)  # 3.4M nodes: 0.5 GiB of tree, 2.4 GiB of tables
    plan = plan_run(config, {}, logdir=tmp_path / "run")
    assert plan.config.game.players == 6


def test_a_tree_too_varied_to_count_is_refused_by_what_was_counted(
    tmp_path, six_max, no_building, monkeypatch
):
    monkeypatch.setattr(tree_size, "MAX_COUNTED_STATES", 50_000)
    monkeypatch.setattr(tree_report, "available_memory", lambda: GIB)
    with pytest.raises(UsageError) as error:
        plan_run(six_max, {}, logdir=tmp_path / "run")
    assert str(error.value).startswith(
        f"{six_max}: the betting tree has more than 12,762,553 nodes (counting stopped after "
        "50,000 betting states), more than 1.7 GiB to build, but only 1.0 GiB of memory is "
        "available"
    )


def test_a_count_that_stops_short_of_the_limit_leaves_the_decision_to_the_builder(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(tree_size, "MAX_COUNTED_STATES", 10)
    plan = plan_run(ROOT / "configs" / "hunl_quick.yaml", {}, logdir=tmp_path / "run")
    assert plan.config.game.name == "holdem"


def test_tables_that_do_not_fit_are_refused_without_building(tmp_path, no_building, monkeypatch):
    monkeypatch.setattr(tree_report, "available_memory", lambda: 50 * 2**20)
    config = ROOT / "configs" / "hunl_mid.yaml"
    with pytest.raises(UsageError) as error:
        plan_run(config, {}, logdir=tmp_path / "run")
    assert str(error.value).startswith(
        f"{config}: the tables need 95.4 MiB (2,501,932 infoset rows x 5 actions x 2 tables)"
    )


def test_train_refuses_a_tree_that_does_not_fit_in_one_line(
    tmp_path, capsys, six_max, no_building, memory
):
    assert main(["train", "--config", str(six_max), "--logdir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"holdemd: {six_max}: the tables need 100.6 GiB")
    assert not (tmp_path / "run").exists()


def test_tree_prints_the_count_then_builds_to_confirm_it(capsys):
    assert main(["tree", "--config", str(ROOT / "configs" / "hunl_quick.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "holdem: 11,346 nodes, up to 5 actions per node (counted without building the tree)"
    )
    assert out[-2].startswith("betting tree: ")
    assert out[-1] == "built the tree: 11,346 nodes, 220,780 infoset rows, as counted"


def test_tree_prints_only_the_count_of_a_tree_that_does_not_fit(
    capsys, six_max, no_building, memory
):
    assert main(["tree", "--config", str(six_max)]) == 2
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[0] == (
        "holdem: 115,334,632 nodes, up to 5 actions per node (counted without building the tree)"
    )
    assert out[-1] == "betting tree: 19.4 GiB (node arrays and histories)"
    err = captured.err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"holdemd: {six_max}: the tables need 100.6 GiB")
    assert "19.4 GiB for the betting tree (115,334,632 nodes, counted" in err[0]


def test_tree_json_is_the_count(capsys, six_max, no_building, memory):
    assert main(["tree", "--config", str(six_max), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["counted"] is True and data["nodes"] == 115_334_632
    streets = data["streets"]
    assert sum(s["decision_nodes"] + s["terminal_nodes"] for s in streets) == 115_334_632
    assert data["max_actions"] == 5
    assert 19 * GIB < data["tree_bytes"] < 20 * GIB
