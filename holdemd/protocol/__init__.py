"""The contracts: what crosses a process boundary, and nothing else.

``errors``   the E_* codes both planes use, and ProtocolError
``worker``   the worker protocol's messages and limits (supervisor <-> worker processes)
``fields``   field checks of those messages;  ``codec``  their msgpack wire format
``control``  the control plane's JSON lines (holdemctl <-> daemon), see docs/control.md
``paths``    where the daemon keeps its state and socket, and where clients look

This package imports nothing itself: the thin client imports ``control``, ``errors`` and
``paths`` only, so neither msgpack nor numpy loads when it starts.
"""
