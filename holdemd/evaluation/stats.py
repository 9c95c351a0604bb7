"""Estimates with 95% confidence intervals, over duplicate deals, in the game's unit.

A deal played once per seat is one observation (the mean of its plays): the plays of a deal
share its cards and are not independent, so an interval over single hands would be wrong. The
interval is the normal one, mean ± 1.96 standard errors, fine for the thousands of deals an
evaluation uses. For comparison the estimate also carries the half-width the same number of
hands would give if every hand were an independent deal (no duplicate pairing), and, where AIVAT
applies (`holdemd.evaluation.aivat`), the AIVAT estimate from the same deals with the ratio of
the two per-deal variances (how many times fewer deals AIVAT needs for the same interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from holdemd.config.schema import CHIPS_PER_BB
from holdemd.games.compiled import Game
from holdemd.games.kinds import game_kind

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Unit:
    name: str  # e.g. "mbb/hand"
    per_chip: float  # units per chip

    @classmethod
    def of(cls, game: Game) -> Unit:
        """Hold'em: milli-big-blinds per hand; Kuhn and Leduc: chips per game."""
        if game_kind(game.name).holdem:
            return cls("mbb/hand", 1000.0 / CHIPS_PER_BB)
        return cls("chips/game", 1.0)


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float  # 95% interval: mean ± half_width
    deals: int
    plays_per_deal: int
    half_width_single: float  # the half-width without duplicate pairing, for comparison
    unit: str
    aivat: Estimate | None = None  # the same deals with AIVAT's corrections
    variance_ratio: float | None = None  # per-deal variance without AIVAT / with it

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def as_dict(self) -> dict[str, Any]:
        aivat: dict[str, Any] = {}
        if self.aivat is not None:
            aivat["aivat"] = {
                "mean": self.aivat.mean,
                "ci95": self.aivat.half_width,
                "low": self.aivat.low,
                "high": self.aivat.high,
            }
            aivat["variance_ratio"] = self.variance_ratio
        return {
            "mean": self.mean,
            "ci95": self.half_width,
            "low": self.low,
            "high": self.high,
            "ci95_without_duplicate": self.half_width_single,
            "deals": self.deals,
            "hands": self.deals * self.plays_per_deal,
            "unit": self.unit,
            **aivat,
        }

    def text(self, digits: int = 1) -> str:
        return f"{self.mean:+.{digits}f} ± {self.half_width:.{digits}f} {self.unit}"


def _half_width(values: np.ndarray) -> float:
    if values.shape[0] < 2:
        return math.inf
    return float(Z95 * values.std(ddof=1) / math.sqrt(values.shape[0]))


def duplicate_estimate(values: np.ndarray, unit: Unit) -> Estimate:
    """The estimate of ``values`` [deals, plays per deal] (chips), converted to ``unit``."""
    scaled = np.asarray(values, dtype=np.float64) * unit.per_chip
    per_deal = scaled.mean(axis=1)
    return Estimate(
        mean=float(per_deal.mean()),
        half_width=_half_width(per_deal),
        deals=int(scaled.shape[0]),
        plays_per_deal=int(scaled.shape[1]),
        half_width_single=_half_width(scaled.reshape(-1)),
        unit=unit.name,
    )


def aivat_estimate(plain: np.ndarray, corrected: np.ndarray, unit: Unit) -> Estimate:
    """The plain estimate of ``plain`` [deals, plays per deal] (chips) carrying the AIVAT
    estimate of ``corrected`` (the same deals with AIVAT's corrections)."""
    estimate = duplicate_estimate(plain, unit)
    with_aivat = duplicate_estimate(corrected, unit)
    plain_variance = float(np.asarray(plain, dtype=np.float64).mean(axis=1).var())
    aivat_variance = float(np.asarray(corrected, dtype=np.float64).mean(axis=1).var())
    ratio = plain_variance / aivat_variance if aivat_variance > 0.0 else None  # e.g. self-play
    return replace(estimate, aivat=with_aivat, variance_ratio=ratio)
