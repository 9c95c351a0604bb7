"""The iterations/s shown in progress lines and status."""

from __future__ import annotations

import pytest

from holdemd.training.rate import RateMeter


def test_bursty_merges_give_a_steady_rate_not_zero_between_bursts() -> None:
    meter = RateMeter(window=10.0)
    rates = []
    # A merge of 200,000 iterations every 2 s, sampled every 0.1 s: 100,000 it/s.
    for tick in range(1, 301):
        now = tick * 0.1
        rates.append(meter.add(now, 200_000 * int(now // 2.0)))
    settled = rates[120:]  # after the first full window
    assert min(settled) > 75_000 and max(settled) < 125_000
    assert 0.0 not in settled


def test_the_rate_needs_a_second_of_samples_and_a_reset_forgets_them() -> None:
    meter = RateMeter()
    assert meter.add(0.0, 0) == 0.0
    assert meter.add(0.5, 500) == 0.0  # less than a second: no rate yet
    assert meter.add(1.0, 1000) == pytest.approx(1000.0)
    meter.reset()
    assert meter.rate == 0.0
    assert meter.add(5.0, 1000) == 0.0
