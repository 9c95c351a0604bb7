"""Numba kernels: arrays and scalars in, preallocated arrays out; no I/O, no Python objects.

Every kernel is compiled with ``cache=True``. None is self-recursive: numba segfaults when it
loads a cached recursive function (numba issue #6061), so traversals keep explicit stacks.
Kernels called in the hot loop are ``inline="always"``: a real call makes numba increment and
decrement the reference count of every array argument with atomic instructions, which cost
more than the work of a small node.
"""

from holdemd import numba_cache  # noqa: F401  (sets the cache directory before any kernel)
