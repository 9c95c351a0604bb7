"""Bind YAML data to frozen dataclasses; every error is one line naming the file, key and what is allowed.

The file itself is read by :mod:`holdemd.yaml_file`.

The dataclasses are the schema: field types (resolved with :func:`typing.get_type_hints`) say what
a key accepts, defaults make a key optional, and ``field(metadata={"min": .., "max": .., "help":
..})`` adds a numeric range and a short description that error messages repeat.

Supported field types: ``int``, ``float`` (an integer is accepted), ``str``, ``bool`` (YAML
``true``/``false`` only), ``Literal[...]``, ``X | None``, unions, nested dataclasses (a YAML mapping),
``tuple[X, ...]`` and fixed ``tuple[X, Y]`` (a YAML list), ``list[X]`` (stored as a tuple so the
dataclass stays immutable), ``dict[str, X]`` and ``Any`` (taken as is).

A dataclass may check relations between its fields in ``__post_init__`` by raising ``ValueError``;
the message becomes a :class:`~holdemd.errors.ConfigError` naming the file and the section.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union

from holdemd.config.yaml_file import show_value
from holdemd.errors import ConfigError

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Building dataclasses


def build_dataclass(cls: type[T], data: Mapping[str, Any], *, source: str, prefix: str = "") -> T:
    """Build the frozen dataclass ``cls`` (and its nested dataclasses) from ``data``.

    Args:
        cls: a dataclass type; its resolved type hints are the schema.
        data: the mapping read from YAML (or JSON, or :func:`dataclass_to_dict`).
        source: where ``data`` came from, e.g. the file name; it starts every error message.
        prefix: dotted path of ``data`` inside the whole config, for error messages.

    Raises:
        ConfigError: an unknown key, a missing required key, a value of the wrong type or out of
            range, or a ``ValueError`` from the dataclass's ``__post_init__``.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"build_dataclass needs a dataclass type, got {cls!r}")
    if not isinstance(data, Mapping):
        where = f"key '{prefix}'" if prefix else "the top level"
        raise ConfigError(f"{source}: {where} must be a mapping of keys, got {show_value(data)}")
    fields = _init_fields(cls)
    _check_keys(data, fields, source=source, prefix=prefix)
    kwargs = {
        name: _convert(
            _field_types(cls)[name],
            value,
            source=source,
            dotted=_join(prefix, name),
            meta=fields[name].metadata,
        )
        for name, value in data.items()
    }
    try:
        return cls(**kwargs)
    except ValueError as exc:
        where = f"section '{prefix}'" if prefix else "config"
        raise ConfigError(f"{source}: {where}: {exc}") from exc


def _check_keys(
    data: Mapping[Any, Any],
    fields: Mapping[str, dataclasses.Field[Any]],
    *,
    source: str,
    prefix: str,
) -> None:
    """Reject a non-string or unknown key, and report every missing required key at once."""
    allowed = list(fields)
    for key in data:
        if not isinstance(key, str):
            where = f"under '{prefix}'" if prefix else "at the top level"
            raise ConfigError(f"{source}: key {key!r} {where} must be a string")
        if key not in fields:
            message = f"{source}: unknown key '{_join(prefix, key)}'; allowed keys: "
            message += ", ".join(allowed) if allowed else "(none)"
            close = difflib.get_close_matches(key, allowed, n=1)
            if close:
                message += f"; did you mean '{close[0]}'?"
            raise ConfigError(message)
    missing = [name for name, f in fields.items() if name not in data and _is_required(f)]
    if missing:
        names = ", ".join(f"'{_join(prefix, name)}'" for name in missing)
        plural = "s" if len(missing) > 1 else ""
        # One line: a help text is worth adding only when a single key is missing.
        hint = _help_suffix(fields[missing[0]].metadata) if len(missing) == 1 else ""
        raise ConfigError(f"{source}: missing required key{plural} {names}{hint}")


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _init_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    """The fields a config may set: ``init=False`` fields are computed, not configured."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    # Cached: get_type_hints re-evaluates string annotations on every call.
    return typing.get_type_hints(cls)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# --------------------------------------------------------------------------------------------
# Converting one value


def _convert(tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]) -> Any:
    """Check ``value`` against the type ``tp`` and return it in its stored form."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return build_dataclass(tp, value, source=source, prefix=dotted)
    if origin is Literal:
        return _convert_literal(tp, value, source=source, dotted=dotted, meta=meta)
    if origin is Union or origin is types.UnionType:
        return _convert_union(tp, value, source=source, dotted=dotted, meta=meta)
    if origin in (tuple, list):
        return _convert_sequence(tp, value, source=source, dotted=dotted, meta=meta)
    if origin is dict:
        return _convert_dict(tp, value, source=source, dotted=dotted, meta=meta)
    if tp in (bool, int, float, str, type(None)):
        return _convert_scalar(tp, value, source=source, dotted=dotted, meta=meta)
    raise TypeError(f"config key '{dotted}': unsupported field type {tp!r}")


def _convert_scalar(
    tp: type, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> Any:
    if not _accepts(tp, value):
        raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)
    if tp is float:
        value = float(value)
    if tp in (int, float):
        _check_range(value, source=source, dotted=dotted, meta=meta)
    return value


def _accepts(tp: Any, value: Any) -> bool:
    """Whether a scalar or Literal type takes ``value``; other types answer True (checked later)."""
    if typing.get_origin(tp) is Literal:
        # Compare types too: True == 1, so Literal[1] must not accept `true`.
        return any(type(value) is type(c) and value == c for c in typing.get_args(tp))
    check = _SCALAR_CHECKS.get(tp)
    return check is None or check(value)


# bool is a subclass of int, so `true` must not pass as 1 nor 1 as `true`.
_SCALAR_CHECKS: dict[Any, Callable[[Any], bool]] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
    type(None): lambda v: v is None,
}


def _check_range(value: float, *, source: str, dotted: str, meta: Mapping[str, Any]) -> None:
    low, high = meta.get("min"), meta.get("max")
    # NaN compares false both ways, so it fails these checks (out of range) instead of passing.
    if (low is None or value >= low) and (high is None or value <= high):
        return
    low_text, high_text = _show_bound(low), _show_bound(high)
    if low is not None and high is not None:
        allowed = f"between {low_text} and {high_text}"
    elif low is not None:
        allowed = f">= {low_text}"
    else:
        allowed = f"<= {high_text}"
    raise ConfigError(
        f"{source}: key '{dotted}' must be {allowed}, got {value!r}{_help_suffix(meta)}"
    )


def _show_bound(bound: float | None) -> str:
    # 4,611,686,018,427,387,904 reads better than 4611686018427387904.
    return f"{bound:,}" if isinstance(bound, int) and abs(bound) >= 10_000 else str(bound)


def _convert_literal(
    tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> Any:
    if not _accepts(tp, value):
        raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)
    return value


def _convert_union(
    tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> Any:
    args = typing.get_args(tp)
    if value is None and type(None) in args:
        return None
    candidates = [a for a in args if a is not type(None)]
    if len(candidates) == 1:
        # The common `X | None`. A scalar of the wrong type gets this union's message ("an
        # integer or null"); anything else gets X's own, more precise, message.
        if not _accepts(candidates[0], value):
            raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)
        return _convert(candidates[0], value, source=source, dotted=dotted, meta=meta)
    for candidate in candidates:
        try:
            return _convert(candidate, value, source=source, dotted=dotted, meta=meta)
        except ConfigError:
            continue
    raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)


def _convert_sequence(
    tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> tuple[Any, ...]:
    # A tuple is accepted besides a list so that overrides and dataclass values rebuild too.
    if not isinstance(value, (list, tuple)):
        raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)
    args = typing.get_args(tp)
    if typing.get_origin(tp) is list or (len(args) == 2 and args[1] is Ellipsis):
        item_types = [args[0] if args else Any] * len(value)
    elif not args:
        item_types = [Any] * len(value)
    else:
        item_types = list(args)
        if len(value) != len(item_types):
            raise ConfigError(
                f"{source}: key '{dotted}' must be a list of {len(item_types)} items, "
                f"got {len(value)}{_help_suffix(meta)}"
            )
    return tuple(
        _convert(item_tp, item, source=source, dotted=f"{dotted}[{i}]", meta=meta)
        for i, (item_tp, item) in enumerate(zip(item_types, value, strict=True))
    )


def _convert_dict(
    tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _type_error(tp, value, source=source, dotted=dotted, meta=meta)
    key_tp, value_tp = typing.get_args(tp) or (str, Any)
    if key_tp is not str:
        raise TypeError(f"config key '{dotted}': only dict[str, X] is supported, got {tp!r}")
    result = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise ConfigError(f"{source}: key {key!r} under '{dotted}' must be a string")
        result[key] = _convert(value_tp, item, source=source, dotted=f"{dotted}.{key}", meta=meta)
    return result


def _type_error(
    tp: Any, value: Any, *, source: str, dotted: str, meta: Mapping[str, Any]
) -> ConfigError:
    message = f"{source}: key '{dotted}' must be {_describe(tp)}, got {show_value(value)}"
    return ConfigError(message + _suggestion(tp, value) + _help_suffix(meta))


def _suggestion(tp: Any, value: Any) -> str:
    """``; did you mean 'cfr+'?`` when a string is close to one of the Literal choices."""
    if not isinstance(value, str):
        return ""
    options = typing.get_args(tp) if typing.get_origin(tp) in (Union, types.UnionType) else (tp,)
    choices = [
        choice
        for option in options
        if typing.get_origin(option) is Literal
        for choice in typing.get_args(option)
        if isinstance(choice, str)
    ]
    close = difflib.get_close_matches(value, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _describe(tp: Any) -> str:
    """What a type accepts, in the words of a YAML user: 'an integer', 'true or false', ..."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(_show_choice(c) for c in typing.get_args(tp))
    if origin is Union or origin is types.UnionType:
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return "a list"
    if origin is dict:
        return "a mapping of keys"
    if dataclasses.is_dataclass(tp):
        return "a mapping of keys"
    names = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        type(None): "null",
    }
    return names.get(tp, repr(tp))


def _show_choice(choice: Any) -> str:
    if isinstance(choice, bool):
        return "true" if choice else "false"
    return repr(choice)


def _help_suffix(meta: Mapping[str, Any]) -> str:
    help_text = meta.get("help")
    return f" — {help_text}" if help_text else ""


# --------------------------------------------------------------------------------------------
# Overrides and serialisation


def apply_overrides(obj: T, overrides: Mapping[str, Any], *, source: str) -> T:
    """A copy of the dataclass ``obj`` with dotted keys replaced, validated like the YAML file.

    ``apply_overrides(cfg, {"solver.iterations": 5000}, source="--iterations")``.

    Raises:
        ConfigError: a key is unknown or a value is invalid; the message starts with ``source``.
    """
    data = dataclass_to_dict(obj)
    for dotted, value in overrides.items():
        _set_dotted(data, dotted, value, source=source)
    return build_dataclass(type(obj), data, source=source)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any, *, source: str) -> None:
    parts = dotted.split(".")
    if not all(parts):
        raise ConfigError(f"{source}: '{dotted}' is not a dotted key like 'solver.iterations'")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            # An absent or null section (e.g. an Optional nested dataclass) is created; unknown
            # section names are still rejected by build_dataclass with the full dotted key.
            child = node[part] = {}
        if not isinstance(child, dict):
            section = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"{source}: cannot set '{dotted}': '{section}' is a value, not a section"
            )
        node = child
    node[parts[-1]] = value


def dataclass_to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as plain JSON-able data (tuples become lists) that :func:`build_dataclass`
    turns back into an equal object."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"dataclass_to_dict needs a dataclass instance, got {obj!r}")
    return {name: _to_plain(getattr(obj, name)) for name in _init_fields(type(obj))}


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclass_to_dict(value)
    if isinstance(value, (tuple, list)):
        return [_to_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _to_plain(item) for key, item in value.items()}
    return value
