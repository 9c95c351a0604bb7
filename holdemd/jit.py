"""How holdemd compiles its numba kernels, and where the compiled code is cached.

Every kernel in the package is declared with one of three decorators from here::

    from holdemd.jit import inline_kernel, kernel, parallel_kernel

    @kernel            # compiled once per argument types, machine code cached on disk
    @inline_kernel     # a small helper: also inlined into each kernel that calls it
    @parallel_kernel   # a kernel with ``prange`` loops (numba's threads)

Importing this module sets the cache directory before any of them runs, so a kernel module
needs no other import for it.

Why the cache has a directory of its own: numba invalidates a cached function only when *its
own* file changes, not when a kernel it calls in another file does, so after an edit or an
upgrade it would happily run stale machine code. Keying the directory by the package version
and a digest of every source file of the package makes any change start from a clean cache
(one recompile, a few seconds). A user's own ``NUMBA_CACHE_DIR`` is respected.

Why inline: a real call between kernels makes numba increment and decrement the reference
count of every array argument with atomic instructions, which costs more than the work of a
small node of the game tree. No kernel is self-recursive: numba segfaults when it loads a
cached recursive function (numba issue #6061), so traversals keep explicit stacks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from numba import njit
from numba.core import config as numba_config

from holdemd import __version__

if TYPE_CHECKING:
    from numba.core.dispatcher import Dispatcher

_PACKAGE_DIR = Path(__file__).resolve().parent

F = TypeVar("F", bound=Callable[..., Any])


def source_digest() -> str:
    """sha256 (first 16 hex digits) over the package's .py files, by relative path."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where this version of the package caches compiled kernels (unless NUMBA_CACHE_DIR)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "holdemd" / "numba" / f"{__version__}-{source_digest()}"


def configure_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    # Read by numba when a decorator enables caching for a function, so setting it before the
    # first decorator below runs is enough. setattr: numba creates the attribute from its
    # environment at run time, so type checkers do not know it.
    setattr(numba_config, "CACHE_DIR", str(cache_dir()))  # noqa: B010


configure_cache()


def kernel(func: F) -> Dispatcher[F]:
    """Compile ``func`` with numba (nopython mode), caching the machine code on disk."""
    return njit(cache=True)(func)


def inline_kernel(func: F) -> Dispatcher[F]:
    """:func:`kernel`, and inlined into the kernels that call it (for small, hot helpers)."""
    return njit(cache=True, inline="always")(func)


def parallel_kernel(func: F) -> Dispatcher[F]:
    """:func:`kernel` whose ``prange`` loops run on numba's threads."""
    return njit(cache=True, parallel=True)(func)
