"""Card abstraction: which bucket each hand falls into, per street.

Preflop keeps the 169 lossless classes. Flop and turn hands are clustered by the distribution
of their final equity (histograms compared with the earth mover's distance, k-medians);
river hands by equity against a random hand, in equal-mass ranges. Tables are indexed by the
suit-isomorphic hand index of :mod:`holdemd.cards`, so a look-up at training time is one
array read.

Python API::

    load_abstraction("quick" | "mid" | "path/to/file.npz") -> CardAbstraction
    build_abstraction("quick" | "mid", out=..., seed=0, threads=None) -> CardAbstraction
    check_compatible(abstraction, expected_counts, source)
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from holdemd.abstraction.build import build_abstraction
    from holdemd.abstraction.load import load_abstraction
    from holdemd.abstraction.model import (
        STREETS,
        AbstractionError,
        CardAbstraction,
        check_compatible,
        table_dtype,
    )
    from holdemd.abstraction.presets import PRESETS, Preset

# Loaded on first use (PEP 562): `holdemd --help` builds the `buckets` parser from the presets,
# and must not pay for numba and the card tables that building or loading needs.
_LAZY = {
    "build_abstraction": "holdemd.abstraction.build",
    "load_abstraction": "holdemd.abstraction.load",
    "STREETS": "holdemd.abstraction.model",
    "AbstractionError": "holdemd.abstraction.model",
    "CardAbstraction": "holdemd.abstraction.model",
    "check_compatible": "holdemd.abstraction.model",
    "table_dtype": "holdemd.abstraction.model",
    "PRESETS": "holdemd.abstraction.presets",
    "Preset": "holdemd.abstraction.presets",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'holdemd.abstraction' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "PRESETS",
    "STREETS",
    "AbstractionError",
    "CardAbstraction",
    "Preset",
    "build_abstraction",
    "check_compatible",
    "load_abstraction",
    "table_dtype",
]
