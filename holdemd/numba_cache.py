"""Where numba caches compiled kernels: a directory keyed by the package's own source.

Numba invalidates a cached function only when *its own* file changes, not when a kernel it
calls in another file does, so after an edit or an upgrade it would happily run stale machine
code. Keying the cache directory by the package version and a digest of every source file of
the package makes any change start from a clean cache (one recompile, a few seconds).

Imported by each package that defines kernels, before any ``@njit(cache=True)`` runs. A user's
own ``NUMBA_CACHE_DIR`` is respected.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from numba.core import config as numba_config

from holdemd import __version__

_PACKAGE_DIR = Path(__file__).resolve().parent


def source_digest() -> str:
    """sha256 (first 16 hex digits) over the package's .py files, by relative path."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "holdemd" / "numba" / f"{__version__}-{source_digest()}"


def configure() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    # Read by numba when a cached function is first compiled or loaded, so setting it before
    # the kernels' modules are imported is enough. setattr: numba creates the attribute from
    # its environment at run time, so type checkers do not know it.
    setattr(numba_config, "CACHE_DIR", str(cache_dir()))  # noqa: B010


configure()
