"""The error codes both protocols use, and the exception that carries one.

``ProtocolError.code`` on the worker plane, ``error.code`` in a control-plane reply: one list,
so a client can switch on a code without importing anything heavier than this module.
"""

from __future__ import annotations

from typing import Final

from holdemd.errors import HoldemdError

E_BAD_JSON: Final = "E_BAD_JSON"
E_TOO_LARGE: Final = "E_TOO_LARGE"
E_BAD_REQUEST: Final = "E_BAD_REQUEST"
E_UNKNOWN_COMMAND: Final = "E_UNKNOWN_COMMAND"
E_VERSION: Final = "E_VERSION"
E_BUSY: Final = "E_BUSY"
E_NOT_RUNNING: Final = "E_NOT_RUNNING"
E_PERMISSION: Final = "E_PERMISSION"
E_INTERNAL: Final = "E_INTERNAL"
E_CONFLICT: Final = "E_CONFLICT"
ERROR_CODES: Final = (
    E_BAD_JSON,
    E_TOO_LARGE,
    E_BAD_REQUEST,
    E_UNKNOWN_COMMAND,
    E_VERSION,
    E_BUSY,
    E_NOT_RUNNING,
    E_PERMISSION,
    E_INTERNAL,
    E_CONFLICT,
)


class ProtocolError(HoldemdError):
    """A frame or a control line broke the protocol; ``str(error)`` is a short reason.

    ``code`` is one of :data:`ERROR_CODES`; ``request_id`` is the control request's id when it
    could be read, so that the error reply can still name the request it answers.
    """

    def __init__(
        self, reason: str, code: str = E_BAD_REQUEST, request_id: str | int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.request_id = request_id
