"""holdemctl: drive a running ``holdemd serve`` over its control socket (docs/control.md).

Imports only the standard library and holdemd's protocol modules (no numpy, no numba), so it
starts in a fraction of a second.
"""
