"""Whole-table passes done a slice at a time give the same tables as done at once."""

from __future__ import annotations

import numpy as np

from holdemd.solver.tables import scale_rows
from holdemd.training.sweeps import Progress, TableSweeps


def test_passes_in_slices_equal_the_whole_pass_and_run_in_order() -> None:
    rng = np.random.default_rng(0)
    table = rng.normal(size=(1_000, 4))
    expected = (table * 0.5) + 1.0
    sweeps = TableSweeps(1_000, rows_per_chunk=7)
    order: list[str] = []

    def halve(lo: int, hi: int) -> None:
        order.append("halve")
        scale_rows(table, lo, hi, 0.5)

    def add_one(lo: int, hi: int) -> None:
        order.append("add")
        table[lo:hi] += 1.0

    sweeps.add(halve)
    sweeps.add(add_one)
    sweeps.step(0.0)  # one slice at least, however small the budget
    assert sweeps.busy and order == ["halve"]
    while sweeps.busy:
        sweeps.step(0.0)
    assert order.index("add") == order.count("halve")  # every halving slice before any add
    np.testing.assert_allclose(table, expected)


def test_finish_completes_everything_pending() -> None:
    table = np.ones((100, 2), dtype=np.int32) * 10
    sweeps = TableSweeps(100, rows_per_chunk=3)
    sweeps.add(lambda lo, hi: scale_rows(table, lo, hi, 0.5))
    sweeps.finish()
    assert not sweeps.busy
    assert (table == 5).all()


class _Waiting:
    """A pass whose I/O is ready only every other look, unless it is told to wait for it."""

    def __init__(self, slices: int) -> None:
        self.left = slices
        self.ready = False
        self.closed = False

    def advance(self, wait: bool) -> Progress:
        self.ready = not self.ready
        if not (self.ready or wait):
            return "waiting"
        self.left -= 1
        return "done" if self.left == 0 else "more"

    def close(self) -> None:
        self.closed = True


def test_a_waiting_pass_ends_the_step_and_finish_waits_for_it() -> None:
    sweeps = TableSweeps(10)
    waiting = _Waiting(3)
    sweeps.add_pass(waiting)
    sweeps.step(float("inf"))  # one slice, then "waiting": the step returns, not spins
    assert waiting.left == 2 and sweeps.busy
    sweeps.finish()
    assert waiting.left == 0 and not sweeps.busy


def test_close_abandons_what_is_pending() -> None:
    sweeps = TableSweeps(10)
    waiting = _Waiting(3)
    sweeps.add_pass(waiting)
    sweeps.close()
    assert waiting.closed and not sweeps.busy
