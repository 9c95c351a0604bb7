"""Reading a litmus scenarios file: YAML to `Scenario`s, every mistake one `ConfigError` line
naming the file and the key (``scenarios[2].expect.at_most``). The format is in
:mod:`holdemd.evaluation.litmus.scenarios`."""

from __future__ import annotations

import importlib.resources
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from holdemd.blueprint.history import parse_history
from holdemd.cards import parse_cards, preflop_class_index
from holdemd.config.yaml_file import load_yaml_file, show_value
from holdemd.errors import ConfigError, UsageError
from holdemd.evaluation.litmus.scenarios import (
    ACTIONS,
    DEFAULT_FILE,
    DIAGNOSIS_FIELDS,
    GAMES,
    HOLDEM_GAMES,
    HOLDEM_SEATS,
    NAME_PATTERN,
    REQUIRED_KEYS,
    SCENARIO_KEYS,
    SMALL_GAMES,
    Expectation,
    Scenario,
)


def default_path() -> Path:
    """The shipped scenarios file (package data)."""
    return Path(str(importlib.resources.files("holdemd.evaluation.litmus") / DEFAULT_FILE))


def load_scenarios(extra: Path | None = None) -> list[Scenario]:
    """The shipped scenarios, with ``extra``'s added (a scenario of the same name replaces the
    shipped one), or only ``extra``'s when it says ``replace_default: true``."""
    shipped, _ = read_scenarios(default_path())
    if extra is None:
        return shipped
    added, replace = read_scenarios(extra)
    if replace:
        return added
    names = {s.name for s in added}
    return [s for s in shipped if s.name not in names] + added


def read_scenarios(path: Path) -> tuple[list[Scenario], bool]:
    """(scenarios, replace_default) of one file; `ConfigError` naming the file and key."""
    if not path.is_file():
        what = "a directory" if path.is_dir() else "no such file"
        raise ConfigError(
            f"{path}: {what}; give a litmus scenarios file (the format: {default_path()})"
        )
    data = load_yaml_file(path)
    source = str(path)
    unknown = sorted(set(data) - {"scenarios", "replace_default"})
    if unknown:
        raise _error(
            source, unknown[0], "unknown key; a scenarios file has scenarios, replace_default"
        )
    replace = data.get("replace_default", False)
    if not isinstance(replace, bool):
        raise _error(source, "replace_default", f"must be true or false, got {show_value(replace)}")
    items = data.get("scenarios")
    if not isinstance(items, list) or not items:
        raise _error(source, "scenarios", f"must be a non-empty list, got {show_value(items)}")
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        scenario = _scenario(source, f"scenarios[{i}]", item)
        if scenario.name in seen:
            raise _error(source, f"scenarios[{i}].name", f"{scenario.name!r} is used twice")
        seen.add(scenario.name)
        scenarios.append(scenario)
    return scenarios, replace


def _error(source: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: {problem}")


def _scenario(source: str, key: str, item: Any) -> Scenario:
    if not isinstance(item, Mapping):
        raise _error(source, key, f"must be a mapping of scenario keys, got {show_value(item)}")
    unknown = sorted(str(k) for k in set(item) - set(SCENARIO_KEYS))
    if unknown:
        raise _error(
            source, f"{key}.{unknown[0]}", f"unknown key; known: {', '.join(SCENARIO_KEYS)}"
        )
    missing = [k for k in REQUIRED_KEYS if item.get(k) is None]
    if missing:
        raise _error(
            source,
            f"{key}.{missing[0]}",
            "missing; every scenario needs " + ", ".join(REQUIRED_KEYS),
        )
    name = item["name"]
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _error(
            source,
            f"{key}.name",
            f"letters, digits, '-', '_' or '.' (64 at most), got {show_value(name)}",
        )
    key = f"{key} ({name})"
    games = _names(source, f"{key}.games", item["games"], GAMES)
    if set(games) & set(SMALL_GAMES) and set(games) & set(HOLDEM_GAMES):
        raise _error(
            source, f"{key}.games", "Hold'em and Kuhn/Leduc hands differ: one scenario each"
        )
    seat = _text(source, f"{key}.seat", item.get("seat"))
    history = _text(source, f"{key}.history", item.get("history"))
    board = _text(source, f"{key}.board", item.get("board")) or ""
    hands = _hands(source, f"{key}.hands", item["hands"])
    holdem = not set(games) & set(SMALL_GAMES)
    _check_cards(source, key, holdem, seat, history, board, hands)
    expect = _expectation(source, f"{key}.expect", item["expect"])
    equity = item.get("equity")
    if equity is not None:
        equity = _fraction(source, f"{key}.equity", equity)
    diagnosis = item["diagnosis"]
    if not isinstance(diagnosis, str) or not diagnosis.strip():
        raise _error(source, f"{key}.diagnosis", f"must be text, got {show_value(diagnosis)}")
    _check_template(source, f"{key}.diagnosis", diagnosis)
    return Scenario(
        name=name,
        games=games,
        hands=hands,
        expect=expect,
        diagnosis=" ".join(diagnosis.split()),
        seat=seat,
        history=history,
        board=board,
        equity=equity,
        source=source,
    )


def _names(source: str, key: str, value: Any, known: Mapping[str, str]) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _error(source, key, f"a name or a list of names, got {show_value(value)}")
    for item in items:
        if item not in known:
            raise _error(source, key, f"{show_value(item)} is not one of {', '.join(known)}")
    return tuple(dict.fromkeys(items))


def _text(source: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _error(source, key, f"must be text, got {show_value(value)}")
    return value.strip() or None


def _hands(source: str, key: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise _error(source, key, f"a hand or a list of hands, got {show_value(value)}")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise _error(source, key, f"hands are text such as AsKs or AA, got {show_value(item)}")
    return tuple(item.strip() for item in items)


def _fraction(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _error(source, key, f"must be a number from 0 to 1, got {show_value(value)}")
    return float(value)


def _expectation(source: str, key: str, value: Any) -> Expectation:
    if not isinstance(value, Mapping):
        raise _error(
            source,
            key,
            f"a mapping such as {{action: fold, at_most: 0.05}}, got {show_value(value)}",
        )
    unknown = sorted(str(k) for k in set(value) - {"action", "at_most", "at_least"})
    if unknown:
        raise _error(source, f"{key}.{unknown[0]}", "unknown key; known: action, at_most, at_least")
    if "action" not in value:
        raise _error(source, f"{key}.action", f"missing; one or a list of {', '.join(ACTIONS)}")
    actions = _names(source, f"{key}.action", value["action"], dict.fromkeys(ACTIONS, ""))
    bounds = [k for k in ("at_most", "at_least") if value.get(k) is not None]
    if len(bounds) != 1:
        raise _error(source, key, "give exactly one of at_most, at_least")
    bound = _fraction(source, f"{key}.{bounds[0]}", value[bounds[0]])
    if bounds[0] == "at_most":
        return Expectation(actions, at_most=bound)
    return Expectation(actions, at_least=bound)


def _check_cards(
    source: str,
    key: str,
    holdem: bool,
    seat: str | None,
    history: str | None,
    board: str,
    hands: tuple[str, ...],
) -> None:
    """Syntax only: cards that can be read, no card twice, a history that parses, a seat
    some table has."""
    if history is not None:
        try:
            parse_history(history)
        except UsageError as exc:
            raise _error(source, f"{key}.history", str(exc).removeprefix("--history ")) from exc
    if seat is not None:
        known = HOLDEM_SEATS if holdem else frozenset({"P0", "P1"})
        if seat.upper() not in known and seat not in {str(p) for p in range(6)}:
            raise _error(
                source, f"{key}.seat", f"{seat!r} is not one of {', '.join(sorted(known))}"
            )
    if not holdem:
        for where, text in [("board", board)] * bool(board) + [("hands", h) for h in hands]:
            if text.strip().upper()[:1] not in ("J", "Q", "K") or len(text.strip()) > 2:
                raise _error(
                    source, f"{key}.{where}", f"{text!r}: Kuhn and Leduc cards are J, Q or K"
                )
        return
    board_cards: set[int] = set()
    if board:
        try:
            cards = parse_cards(board)
        except UsageError as exc:
            raise _error(source, f"{key}.board", f"{board!r}: {exc}") from exc
        if len(cards) not in (3, 4, 5):
            raise _error(source, f"{key}.board", f"{board!r}: a board has 3, 4 or 5 cards")
        board_cards = set(cards.tolist())
    for hand in hands:
        try:
            hole = parse_cards(hand, count=2)
        except UsageError as exc:
            if board:
                raise _error(
                    source, f"{key}.hands", f"{hand!r}: {exc} (after the flop, give cards: AsKs)"
                ) from exc
            try:
                preflop_class_index(hand)
            except UsageError:
                raise _error(
                    source, f"{key}.hands", f"{hand!r}: {exc}, or a class like AA, AKs, 72o"
                ) from exc
            continue
        if board_cards & set(hole.tolist()):
            raise _error(source, f"{key}.hands", f"{hand!r} shares a card with the board {board}")


def _check_template(source: str, key: str, text: str) -> None:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _error(source, key, f"{exc} (write {{{{ and }}}} for braces)") from exc
    for _, field, spec, _ in parts:
        if field is None:
            continue
        if field not in DIAGNOSIS_FIELDS or spec:
            raise _error(
                source,
                key,
                f"unknown placeholder {{{field}}}; known: "
                + ", ".join(f"{{{f}}}" for f in DIAGNOSIS_FIELDS),
            )
