"""Tests of holdemd.config.binder: YAML → frozen dataclasses, one-line errors asserted exactly."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest

from holdemd.config.binder import apply_overrides, build_dataclass, dataclass_to_dict
from holdemd.config.yaml_file import load_yaml_file
from holdemd.errors import ConfigError, ExitCode

SRC = "configs/test.yaml"


@dataclass(frozen=True)
class Solver:
    iterations: int = field(metadata={"min": 1, "help": "traversals per player"})
    algorithm: Literal["mccfr", "cfr+"] = "mccfr"
    discount: float = field(default=1.0, metadata={"min": 0.0, "max": 1.0})
    prune: bool = False
    seed: Optional[int] = None  # noqa: UP045 - the typing.Optional spelling is supported too


@dataclass(frozen=True)
class Logging:
    level: Literal["debug", "info", "warning"] = "info"
    every_seconds: float = field(default=10.0, metadata={"max": 3600})


@dataclass(frozen=True)
class Config:
    name: str
    solver: Solver
    logging: Logging = field(default_factory=Logging)
    bet_sizes: tuple[float, ...] = (0.5, 1.0)
    players: list[str] = field(default_factory=lambda: ["a", "b"])
    limits: dict[str, int] = field(default_factory=dict)
    blinds: tuple[int, int] = (1, 2)
    note: str | None = None
    extra: Logging | None = None
    seed_or_name: int | str = 0
    anything: Any = None


@dataclass(frozen=True)
class Window:
    low: int = 0
    high: int = 10

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")


@dataclass(frozen=True)
class Outer:
    window: Window = field(default_factory=Window)


@dataclass(frozen=True)
class Unsupported:
    values: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class TwoRequired:
    a: int
    b: int


MINIMAL: dict[str, Any] = {"name": "leduc", "solver": {"iterations": 1000}}


def build(data: dict[str, Any]) -> Config:
    return build_dataclass(Config, data, source=SRC)


def with_solver(**solver: Any) -> dict[str, Any]:
    return {"name": "leduc", "solver": {"iterations": 1000, **solver}}


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        build(data)
    return str(info.value)


# ----------------------------------------------------------------------------------------------
# load_yaml_file


def test_load_yaml_file_reads_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: leduc\nsolver:\n  iterations: 1_000\n  discount: 0.5\n")
    assert load_yaml_file(path) == {
        "name": "leduc",
        "solver": {"iterations": 1000, "discount": 0.5},
    }


def test_load_yaml_file_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# only a comment\n")
    assert load_yaml_file(path) == {}


def test_load_yaml_file_only_true_and_false_are_booleans(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: yes\nb: no\nc: off\nd: true\ne: False\n")
    assert load_yaml_file(path) == {"a": "yes", "b": "no", "c": "off", "d": True, "e": False}


def test_load_yaml_file_reads_exponent_without_dot_as_float(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: 1e6\nb: -2.5e-3\nc: 12\n")
    data = load_yaml_file(path)
    assert data == {"a": 1e6, "b": -2.5e-3, "c": 12}
    assert isinstance(data["a"], float) and isinstance(data["c"], int)


def test_load_yaml_file_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == (
        f"{path}: no such file; pass an existing config file, e.g. configs/leduc.yaml"
    )
    assert info.value.exit_code == ExitCode.USAGE


def test_load_yaml_file_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_yaml_file(tmp_path)


def test_load_yaml_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == f"{path}: not UTF-8 text (byte 9); save it as UTF-8"


def test_load_yaml_file_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: leduc\nsolver:\n  iterations: 10\n   seed: 3\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == f"{path}:4:8: invalid YAML: mapping values are not allowed here"
    assert isinstance(info.value.__cause__, Exception)


def test_load_yaml_file_unclosed_bracket_points_at_the_opening(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == (
        f"{path}:3:1: invalid YAML: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 2, column 4)"
    )


def test_load_yaml_file_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("solver:\n  iterations: 1\n  seed: 2\n  iterations: 3\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == f"{path}:4:3: invalid YAML: duplicate key 'iterations'"


@pytest.mark.parametrize(
    ("text", "shown"),
    [("- a\n- b\n", "['a', 'b'] (list)"), ("just a string\n", "'just a string' (str)")],
)
def test_load_yaml_file_top_level_must_be_a_mapping(tmp_path: Path, text: str, shown: str) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == (
        f"{path}: the top level must be a mapping of keys (key: value lines), got {shown}"
    )


def test_load_then_build_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: leduc\nsolver:\n  iterations: many\n")
    with pytest.raises(ConfigError) as info:
        build_dataclass(Config, load_yaml_file(path), source=str(path))
    assert str(info.value) == (
        f"{path}: key 'solver.iterations' must be an integer, got 'many' (str)"
        " — traversals per player"
    )


# ----------------------------------------------------------------------------------------------
# build_dataclass: values that are accepted


def test_build_minimal_uses_defaults() -> None:
    cfg = build(MINIMAL)
    assert cfg == Config(name="leduc", solver=Solver(iterations=1000))
    assert cfg.logging == Logging()
    assert cfg.players == ["a", "b"]  # an untouched default stays what the dataclass made


def test_build_every_field_type() -> None:
    cfg = build(
        {
            "name": "hunl",
            "solver": {
                "iterations": 5,
                "algorithm": "cfr+",
                "discount": 0,  # an integer is a valid float
                "prune": True,
                "seed": 7,
            },
            "logging": {"level": "debug", "every_seconds": 2.5},
            "bet_sizes": [0.33, 1, 2.0],
            "players": ["p0", "p1", "p2"],
            "limits": {"depth": 3, "actions": 4},
            "blinds": [5, 10],
            "note": "hello",
            "extra": {"level": "warning"},
            "seed_or_name": "lucky",
            "anything": {"free": ["form"]},
        }
    )
    assert cfg.solver == Solver(iterations=5, algorithm="cfr+", discount=0.0, prune=True, seed=7)
    assert isinstance(cfg.solver.discount, float)
    assert cfg.logging == Logging(level="debug", every_seconds=2.5)
    assert cfg.bet_sizes == (0.33, 1.0, 2.0)
    assert all(isinstance(size, float) for size in cfg.bet_sizes)
    assert cfg.players == ("p0", "p1", "p2")  # list[X] is stored as a tuple: immutable
    assert cfg.limits == {"depth": 3, "actions": 4}
    assert cfg.blinds == (5, 10)
    assert cfg.note == "hello"
    assert cfg.extra == Logging(level="warning")
    assert cfg.seed_or_name == "lucky"
    assert cfg.anything == {"free": ["form"]}


def test_build_optional_accepts_null() -> None:
    cfg = build({**with_solver(seed=None), "note": None, "extra": None})
    assert cfg.solver.seed is None and cfg.note is None and cfg.extra is None


def test_build_range_bounds_are_inclusive() -> None:
    assert build(with_solver(discount=1.0, iterations=1)).solver.discount == 1.0


# ----------------------------------------------------------------------------------------------
# build_dataclass: every error path, message asserted exactly


def test_unknown_key_lists_allowed_keys_and_suggests() -> None:
    assert config_error(with_solver(iteration=5)) == (
        f"{SRC}: unknown key 'solver.iteration'; allowed keys: iterations, algorithm, discount, "
        "prune, seed; did you mean 'iterations'?"
    )


def test_unknown_key_without_close_match() -> None:
    assert config_error({**MINIMAL, "zzz": 1}) == (
        f"{SRC}: unknown key 'zzz'; allowed keys: name, solver, logging, bet_sizes, players, "
        "limits, blinds, note, extra, seed_or_name, anything"
    )


def test_non_string_key() -> None:
    yaml_int_key: dict[Any, Any] = {**MINIMAL, 3: "x"}  # YAML allows `3: x`
    assert config_error(yaml_int_key) == f"{SRC}: key 3 at the top level must be a string"
    assert config_error({**MINIMAL, "limits": {1: 2}}) == (
        f"{SRC}: key 1 under 'limits' must be a string"
    )


def test_missing_required_key_with_help() -> None:
    assert config_error({"name": "x", "solver": {}}) == (
        f"{SRC}: missing required key 'solver.iterations' — traversals per player"
    )


def test_missing_required_keys_are_all_named() -> None:
    with pytest.raises(ConfigError) as info:
        build_dataclass(TwoRequired, {}, source=SRC)
    assert str(info.value) == f"{SRC}: missing required keys 'a', 'b'"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_solver(iterations="abc"),
            "key 'solver.iterations' must be an integer, got 'abc' (str) — traversals per player",
        ),
        (
            with_solver(iterations=2.0),
            "key 'solver.iterations' must be an integer, got 2.0 (float) — traversals per player",
        ),
        (
            with_solver(iterations=True),
            "key 'solver.iterations' must be an integer, got true (bool) — traversals per player",
        ),
        (with_solver(prune=1), "key 'solver.prune' must be true or false, got 1 (int)"),
        (with_solver(prune="yes"), "key 'solver.prune' must be true or false, got 'yes' (str)"),
        (with_solver(discount=False), "key 'solver.discount' must be a number, got false (bool)"),
        (with_solver(discount="0.5"), "key 'solver.discount' must be a number, got '0.5' (str)"),
        (with_solver(seed="x"), "key 'solver.seed' must be an integer or null, got 'x' (str)"),
        ({"name": 5, "solver": {"iterations": 1}}, "key 'name' must be a string, got 5 (int)"),
        ({"name": None, "solver": {"iterations": 1}}, "key 'name' must be a string, got null"),
        ({**MINIMAL, "note": 3}, "key 'note' must be a string or null, got 3 (int)"),
        (
            {**MINIMAL, "seed_or_name": 1.5},
            "key 'seed_or_name' must be an integer or a string, got 1.5 (float)",
        ),
    ],
)
def test_wrong_scalar_type(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == f"{SRC}: {message}"


def test_literal_lists_allowed_values_and_suggests() -> None:
    assert config_error(with_solver(algorithm="cfr")) == (
        f"{SRC}: key 'solver.algorithm' must be one of 'mccfr', 'cfr+', got 'cfr' (str); "
        "did you mean 'cfr+'?"
    )
    assert config_error({**MINIMAL, "logging": {"level": 2}}) == (
        f"{SRC}: key 'logging.level' must be one of 'debug', 'info', 'warning', got 2 (int)"
    )


def test_optional_literal_section_lists_values() -> None:
    assert config_error({**MINIMAL, "extra": {"level": "warn"}}) == (
        f"{SRC}: key 'extra.level' must be one of 'debug', 'info', 'warning', got 'warn' (str); "
        "did you mean 'warning'?"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_solver(iterations=0),
            "key 'solver.iterations' must be >= 1, got 0 — traversals per player",
        ),
        (with_solver(discount=1.5), "key 'solver.discount' must be between 0.0 and 1.0, got 1.5"),
        (with_solver(discount=-1), "key 'solver.discount' must be between 0.0 and 1.0, got -1.0"),
        (
            with_solver(discount=math.nan),
            "key 'solver.discount' must be between 0.0 and 1.0, got nan",
        ),
        (
            {**MINIMAL, "logging": {"every_seconds": 7200}},
            "key 'logging.every_seconds' must be <= 3600, got 7200.0",
        ),
    ],
)
def test_value_out_of_range(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == f"{SRC}: {message}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "solver": 5}, "key 'solver' must be a mapping of keys, got 5 (int)"),
        ({"name": "x", "solver": None}, "key 'solver' must be a mapping of keys, got null"),
        ({**MINIMAL, "extra": [1]}, "key 'extra' must be a mapping of keys, got [1] (list)"),
        ({**MINIMAL, "bet_sizes": 0.5}, "key 'bet_sizes' must be a list, got 0.5 (float)"),
        (
            {**MINIMAL, "bet_sizes": [0.5, "pot"]},
            "key 'bet_sizes[1]' must be a number, got 'pot' (str)",
        ),
        ({**MINIMAL, "players": "ab"}, "key 'players' must be a list, got 'ab' (str)"),
        ({**MINIMAL, "blinds": [1, 2, 3]}, "key 'blinds' must be a list of 2 items, got 3"),
        ({**MINIMAL, "limits": [1]}, "key 'limits' must be a mapping of keys, got [1] (list)"),
        (
            {**MINIMAL, "limits": {"depth": "deep"}},
            "key 'limits.depth' must be an integer, got 'deep' (str)",
        ),
    ],
)
def test_wrong_container_type(data: dict[str, Any], message: str) -> None:
    assert config_error(data) == f"{SRC}: {message}"


def test_top_level_not_a_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        build_dataclass(Config, ["name"], source=SRC)  # type: ignore[arg-type]
    assert str(info.value) == f"{SRC}: the top level must be a mapping of keys, got ['name'] (list)"


def test_long_bad_value_is_cut_to_keep_one_line() -> None:
    message = config_error({**MINIMAL, "name": ["x" * 20] * 10})
    assert message.startswith(f"{SRC}: key 'name' must be a string, got ['xxxxxxxx")
    assert message.endswith("... (list)")
    assert "\n" not in message and len(message) < 140


def test_post_init_value_error_becomes_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        build_dataclass(Outer, {"window": {"low": 5, "high": 1}}, source=SRC)
    assert str(info.value) == f"{SRC}: section 'window': low (5) must not exceed high (1)"
    assert isinstance(info.value.__cause__, ValueError)


def test_unsupported_field_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="unsupported field type"):
        build_dataclass(Unsupported, {"values": [1]}, source=SRC)


def test_not_a_dataclass_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="needs a dataclass type"):
        build_dataclass(dict, {}, source=SRC)


# ----------------------------------------------------------------------------------------------
# apply_overrides


def test_apply_overrides_replaces_dotted_keys_and_keeps_the_original() -> None:
    cfg = build(MINIMAL)
    new = apply_overrides(
        cfg,
        {"solver.iterations": 5000, "logging.level": "debug", "limits.depth": 2, "name": "x"},
        source="--set",
    )
    assert new.solver.iterations == 5000
    assert new.logging.level == "debug"
    assert new.limits == {"depth": 2}
    assert new.name == "x"
    assert new.solver.algorithm == cfg.solver.algorithm
    assert cfg.solver.iterations == 1000  # frozen original untouched


def test_apply_overrides_fills_an_absent_optional_section() -> None:
    new = apply_overrides(build(MINIMAL), {"extra.level": "warning"}, source="--set")
    assert new.extra == Logging(level="warning")


def test_apply_overrides_validates_with_the_override_source() -> None:
    cfg = build(MINIMAL)
    with pytest.raises(ConfigError) as info:
        apply_overrides(cfg, {"solver.iterations": "lots"}, source="--iterations")
    assert str(info.value) == (
        "--iterations: key 'solver.iterations' must be an integer, got 'lots' (str)"
        " — traversals per player"
    )
    with pytest.raises(ConfigError) as info:
        apply_overrides(cfg, {"solver.iterations": 0}, source="--iterations")
    assert str(info.value) == (
        "--iterations: key 'solver.iterations' must be >= 1, got 0 — traversals per player"
    )


def test_apply_overrides_unknown_key() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(build(MINIMAL), {"solver.iteratons": 5}, source="--set")
    assert str(info.value) == (
        "--set: unknown key 'solver.iteratons'; allowed keys: iterations, algorithm, discount, "
        "prune, seed; did you mean 'iterations'?"
    )


def test_apply_overrides_cannot_descend_into_a_value() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(build(MINIMAL), {"name.first": "x"}, source="--set")
    assert str(info.value) == "--set: cannot set 'name.first': 'name' is a value, not a section"


def test_apply_overrides_rejects_a_malformed_dotted_key() -> None:
    with pytest.raises(ConfigError) as info:
        apply_overrides(build(MINIMAL), {"solver..seed": 1}, source="--set")
    assert str(info.value) == "--set: 'solver..seed' is not a dotted key like 'solver.iterations'"


# ----------------------------------------------------------------------------------------------
# dataclass_to_dict


def test_dataclass_to_dict_is_plain_json() -> None:
    cfg = build({**MINIMAL, "bet_sizes": [0.5], "blinds": [1, 3]})
    data = dataclass_to_dict(cfg)
    assert data["bet_sizes"] == [0.5] and data["blinds"] == [1, 3]
    assert data["solver"] == {
        "iterations": 1000,
        "algorithm": "mccfr",
        "discount": 1.0,
        "prune": False,
        "seed": None,
    }
    json.dumps(data, allow_nan=False)  # raises if anything is not plain JSON


def test_round_trip_through_json_manifest() -> None:
    cfg = build(
        {
            **with_solver(algorithm="cfr+", seed=3, prune=True),
            "bet_sizes": [0.25, 3.0],
            "players": ["x"],
            "limits": {"a": 1},
            "extra": {"level": "debug"},
            "note": "n",
            "seed_or_name": "s",
        }
    )
    restored = build_dataclass(
        Config, json.loads(json.dumps(dataclass_to_dict(cfg))), source="manifest.json"
    )
    assert restored == cfg


def test_dataclass_to_dict_needs_an_instance() -> None:
    with pytest.raises(TypeError, match="needs a dataclass instance"):
        dataclass_to_dict(Config)
