"""Reading a YAML config file: YAML 1.2 scalars, and every problem as one line naming the file.

:func:`load_yaml_file` returns plain data (a mapping); :mod:`holdemd.yaml_config` binds it to the
config dataclasses.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from holdemd.errors import ConfigError

_MISSING_FILE_HINT = "pass an existing config file, e.g. configs/leduc.yaml"
_MAX_SHOWN_VALUE = 60  # characters of a bad value quoted in an error; keeps the message one line
# Lists and mappings inside each other: game.bet_sizes.flop[depth] is 4 deep; far more is a
# mistake (or an attack), refused before PyYAML's recursive composer runs out of stack.
MAX_NESTING = 32


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars where YAML 1.1 surprises people.

    * Only ``true``/``false`` are booleans: in YAML 1.1 ``yes``, ``no``, ``on`` and ``off`` are too,
      so a country code ``NO`` or a mode ``off`` silently became ``False``.
    * ``1e6`` is a float: YAML 1.1 requires a dot (``1.0e6``) and reads ``1e6`` as a string.
    * A key given twice is an error instead of the last one silently winning.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml_file(path: Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping (an empty file is an empty mapping).

    Raises:
        ConfigError: the file is missing or unreadable, is not valid YAML (the message gives the
            line and column), is nested deeper than any config, or its top level is not a mapping.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file; {_MISSING_FILE_HINT}") from exc
    except IsADirectoryError as exc:
        raise ConfigError(
            f"{path}: is a directory, not a config file; {_MISSING_FILE_HINT}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        _check_nesting(path, text)
        data = yaml.load(text, Loader=_StrictLoader)  # safe: _StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_error_message(path, exc)) from exc
    except (ValueError, TypeError) as exc:
        # A constructor's own error, without a position: a date like 2024-02-30, `!!int abc`,
        # or a list used as a mapping key.
        raise ConfigError(
            f"{path}: invalid YAML: cannot read a value ({exc}); quote it if it is text"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys (key: value lines), got {show_value(data)}"
        )
    return data


def _check_nesting(path: Path, text: str) -> None:
    """Refuse lists and mappings nested more than MAX_NESTING deep, before composing them.

    PyYAML's composer recurses once per level, so a few thousand ``[`` end in a RecursionError
    (a traceback) instead of an error naming the file. Its parser keeps an explicit stack, so
    walking the events first is safe at any depth, and cheap for a config-sized file.
    """
    loader = _StrictLoader(text)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_NESTING:
                    mark = event.start_mark
                    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
                    raise ConfigError(
                        f"{where}: invalid YAML: lists and mappings nested more than "
                        f"{MAX_NESTING} deep; a config needs 4"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        loader.dispose()


def _yaml_error_message(path: Path, exc: yaml.YAMLError) -> str:
    """One line ``file:line:col: invalid YAML: problem`` from a PyYAML error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        if exc.problem and exc.context and exc.context_mark is not None:
            # e.g. an unclosed bracket: the problem is found at the end of the file, the context
            # says where the bracket was opened, which is where the fix goes.
            problem += f" ({exc.context} at {_line_col(exc.context_mark)})"
        if mark is not None:
            return f"{path}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}"
        return f"{path}: invalid YAML: {problem}"
    return f"{path}: invalid YAML: {' '.join(str(exc).split())}"


def _line_col(mark: yaml.Mark) -> str:
    # PyYAML marks are 0-based; editors count lines and columns from 1.
    return f"line {mark.line + 1}, column {mark.column + 1}"


def show_value(value: Any) -> str:
    """A bad value as quoted in an error: ``'abc' (str)``, cut short to keep one line."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # as the user wrote it in YAML, not Python's True
        return f"{'true' if value else 'false'} (bool)"
    text = " ".join(repr(value).split())
    if len(text) > _MAX_SHOWN_VALUE:
        text = text[: _MAX_SHOWN_VALUE - 3] + "..."
    return f"{text} ({type(value).__name__})"
