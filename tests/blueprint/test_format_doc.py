"""docs/blueprint.md is enough to read a blueprint: a reader written from it with struct, json,
hashlib and numpy only (no holdemd) gets the same rows, actions and amounts as the API."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from holdemd import Blueprint
from holdemd.blueprint.export import export_blueprint
from holdemd.blueprint.ranges import range_strings
from holdemd.rundir.load import load_snapshot
from tests.lookup.games import HU_RULES, hu_game, random_blueprint, tiny_config, write_run


class DocReader:
    """Only what docs/blueprint.md says."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        magic, version, header, size, offset, length, digest = struct.unpack_from(
            "<8sIIQQQ32s", data, 0
        )
        assert magic == b"HOLDEMBP" and version == 1 and header == 128 and size == len(data)
        body = data[offset : offset + length]
        assert hashlib.sha256(body).digest() == digest
        self.manifest = json.loads(body)
        self.arrays = {}
        for name, entry in self.manifest["sections"].items():
            raw = data[entry["offset"] : entry["offset"] + entry["length"]]
            assert entry["offset"] % 64 == 0 and hashlib.sha256(raw).hexdigest() == entry["sha256"]
            dtype = np.dtype(entry["dtype"])
            self.arrays[name] = np.frombuffer(raw, dtype=dtype).reshape(entry["shape"])
        offsets, blob = self.arrays["strings_offsets"], self.arrays["strings_bytes"].tobytes()
        self.pool = [blob[offsets[i] : offsets[i + 1]].decode() for i in range(len(offsets) - 1)]

    def row(self, node: int, bucket: int) -> tuple[np.ndarray, bool]:
        a = self.arrays
        k = int(a["node_num_actions"][node])
        start = int(a["node_prob_offset"][node]) + bucket * k
        scale = self.manifest["strategy"]["scale"]
        probs = a["probabilities"][start : start + k] / scale
        row = int(a["node_row_base"][node]) + bucket
        return probs, bool((a["trained"][row >> 3] >> (row & 7)) & 1)

    def follow(self, tokens: list[str]) -> int:
        a, node = self.arrays, 0
        for token in tokens:
            k = int(a["node_num_actions"][node])
            names = [self.pool[int(a["action_token"][node, i])] for i in range(k)]
            node = int(a["node_children"][node, names.index(token)])
        return node

    def amounts(self, node: int) -> list[tuple[float | None, float | None]]:
        a = self.arrays
        p = int(a["node_player"][node])
        c = a["node_contrib"][node].astype(float)
        top, to_call = c.max(), c.max() - c[p]
        unit = self.manifest["game"]["chips_per_unit"]
        out = []
        for i in range(int(a["node_num_actions"][node])):
            amount = float(a["node_action_amount"][node, i])
            kind = int(a["node_action_kind"][node, i])
            street_total = (amount - float(a["node_street_start"][node, p])) / unit
            fraction = (amount - top) / (c.sum() + to_call)
            out.append((None if kind == 0 else street_total, fraction if kind == 2 else None))
        return out


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("tiny") / "run"
    write_run(run, tiny_config(), 3000)
    path = run.parent / "tiny.bp"
    export_blueprint(load_snapshot(run), path)
    return path


def test_a_reader_written_from_the_doc_agrees_with_the_api(tiny_file):
    doc = DocReader(tiny_file)
    blueprint = Blueprint.open(tiny_file)
    game = blueprint.tree.game
    histories = {0: ""}
    for node in range(game.num_nodes):  # the tree's own histories from action_step
        a = doc.arrays
        for i in range(int(a["node_num_actions"][node])):
            child = int(a["node_children"][node, i])
            histories[child] = histories[node] + doc.pool[int(a["action_step"][node, i])]
    assert tuple(histories[n] for n in range(game.num_nodes)) == game.histories
    for node in game.decision_nodes():
        decision = blueprint.decision_at(int(node))
        tokens = decision.history.replace("/", " ").split()
        assert doc.follow(tokens) == node
        assert doc.amounts(int(node)) == [(a.amount_bb, a.pot_fraction) for a in decision.actions]
        for bucket in range(0, int(game.arrays.street_buckets[decision.street]), 5):
            probs, trained = doc.row(int(node), bucket)
            expected = blueprint.strategy_at(int(node), bucket)
            np.testing.assert_array_equal(probs, expected.probabilities)
            assert trained == expected.trained
            assert abs(probs.sum() - 1.0) < 1e-12


# postflop-solver's range syntax (b-inary/postflop-solver, src/range.rs): a combo or a class,
# the first rank not below the second, and an optional weight in [0, 1].
_COMBO = r"(?:(?:[AKQJT2-9]{2}[os]?)|(?:(?:[AKQJT2-9][cdhs]){2}))"
_TOKEN = re.compile(rf"^{_COMBO}(?::(?:(?:[01](\.\d*)?)|(?:\.\d+)))?$")
_RANKS = "23456789TJQKA"


def test_range_strings_parse_as_postflop_solver_ranges():
    blueprint = random_blueprint(hu_game(flop_buckets=3), HU_RULES, seed=4)
    for history, board in [("", ""), ("r3 c / k", "AhKd7c")]:
        table = blueprint.strategies(history, board=board)
        reach = blueprint.range(history, board=board).reach[table.decision.player]
        for text in range_strings(blueprint, table, reach).values():
            for token in text.split(","):
                assert _TOKEN.match(token), token
                name = token.split(":")[0]
                first, second = name[0], name[2] if len(name) == 4 else name[1]
                assert _RANKS.index(first) >= _RANKS.index(second), token
