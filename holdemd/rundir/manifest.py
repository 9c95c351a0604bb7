"""What a snapshot records besides its arrays, and what a resumed run must agree with.

The manifest carries the config, the game's shape and abstraction digest, the counters a
resume carries on from, and (added by ``snapshot_write``) per-file checksums and its own checksum.
"""

from __future__ import annotations

from typing import Any

from holdemd import __version__
from holdemd.config.binder import dataclass_to_dict
from holdemd.config.schema import Config
from holdemd.errors import UsageError
from holdemd.games.compiled import Game

KIND = "holdemd-tables"  # manifest["kind"] of a training snapshot


def snapshot_manifest(
    config: Config, game: Game, *, iteration: int, elapsed: float, rng_state: int, sequence: int
) -> dict[str, Any]:
    """What a snapshot records besides its arrays: enough to resume and to refuse a mismatch."""
    return {
        "kind": KIND,
        "package_version": __version__,
        "game": game.name,
        "num_rows": game.num_rows,
        "abstraction_digest": game.abstraction_digest,  # resume refuses other bucket tables
        "max_actions": game.max_actions,
        "iteration": iteration,
        "sequence": sequence,  # snapshots written before this one; retention keys on it
        "elapsed_seconds": round(elapsed, 3),
        "seed": config.solver.seed,
        "rng_state": str(rng_state),  # uint64 as text: JSON numbers lose precision past 2**53
        "config": dataclass_to_dict(config),
    }


def check_resumable(saved: Config, wanted: Config, source: str) -> None:
    """Refuse to continue a run with a config that would change what the tables mean."""
    for section, why in (("game", "the game"), ("abstraction", "the card abstraction")):
        before = dataclass_to_dict(getattr(saved, section))
        after = dataclass_to_dict(getattr(wanted, section))
        if before != after:
            keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            raise UsageError(
                f"--resume {source}: {why} differs from the snapshot's ({section}."
                f"{', '.join(keys)}); resume with the run's own config, or start a new run"
            )
    for key in ("table_dtype", "regret_dtype"):
        was, now = (str(getattr(c.solver, key) or "null") for c in (saved, wanted))
        if was != now:
            raise UsageError(
                f"--resume {source}: solver.{key} is {now}, the snapshot's is {was}; "
                "resume with the run's own config, or start a new run"
            )


def check_abstraction(saved_digest: str | None, game: Game, source: str) -> None:
    """Refuse to continue a run whose card buckets were built differently (same name or not)."""
    if saved_digest != game.abstraction_digest:
        raise UsageError(
            f"--resume {source}: the card abstraction differs from the snapshot's (digest "
            f"{(saved_digest or 'none')[:12]} vs {(game.abstraction_digest or 'none')[:12]}); "
            "resume with the buckets the run was trained on, or start a new run"
        )
