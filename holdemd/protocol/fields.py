"""Field checks of the worker protocol: a wire value to a Python value, or a FieldError.

``codec`` applies them field by field (each message's fields and their checks are listed
there); ``encode`` runs them too, so that a sender's bug fails in the sender.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from holdemd.protocol.worker import (
    ARRAY_DTYPES,
    MAX_ARRAY_ELEMENTS,
    MAX_NDIM,
    NAME_CHARS,
    TableHandle,
)

UINT64_MAX: Final = 2**64 - 1
INT64_MAX: Final = 2**63 - 1
MAX_TABLES: Final = 64
MAX_JSON_DEPTH: Final = 32
FLOAT_DTYPES: Final = frozenset({"<f4", "<f8"})


class FieldError(Exception):
    """A field's value is wrong; the codec prefixes the message and field name."""


class Field(NamedTuple):
    check: Callable[[Any], Any]  # wire value -> Python value; raises FieldError
    to_wire: Callable[[Any], Any] | None = None  # Python value -> wire value, if they differ


def type_name(value: object) -> str:
    return type(value).__name__


def integer(lo: int = 0, hi: int = INT64_MAX) -> Callable[[object], int]:
    def check(value: object) -> int:
        if type(value) is not int:  # bool is an int subclass; it is never a count
            raise FieldError(f"expected an int, got {type_name(value)}")
        if not lo <= value <= hi:
            raise FieldError(f"{value} is out of range [{lo}, {hi}]")
        return value

    return check


def finite(lo: float, hi: float) -> Callable[[object], float]:
    def check(value: object) -> float:
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise FieldError(f"expected a float, got {type_name(value)}")
        number = float(value)
        if not math.isfinite(number) or not lo <= number <= hi:
            raise FieldError(f"{number} is not a finite number in [{lo}, {hi}]")
        return number

    return check


def seconds(*, positive: bool = False) -> Callable[[object], float]:
    def check(value: object) -> float:
        # An int is accepted: `batch_seconds=0` is a float in every sense that matters here.
        if not isinstance(value, (float, int)) or isinstance(value, bool):
            raise FieldError(f"expected a float, got {type_name(value)}")
        number = float(value)
        if not math.isfinite(number) or number < 0 or (positive and number == 0):
            raise FieldError(
                f"{number} is not a finite {'positive' if positive else '>= 0'} number"
            )
        return number

    return check


def text(max_chars: int, choices: tuple[str, ...] = ()) -> Callable[[object], str]:
    def check(value: object) -> str:
        if type(value) is not str:
            raise FieldError(f"expected a str, got {type_name(value)}")
        if len(value) > max_chars:
            raise FieldError(f"{len(value)} chars is over the {max_chars}-char limit")
        if choices and value not in choices:
            raise FieldError(f"{value[:40]!r} is not one of {', '.join(choices)}")
        return value

    return check


def boolean(value: object) -> bool:
    if type(value) is not bool:
        raise FieldError(f"expected a bool, got {type_name(value)}")
    return value


def dimensions(value: object, ndims: range) -> tuple[int, ...]:
    if type(value) is not list or len(value) not in ndims:
        raise FieldError(f"shape must be a list of {ndims.start}..{ndims.stop - 1} dimensions")
    return tuple(integer()(dim) for dim in value)


def numeric_array(
    dtypes: frozenset[str], ndim: int, max_ndim: int | None = None
) -> Callable[[object], Any]:
    """An array of one of ``dtypes`` with ``ndim`` dimensions (to ``max_ndim``, if given)."""

    def check(value: object) -> Any:
        if type(value) is not dict or value.keys() != {"dtype", "shape", "data"}:
            raise FieldError("expected an array map with exactly dtype, shape and data")
        dtype, data = value["dtype"], value["data"]
        if type(dtype) is not str or dtype not in dtypes:
            raise FieldError(f"dtype {str(dtype)[:20]!r} is not one of {', '.join(sorted(dtypes))}")
        shape = dimensions(value["shape"], range(ndim, (max_ndim or ndim) + 1))
        if any(dim > MAX_ARRAY_ELEMENTS for dim in shape) or math.prod(shape) > MAX_ARRAY_ELEMENTS:
            raise FieldError(f"shape {list(shape)} is over {MAX_ARRAY_ELEMENTS} elements")
        if not isinstance(data, (bytes, memoryview)):  # memoryview only when encode checks
            raise FieldError(f"data must be bin, got {type_name(data)}")
        expected = math.prod(shape) * ARRAY_DTYPES[dtype]
        if memoryview(data).nbytes != expected:
            raise FieldError(f"data has {memoryview(data).nbytes} bytes, shape needs {expected}")
        import numpy as np

        return np.frombuffer(data, dtype=dtype).reshape(shape)

    return check


def array_to_wire(value: object) -> dict[str, Any]:
    import numpy as np

    if not isinstance(value, np.ndarray):
        raise FieldError(f"expected a numpy array, got {type_name(value)}")
    little = value.dtype.newbyteorder("<")
    if little.str not in ARRAY_DTYPES:
        raise FieldError(f"dtype {little.str!r} is not one of {', '.join(ARRAY_DTYPES)}")
    array = np.ascontiguousarray(value, dtype=little)
    data = array.reshape(-1).view(np.uint8).data  # zero-copy: msgpack packs buffers as bin
    return {"dtype": little.str, "shape": list(array.shape), "data": data}


def table(value: object) -> TableHandle:
    if type(value) is not dict or value.keys() != {"shm_name", "dtype", "shape"}:
        raise FieldError("expected a table map with exactly shm_name, dtype and shape")
    dtype = text(8, tuple(ARRAY_DTYPES))(value["dtype"])
    shm_name = text(NAME_CHARS)(value["shm_name"])
    return TableHandle(shm_name, dtype, dimensions(value["shape"], range(1, MAX_NDIM + 1)))


def tables(value: object) -> dict[str, TableHandle]:
    if type(value) is not dict or len(value) > MAX_TABLES:
        raise FieldError(f"expected a map of at most {MAX_TABLES} tables")
    return {text(NAME_CHARS)(name): table(handle) for name, handle in value.items()}


def tables_to_wire(value: object) -> object:
    if not isinstance(value, Mapping):
        return value  # `tables` names the wrong type
    return {
        name: {"shm_name": h.shm_name, "dtype": h.dtype, "shape": list(h.shape)}
        if isinstance(h, TableHandle)
        else h
        for name, h in value.items()
    }


def check_json(value: object, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise FieldError(f"nested deeper than {MAX_JSON_DEPTH}")
    if value is None or isinstance(value, (bool, float, str)):
        return
    if isinstance(value, int):
        if not -(2**63) <= value <= UINT64_MAX:  # what msgpack can carry
            raise FieldError(f"int {value} does not fit in 64 bits")
        return
    if isinstance(value, (list, tuple)):  # a tuple goes out as an array and comes back a list
        for item in value:
            check_json(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FieldError(f"map key {type_name(key)} is not a str")
            check_json(item, depth + 1)
        return
    raise FieldError(f"{type_name(value)} is not JSON-able")


def json_map(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise FieldError(f"expected a map, got {type_name(value)}")
    check_json(value)
    return value
