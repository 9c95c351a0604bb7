"""The host protocol's wire format (``hosts``): the worker protocol's codec with the host
messages' fields. :func:`decode` raises :class:`ProtocolError`, and nothing else, on any input.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Final

import numpy as np

from holdemd.protocol.codec import WORKER_SPECS, Codec, check_worker_spec
from holdemd.protocol.fields import (
    FLOAT_DTYPES,
    Field,
    FieldError,
    array_to_wire,
    boolean,
    integer,
    json_map,
    numeric_array,
    seconds,
    text,
    type_name,
)
from holdemd.protocol.hosts import (
    HOST_PROTOCOL_VERSION,
    MAX_HOST_CONTROL_BYTES,
    MAX_HOST_MESSAGE_BYTES,
    Check,
    HostBeat,
    HostDelta,
    HostMessage,
    HostUpdate,
    Join,
    Joined,
    Leave,
    Refused,
)
from holdemd.protocol.worker import ARRAY_DTYPES, NAME_CHARS, TEXT_CHARS, Settings


def _settings(value: object) -> Settings:
    fields = WORKER_SPECS[Settings]
    if type(value) is not dict or value.keys() != fields.keys():
        raise FieldError(f"expected a map with exactly {', '.join(fields)}")
    return Settings(**{name: fld.check(value[name]) for name, fld in fields.items()})


def _floor(value: object) -> float:
    """A regret floor: a number below zero, or -inf for none."""
    if not isinstance(value, (float, int)) or isinstance(value, bool):
        raise FieldError(f"expected a float, got {type_name(value)}")
    number = float(value)
    if math.isnan(number) or number > 0:
        raise FieldError(f"{number} is not a floor (<= 0, -inf for none)")
    return number


_SESSION = Field(integer())
_ROWS = Field(numeric_array(frozenset({"<i4", "<i8"}), 1), array_to_wire)
_FLOATS = Field(numeric_array(FLOAT_DTYPES, 2), array_to_wire)
_SETTINGS = Field(_settings, dataclasses.asdict)
_NAME = Field(text(NAME_CHARS))

HOST_SPECS: Final[dict[type[Any], dict[str, Field]]] = {
    Join: {
        "name": _NAME,
        "version": _NAME,
        "code": _NAME,
        "num_workers": Field(integer(0, 4096)),
    },
    Joined: {
        "run_id": _NAME,
        "session": _SESSION,
        "host_index": Field(integer(1, 65535)),
        "config": Field(json_map),
        "spec": Field(check_worker_spec, dataclasses.asdict),
        "settings": _SETTINGS,
        "regret_floor": Field(_floor),
        "iteration": Field(integer()),
        "lazy": Field(boolean),
    },
    Refused: {"reason": Field(text(TEXT_CHARS)), "retry": Field(boolean)},
    Check: {
        "session": _SESSION,
        "game_key": _NAME,
        "abstraction_digest": _NAME,
        "num_rows": Field(integer()),
        "max_actions": Field(integer(1, 4096)),
    },
    HostDelta: {
        "session": _SESSION,
        "seq": Field(integer()),
        "iterations": Field(integer()),
        "rows": _ROWS,
        "regret": _FLOATS,
        "strategy": _FLOATS,
        "workers": Field(integer(0, 4096)),
        "rate": Field(seconds()),  # a finite number >= 0
        "final": Field(boolean),
        "exact": Field(boolean),
        "floor": Field(_floor),
    },
    HostUpdate: {
        "session": _SESSION,
        "seq": Field(integer()),
        "iteration": Field(integer()),
        "rows": _ROWS,
        "values": Field(numeric_array(frozenset(ARRAY_DTYPES) - {"|u1"}, 1, 2), array_to_wire),
        "remaining": Field(integer()),
        "discounts": Field(numeric_array(frozenset({"<f8"}), 1), array_to_wire),
        "settings": _SETTINGS,
        "regret_floor": Field(_floor),
        "paused": Field(boolean),
        "stopping": Field(boolean),
    },
    HostBeat: {"session": _SESSION},
    Leave: {"session": _SESSION, "reason": Field(text(TEXT_CHARS))},
}


def _check_rows(rows: np.ndarray, k: int, what: str) -> None:
    if rows.shape[0] != k:
        raise FieldError(f"{what} has {k} rows, rows has {rows.shape[0]}")
    if k and int(rows.min()) < 0:
        raise FieldError("negative row index")


def _check_host_delta(delta: HostDelta) -> None:
    """Consistent shapes, and values safe to add to tables (as a worker's delta)."""
    _check_rows(delta.rows, delta.regret.shape[0], "regret")
    if delta.strategy.shape != delta.regret.shape or delta.strategy.dtype != delta.regret.dtype:
        raise FieldError("strategy must have the dtype and shape of regret")
    for name in ("regret", "strategy"):
        if not math.isfinite(float(np.sum(getattr(delta, name), dtype=np.float64))):
            raise FieldError(f"{name} has non-finite values")


def _check_host_update(update: HostUpdate) -> None:
    """Dense rows ([k, A]) match ``rows``; compact ones (lazy tables, flat) are checked against
    the game by the node, which knows each row's actions."""
    if update.values.ndim == 2:
        _check_rows(update.rows, update.values.shape[0], "values")
    elif update.rows.size and int(update.rows.min()) < 0:
        raise FieldError("negative row index")
    if update.values.dtype.kind == "f" and not np.isfinite(update.values).all():
        raise FieldError("values has non-finite entries")
    factors = update.discounts
    if not (np.isfinite(factors).all() and (factors > 0).all() and (factors <= 1).all()):
        raise FieldError("discounts must be factors in (0, 1]")


HOST_CODEC: Final = Codec(
    HOST_SPECS,
    version=HOST_PROTOCOL_VERSION,
    limit=MAX_HOST_CONTROL_BYTES,
    big=frozenset({HostDelta, HostUpdate}),
    big_limit=MAX_HOST_MESSAGE_BYTES,
    checks={HostDelta: _check_host_delta, HostUpdate: _check_host_update},
    versioned=Join,
)


def encode(message: HostMessage) -> bytes:
    """A host-protocol message as one msgpack frame."""
    return HOST_CODEC.encode(message)


def decode(data: bytes | bytearray | memoryview) -> HostMessage:
    """The host-protocol message in one frame; raises :class:`ProtocolError` only."""
    message: HostMessage = HOST_CODEC.decode(data)
    return message
