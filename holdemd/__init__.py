"""holdemd: train Texas Hold'em blueprint strategies with external-sampling MCCFR.

``from holdemd import Blueprint`` opens a trained strategy (a blueprint file, a run directory
or a snapshot) for look-ups; it is imported on first use, so ``import holdemd`` stays cheap.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("holdemd")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from holdemd.blueprint.api import Blueprint


def __getattr__(name: str) -> Any:
    if name == "Blueprint":
        from holdemd.blueprint.api import Blueprint

        return Blueprint
    raise AttributeError(f"module 'holdemd' has no attribute {name!r}")


__all__ = ["Blueprint", "__version__"]
