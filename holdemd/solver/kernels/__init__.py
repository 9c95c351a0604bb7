"""Numba kernels: arrays and scalars in, preallocated arrays out; no I/O, no Python objects.

Every kernel is compiled with ``cache=True``. None is self-recursive: numba segfaults when it
loads a cached recursive function (numba issue #6061), so traversals keep explicit stacks.
"""
