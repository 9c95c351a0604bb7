"""Named bucket configurations (``quick``, ``mid``) and the method string that identifies
how a set of tables was made."""

from __future__ import annotations

from dataclasses import dataclass

from holdemd.abstraction.model import AbstractionError

#: Bumped when the construction changes in a way that changes the tables for the same inputs.
METHOD_VERSION = 2  # 2: the training sample is dealt with kernels.deal.draw_cards


@dataclass(frozen=True)
class Preset:
    """How to build one abstraction.

    ``bins``: equity bins of the flop/turn histograms. ``*_sample``: random deals the
    k-medians are fitted on (the full street is then assigned). ``iterations`` and
    ``tolerance``: Lloyd iterations stop at that count, or when the sample objective improves
    by less than that fraction.
    """

    name: str
    counts: tuple[int, int, int, int]
    bins: int
    flop_sample: int
    turn_sample: int
    iterations: int
    tolerance: float
    budget: str  # what the issue promises, shown in help and the benchmark

    @property
    def method(self) -> str:
        """Everything besides the seed and the counts that determines the tables."""
        return (
            f"holdemd-buckets/{METHOD_VERSION}: preflop lossless 169; "
            f"flop+turn EMD k-medians++ on {self.bins}-bin final-equity CDFs "
            f"(flop sample {self.flop_sample}, turn sample {self.turn_sample}, "
            f"<= {self.iterations} Lloyd iterations, tol {self.tolerance:g}); "
            "river equal-mass equity vs random hand"
        )


PRESETS: dict[str, Preset] = {
    "quick": Preset(
        name="quick",
        counts=(169, 50, 50, 50),
        bins=50,
        flop_sample=500_000,
        turn_sample=1_000_000,
        iterations=40,
        tolerance=1e-4,
        budget="under 2 minutes on 2 cores",
    ),
    "mid": Preset(
        name="mid",
        counts=(169, 200, 200, 200),
        bins=50,
        flop_sample=2_000_000,
        turn_sample=4_000_000,
        iterations=100,
        tolerance=1e-5,
        budget="under 30 minutes and 8 GB on 2 cores",
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        known = ", ".join(PRESETS)
        raise AbstractionError(f"unknown bucket preset {name!r}; choose one of: {known}") from None


def preset_for_counts(counts: tuple[int, ...]) -> str | None:
    """Name of the preset with these counts, if any."""
    for preset in PRESETS.values():
        if preset.counts == tuple(counts):
            return preset.name
    return None
