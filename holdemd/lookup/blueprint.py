"""The blueprint a look-up reads: a snapshot's average strategy, one infoset row at a time.

Rows are normalized by `holdemd.solver.tables.normalize_block`, as ``average_strategy`` does
(negative sums count as zero; a row never updated is uniform), but only the rows asked for: a Hold'em table
has hundreds of thousands of rows and a look-up needs one, or 169 for a chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from holdemd.game_factory import nolimit_rules
from holdemd.games import Game
from holdemd.lookup.tree import BettingTree
from holdemd.solver.tables import normalize_block


@dataclass(frozen=True)
class Blueprint:
    game: Game
    tree: BettingTree
    strategy_sum: np.ndarray  # [rows, max_actions]
    snapshot: str = ""  # the snapshot's name
    iteration: int | None = None

    @classmethod
    def from_run(cls, run_dir: Path, snapshot: str | None = None) -> Blueprint:
        from holdemd.runs import load_snapshot

        loaded = load_snapshot(run_dir, snapshot)
        config = loaded.config.game
        rules = nolimit_rules(config) if config.name.startswith("holdem") else None
        iteration = loaded.manifest.get("iteration")
        return cls(
            game=loaded.game,
            tree=BettingTree(loaded.game, rules),
            strategy_sum=loaded.tables.strategy_sum,
            snapshot=loaded.info.name,
            iteration=iteration if isinstance(iteration, int) else None,
        )

    def describe(self) -> str:
        done = f" ({self.iteration:,} iterations)" if self.iteration is not None else ""
        return f"{self.game.name}, snapshot {self.snapshot}{done}"

    def probabilities(self, node: int, buckets: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities [len(buckets), legal actions], trained [len(buckets)]) at ``node``.

        ``trained`` is False for rows whose strategy sum is all zero: training never reached
        them (with these cards), and the strategy shown is the uniform default.
        """
        a = self.game.arrays
        n = int(a.node_num_actions[node])
        rows = int(a.node_row_base[node]) + np.atleast_1d(np.asarray(buckets, dtype=np.int64))
        weights = self.strategy_sum[rows, :n]
        probs = normalize_block(weights, np.ones(weights.shape, dtype=np.bool_))
        return probs, np.asarray((weights > 0).any(axis=1))
