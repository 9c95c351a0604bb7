"""The card abstraction as training sees it: one bucket table per street, and its identity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from holdemd.errors import ExitCode, HoldemdError

STREETS: tuple[str, ...] = ("preflop", "flop", "turn", "river")


class AbstractionError(HoldemdError):
    """A bucket file is missing, corrupt, or does not fit the run; the message names the file
    and the command that fixes it."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class CardAbstraction:
    """Buckets of every hand, per street.

    ``tables[s][index]`` is the bucket of the hand whose suit-isomorphic index on street ``s``
    is ``index`` (:func:`holdemd.cards.index_hand`); buckets are ``0 .. counts[s] - 1``,
    ordered from weakest to strongest on every postflop street. Preflop is lossless:
    ``tables[0] == arange(169)``. All tables share one dtype, uint8 when every count fits,
    else uint16.
    """

    counts: tuple[int, int, int, int]
    tables: tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]
    digest: str
    manifest: dict[str, Any]


def table_dtype(counts: tuple[int, ...]) -> type[np.unsignedinteger[Any]]:
    """The shared dtype of the bucket tables: uint8 if every count is at most 256."""
    return np.uint8 if max(counts) <= 256 else np.uint16


def check_compatible(
    abstraction: CardAbstraction, expected_counts: tuple[int, ...], source: str
) -> None:
    """Raise :class:`AbstractionError` naming ``source`` if the bucket counts differ.

    ``source`` is what the expected counts came from (a config file and key, a snapshot), so
    the message says which side to change.
    """
    expected = tuple(int(c) for c in expected_counts)
    if expected == abstraction.counts:
        return
    from pathlib import Path

    from holdemd.abstraction.presets import preset_for_counts
    from holdemd.abstraction.store import display_path

    have = "/".join(map(str, abstraction.counts))
    want = "/".join(map(str, expected))
    file = abstraction.manifest.get("file")
    file = display_path(Path(file)) if isinstance(file, str) else "the bucket file"
    preset = preset_for_counts(expected)
    fix = (
        f"load the `{preset}` buckets instead (if missing: `holdemd buckets build --preset "
        f"{preset}`)"
        if preset
        else "change the counts to a preset's (quick: 169/50/50/50, mid: 169/200/200/200; "
        "`holdemd buckets build --preset quick|mid`)"
    )
    raise AbstractionError(
        f"{source}: expects {want} buckets per street but {file} has {have}; {fix}"
    )
