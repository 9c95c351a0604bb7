"""Reading a YAML file: what PyYAML raises besides YAMLError becomes one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdemd.config.yaml_file import MAX_NESTING, load_yaml_file
from holdemd.errors import ConfigError, ExitCode


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_thousands_of_nested_brackets_are_one_line_not_a_recursion_error(
    tmp_path: Path, opening: str
) -> None:
    path = tmp_path / "deep.yaml"
    closing = "]" if opening == "[" else "}"
    path.write_text("game: " + opening * 5000 + "1" + closing * 5000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    column = 7 + (MAX_NESTING - 1) * len(opening)  # the bracket one level too deep
    assert str(info.value) == (
        f"{path}:1:{column}: invalid YAML: lists and mappings nested more than {MAX_NESTING} "
        "deep; a config needs 4"
    )
    assert info.value.exit_code == ExitCode.USAGE


def test_deep_block_indentation_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("".join("  " * depth + "a:\n" for depth in range(5000)))
    with pytest.raises(ConfigError, match=r"deep.yaml:\d+:\d+: invalid YAML: lists and mappings"):
        load_yaml_file(path)


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: " + "[" * (MAX_NESTING - 1) + "1" + "]" * (MAX_NESTING - 1) + "\n")
    data = load_yaml_file(path)
    for _ in range(MAX_NESTING):
        data = data["a"] if isinstance(data, dict) else data[0]
    assert data == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("board: 2024-02-30\n", "day is out of range for month"),
        ("players: !!int six\n", "invalid literal for int() with base 10: 'six'"),
        ("stack_bb: !!float deep\n", "could not convert string to float: 'deep'"),
        ("? [a, b]\n: 1\n", "unhashable type: 'list'"),
    ],
)
def test_a_value_yaml_cannot_construct_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_yaml_file(path)
    assert str(info.value) == (
        f"{path}: invalid YAML: cannot read a value ({problem}); quote it if it is text"
    )
