"""Durations as people write them (``90``, ``30m``, ``8h``, ``1h30m``), and sizes for humans."""

from __future__ import annotations

import re

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(value: float | int | str) -> float:
    """Seconds in ``value``; raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a duration; use seconds or e.g. 90s, 30m, 8h, 1h30m")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"'{value}' is not a duration; use seconds or e.g. 90s, 30m, 8h, 1h30m"
                ) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < 0:
        raise ValueError(f"'{value}' is negative; a duration must be 0 or more")
    return seconds


def format_duration(seconds: float) -> str:
    """``3725`` -> ``1h02m05s``; short forms for short durations."""
    s = round(seconds)
    hours, rest = divmod(s, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_about(seconds: float) -> str:
    """A rough time ahead, to the minute: ``11400`` -> ``about 3 h 10 min``; ``about 45 min``;
    ``about 2 d 5 h`` from two days on; ``less than a minute``."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"about {days} d {hours} h"
    if hours:
        return f"about {hours} h {minutes} min"
    return f"about {minutes} min"


def format_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # unreachable; keeps type checkers content
