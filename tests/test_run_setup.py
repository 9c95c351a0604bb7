"""Choosing a run directory."""

from __future__ import annotations

from holdemd.run_setup import new_run_dir


def test_a_run_started_in_the_same_second_as_another_gets_its_own_directory(tmp_path) -> None:
    first = new_run_dir(tmp_path, "leduc")
    assert not first.exists()  # named, not created: a failed start leaves nothing behind
    first.mkdir()
    second = new_run_dir(tmp_path, "leduc")
    second.mkdir()
    third = new_run_dir(tmp_path, "leduc")
    if first.name.split("-")[1:3] == third.name.split("-")[1:3]:  # still the same second
        assert (second.name, third.name) == (f"{first.name}-2", f"{first.name}-3")
    assert len({first, second, third}) == 3
