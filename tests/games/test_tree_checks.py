"""A tree is counted before it is built: `holdemd tree` prints the count first, and run set-up
refuses a tree or tables that would not fit in memory, naming the estimate, without building."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Literal

import pytest

from holdemd.cli import main
from holdemd.config.loader import load_config
from holdemd.errors import UsageError
from holdemd.games import factory as game_factory
from holdemd.games import holdem, memory_check, tree_size
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
# hunl_quick's menu for six players: 115,334,632 nodes, a 19.4 GiB tree and 100.6 GiB of dense
# tables (solver.tables auto: lazy ones, 43.1 GiB with every block, 1.7 GiB of block offsets).
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
    monkeypatch.setattr(memory_check, "available_memory", lambda: 16 * GIB)


def test_a_tree_that_does_not_fit_is_refused_without_building(
    tmp_path, six_max, no_building, memory
):
    with pytest.raises(UsageError) as error:
        plan_run(six_max, {}, logdir=tmp_path / "run")
    assert str(error.value) == (
        f"{six_max}: the lazy tables need 2.7 GiB at the start (1.7 GiB of block offsets and a "
        "first 1.0 GiB of blocks), plus 132.0 MiB of "
        "card buckets and 19.4 GiB for the betting tree (115,334,632 nodes, counted without "
        "building it), but only 16.0 GiB of memory is available; use fewer bet sizes, lower "
        f"max_raises or fewer players (see `holdemd tree --config {six_max}`)"
    )
    assert not (tmp_path / "run").exists()


def test_dense_tables_that_do_not_fit_are_refused_with_their_snapshot_copy(
    tmp_path, no_building, memory
):
    config = tmp_path / "six.yaml"
    config.write_text(SIX_MAX_QUICK_MENU + "solver:\n  tables: dense\n")
    with pytest.raises(UsageError) as error:
        plan_run(config, {}, logdir=tmp_path / "run")
    assert str(error.value) == (
        f"{config}: the tables need 100.6 GiB (2,700,310,100 infoset rows x 5 actions x 2 "
        "tables), twice that while a snapshot copies them, plus 132.0 MiB of card buckets and "
        "19.4 GiB for the betting tree (115,334,632 nodes, counted without building it), but "
        "only 16.0 GiB of memory is available; use fewer buckets, a smaller bet menu, lower "
        f"max_raises or solver.tables: lazy (see `holdemd tree --config {config}`)"
    )


@pytest.mark.parametrize("tables", ["dense", "lazy", "auto"])
def test_lazy_tables_are_accepted_where_dense_ones_would_not_fit(tmp_path, tables):
    # SIX_MAX_POT: a 0.5 GiB tree and 2.4 GiB of dense tables, twice that with a snapshot's
    # copy: 6.4 GiB in all. Lazy ones start with 52 MiB of block offsets and a first GiB of
    # blocks, and a snapshot writes them without a copy: 2.7 GiB in all, whatever the dense
    # tables would be.
    config = tmp_path / "six.yaml"
    config.write_text(SIX_MAX_POT + f"solver:\n  tables: {tables}\n")
    report = tree_report.count_for(load_config(config))
    assert report.dense_table_bytes > 2 * GIB  # so auto chooses lazy tables
    lazy = tables != "dense"
    assert report.table_kind == ("lazy" if lazy else "dense")
    if lazy:
        memory_check.check_fits(report, str(config), available=5 * GIB)
        expected = r"the lazy tables need 1\.1 GiB at the start \(51\.6 MiB of block offsets"
    else:
        with pytest.raises(UsageError, match=r"but only 5\.0 GiB of memory is available"):
            memory_check.check_fits(report, str(config), available=5 * GIB)
        expected = r"the tables need 2\.4 GiB \(.*\), twice that while a snapshot copies them"
    # Lazy tables too need room for the tree, the card tables and a first working set.
    with pytest.raises(UsageError, match=expected):
        memory_check.check_fits(report, str(config), available=(2 if lazy else 3) * GIB)


def test_the_compact_size_is_what_lazy_tables_allocate_for_every_node():
    # Against the lazy tables' own geometry on a built game: every node's block, buckets x
    # legal actions; with first_round averaging, strategy sums on preflop nodes only.
    from holdemd.games.factory import build_game
    from holdemd.solver.lazy_tables import NodeBlocks, compact_entries

    base = load_config(ROOT / "configs" / "hunl_quick.yaml")
    game = build_game(base.game, base.abstraction.buckets)
    blocks = NodeBlocks.of(game)
    preflop = int(blocks.block_entries[blocks.street == 0].sum())
    cases: list[tuple[Literal["all", "first_round"], Literal["float64", "int32"], int]] = [
        ("all", "float64", compact_entries(game)),
        ("first_round", "int32", preflop),
    ]
    for average, regret_dtype, strategy_entries in cases:
        config = dataclasses.replace(
            base,
            solver=dataclasses.replace(base.solver, regret_dtype=regret_dtype, tables="lazy"),
            schedule=dataclasses.replace(base.schedule, average=average),
        )
        counted = tree_report.count_for(config)
        built = tree_report.game_report(game, config=config)
        regret = 8 if regret_dtype == "float64" else 4
        expected = compact_entries(game) * regret + strategy_entries * 4  # float32 sums
        assert counted.compact_table_bytes == built.compact_table_bytes == expected
        assert counted.table_kind == built.table_kind == "lazy"
        assert counted.block_offset_bytes == 2 * 8 * game.arrays.node_row_base.shape[0]
    # Without a config (run.py's call before lazy tables): dense, as before.
    assert tree_report.game_report(game, 6).table_kind == "dense"


def test_a_tree_past_the_old_node_limit_is_accepted_when_it_fits(tmp_path, memory):
    config = tmp_path / "six.yaml"
    config.write_text(SIX_MAX_POT)  # 3.4M nodes: 0.5 GiB of tree, 2.4 GiB of dense tables
    plan = plan_run(config, {}, logdir=tmp_path / "run")
    assert plan.config.game.players == 6


def test_a_tree_too_varied_to_count_is_refused_by_what_was_counted(
    tmp_path, six_max, no_building, monkeypatch
):
    monkeypatch.setattr(tree_size, "MAX_COUNTED_STATES", 50_000)
    monkeypatch.setattr(memory_check, "available_memory", lambda: GIB)
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
    monkeypatch.setattr(memory_check, "available_memory", lambda: 50 * 2**20)
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
    assert len(err) == 1
    assert err[0].startswith(f"holdemd: {six_max}: the lazy tables need 2.7 GiB at the start")
    assert not (tmp_path / "run").exists()


def test_tree_prints_the_count_then_builds_to_confirm_it(capsys):
    assert main(["tree", "--config", str(ROOT / "configs" / "hunl_quick.yaml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "holdem: 11,346 nodes, up to 5 actions per node (counted without building the tree)"
    )
    assert out[-7:-1] == [
        "infoset rows 220,780 x 5 actions: dense tables 8.4 MiB (regret + strategy sum, float32)",
        "lazy tables: up to 4.4 MiB with every node's block allocated (legal actions only), "
        "plus 177.3 KiB of block offsets",
        "this config keeps dense tables (solver.tables: auto, the dense tables are at most "
        "2.0 GiB)",
        "card abstraction tables: 132.0 MiB",
        "betting tree: 1.6 MiB (node arrays and histories)",
        "a run needs at least 1.1 GiB (betting tree, card tables, the dense tables, twice (a "
        "snapshot's copy), 1.0 GiB for the processes)",
    ]
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
    assert out[-2] == "betting tree: 19.4 GiB (node arrays and histories)"
    assert out[-1].startswith("a run needs at least 23.3 GiB (betting tree, card tables, ")
    err = captured.err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"holdemd: {six_max}: the lazy tables need 2.7 GiB at the start")
    assert "19.4 GiB for the betting tree (115,334,632 nodes, counted" in err[0]


def test_tree_json_is_the_count(capsys, six_max, no_building, memory):
    assert main(["tree", "--config", str(six_max), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["counted"] is True and data["nodes"] == 115_334_632
    streets = data["streets"]
    assert sum(s["decision_nodes"] + s["terminal_nodes"] for s in streets) == 115_334_632
    assert data["max_actions"] == 5
    assert 19 * GIB < data["tree_bytes"] < 20 * GIB
    assert data["table_kind"] == "lazy" and data["tables_setting"] == "auto"
    assert data["dense_table_bytes"] == 2_700_310_100 * 5 * 8
    assert sum(s["legal_actions"] for s in streets) == 115_334_632 - 1
    entries = sum(s["buckets"] * s["legal_actions"] for s in streets)
    assert data["compact_table_bytes"] == entries * 8  # float32 regrets and strategy sums
    assert data["block_offset_bytes"] == 115_334_632 * 16
    assert data["memory_needed_bytes"] > data["available_memory_bytes"] == 16 * GIB
    # Lazy tables: a snapshot is written from the shared tables, no copy.
    assert data["memory_fully_grown_bytes"] == data["memory_fully_grown_snapshot_bytes"]


def test_6max_pluribus_fits_as_its_comments_say(tmp_path, no_building, memory):
    # Counted, not built (building its 15.3M nodes takes about 25 s): the figures its comments
    # quote from `holdemd tree`, and a run of it is accepted.
    from holdemd.durations import format_bytes

    path = ROOT / "configs" / "6max_pluribus.yaml"
    config = load_config(path)
    report = tree_report.count_for(config)
    assert report.table_kind == "lazy" and report.strategy_streets == 1  # first_round
    assert report.later_sums_bytes > 0
    assert 10_000_000 <= report.nodes <= 20_000_000
    comments = " ".join(
        line.lstrip("# ") for line in path.read_text().splitlines() if line.startswith("#")
    )
    for figure in (
        f"{report.nodes:,} nodes",
        f"a {format_bytes(report.tree_bytes)} tree",
        f"{report.rows:,} infoset rows",
        f"Dense tables would be {format_bytes(report.dense_table_bytes)}",
        f"up to {format_bytes(report.compact_table_bytes)} with every node's block",
        f"at least {format_bytes(report.memory_needed)}",
        f"it holds {format_bytes(report.memory_fully_grown)}",
        f"in a file on disk, up to {format_bytes(report.later_sums_bytes)}",
    ):
        assert figure in comments
    # Fully grown tables fit a 24 GB machine; dense ones could not.
    assert report.memory_fully_grown < 24 * 10**9 < report.dense_table_bytes
    memory_check.check_fits(report, str(path), available=8 * GIB)
    assert plan_run(path, {}, logdir=tmp_path / "run").config.solver.tables == "lazy"
