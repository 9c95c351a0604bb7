"""Numba kernels: arrays and scalars in, preallocated arrays out; no I/O, no Python objects.

Declared with the decorators of :mod:`holdemd.jit` (which also says why hot helpers are
inlined and why no kernel is recursive).
"""
