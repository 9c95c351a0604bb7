"""The ranges config values must lie in, and why.

Each limit keeps a value inside what the code that uses it can hold (a 64-bit counter, an int8
action count), or refuses a value no run could mean (a year-long snapshot interval), so that the
mistake is one line at load time instead of a worker that cannot start a minute later.

``holdemd.config`` puts the numeric ones in its fields' ``min``/``max`` metadata, which
``holdemd.yaml_config`` checks and quotes; durations, schedule points and bet menus are not a
plain number, so their checks are here and the config calls them from ``__post_init__``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from holdemd.durations import parse_duration

INT64_MAX = 2**63 - 1
# Seeds travel to workers as msgpack integers and become numpy int64 / uint64 state.
MAX_SEED = INT64_MAX
# Iteration counters are int64 in the kernels and the supervisor; a quarter of the range leaves
# room for the batches that finish after the target is reached.
MAX_ITERATIONS = 2**62
# A batch is what a worker runs between two merges; the supervisor counts iterations, checks the
# budget and the schedule only when a batch arrives. Ten million is seconds of Kuhn or Leduc and
# far past any Hold'em buffer (a worker ships early when its delta buffer fills); the shipped
# configs use 2,000 to 100,000.
MAX_BATCH_SIZE = 10_000_000
# Below this a run still works, but the supervisor merges so often that training slows down;
# run set-up warns (training.plan.warn_if_small_batch).
SMALL_BATCH_SIZE = 1_000

MAX_STACK_BB = 10_000.0  # a million chips; deeper is no longer a poker decision we model
MAX_ANTE_BB = 10.0
# A node's actions are stored as int8 and every one is a column of the tables: fold, call, the
# sizes and all-in must stay far below 127.
MAX_SIZES_PER_DEPTH = 16
MAX_RAISES_PER_STREET = 20  # also the most raise depths a street's menu may list

MAX_DURATION_SECONDS = 366 * 86_400.0  # a year: longer is a typo in the unit
MAX_PROGRESS_INTERVAL = 86_400.0
MAX_KEEP_SNAPSHOTS = 10_000
MAX_KEEP_EVERY = 1_000_000
MAX_EVAL_DEALS = 10_000_000  # duplicate deals of one evaluation: minutes already at a million
MAX_QUALITY_RGBR_BOARDS = 10_000  # RGBR boards per quality evaluation: ~3 s per turn board on
# hunl_quick, so this is already hours; more is a typo
# Prune thresholds and regret floors are multiples of the utility scale; they must be finite.
MIN_REGRET_MULTIPLE = -1e9


def check_duration(key: str, value: float | str) -> float:
    """Seconds in ``value`` (``600``, ``10m``, ``8h``); ValueError naming ``key`` unless it is a
    duration between 0 and :data:`MAX_DURATION_SECONDS`."""
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    if not seconds <= MAX_DURATION_SECONDS:  # also refuses NaN, which compares false
        raise ValueError(f"{key} must be between 0 and 366 days (31,622,400 s), got {value!r}")
    return seconds


def check_clock_value(key: str, unit: str, value: float) -> None:
    """A schedule point or period: at most a year of training, or :data:`MAX_ITERATIONS`."""
    if unit == "iterations":
        if not (math.isfinite(value) and value <= MAX_ITERATIONS):
            raise ValueError(f"{key} must be at most {MAX_ITERATIONS:,} iterations, got {value:g}")
    elif not value <= MAX_DURATION_SECONDS:
        raise ValueError(f"{key} must be between 0 and 366 days (31,622,400 s), got {value:g} s")


def check_menu(street: str, menu: Sequence[Sequence[float]]) -> None:
    """One street's bet menu: pot fractions in (0, 20], at most :data:`MAX_SIZES_PER_DEPTH` per
    raise depth and :data:`MAX_RAISES_PER_STREET` depths."""
    if len(menu) > MAX_RAISES_PER_STREET:
        raise ValueError(
            f"{street} lists {len(menu)} raise depths; at most {MAX_RAISES_PER_STREET} "
            "(max_raises allows no more)"
        )
    for depth, fractions in enumerate(menu):
        if len(fractions) > MAX_SIZES_PER_DEPTH:
            raise ValueError(
                f"{street}[{depth}] lists {len(fractions)} sizes; at most "
                f"{MAX_SIZES_PER_DEPTH} per raise depth (each is an action, i.e. a table column, "
                "at every node of that depth)"
            )
        for fraction in fractions:
            if not 0.0 < fraction <= 20.0:
                raise ValueError(f"{street}: {fraction} is not a pot fraction in (0, 20]")
