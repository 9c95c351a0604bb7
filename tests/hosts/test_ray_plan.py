"""``ray_plan``: what ``--ray`` decides without Ray, at the start and at every look at the
cluster: which Ray nodes get a holdemd node and under which name, which are left out for a
missing key, which have left; and the address Ray is reached at."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdemd.hosts.ray_plan import (
    Changes,
    RayNode,
    free_names,
    gcs_endpoint,
    keyless_message,
    missing_keys_error,
    plan_changes,
)

BIG = RayNode("big", "10.0.0.6", 4)
SMALL = RayNode("small", "10.0.0.2", 2)
LATE = RayNode("late", "10.0.0.9", 8)
KEYS = {"ray-1", "ray-2", "ray-3"}


def test_the_first_look_names_every_node_largest_first() -> None:
    assert plan_changes([BIG, SMALL], {}, KEYS) == Changes(place=((BIG, "ray-1"), (SMALL, "ray-2")))


def test_a_node_that_joins_gets_the_next_name_and_the_placed_ones_are_left_alone() -> None:
    placed = {"big": "ray-1", "small": "ray-2"}
    assert plan_changes([LATE, BIG, SMALL], placed, KEYS) == Changes(place=((LATE, "ray-3"),))
    # Nothing new: nothing to do, however often the head looks.
    assert plan_changes([BIG, SMALL], placed, KEYS) == Changes()


def test_a_node_that_left_is_gone_and_nothing_is_placed_in_its_stead() -> None:
    placed = {"big": "ray-1", "small": "ray-2"}
    changes = plan_changes([SMALL], placed, KEYS)
    assert changes == Changes(gone=("big",))  # SMALL, which has a node, gets no second one


def test_a_name_freed_by_a_node_that_left_goes_to_the_next_node_to_join() -> None:
    placed = {"big": "ray-1", "small": "ray-2"}
    assert plan_changes([LATE, SMALL], placed, KEYS) == Changes(
        place=((LATE, "ray-1"),), gone=("big",)
    )


def test_a_name_still_connected_at_the_head_is_not_given_again() -> None:
    """BIG's node may still be connected for a few seconds after its Ray node went (the head
    lets a silent host go after 6 s); a host started by hand may use a ray-* name too."""
    placed = {"big": "ray-1", "small": "ray-2"}
    changes = plan_changes([LATE, SMALL], placed, KEYS, in_use={"ray-1", "ray-2"})
    assert changes == Changes(place=((LATE, "ray-3"),), gone=("big",))


def test_a_node_without_a_key_for_its_name_is_left_out_and_takes_its_name_only_for_now() -> None:
    placed = {"big": "ray-1", "small": "ray-2", "late": "ray-3"}
    fourth, fifth = RayNode("n4", "10.0.0.4", 1), RayNode("n5", "10.0.0.5", 1)
    changes = plan_changes([BIG, SMALL, LATE, fourth, fifth], placed, KEYS)
    assert changes == Changes(keyless=((fourth, "ray-4"), (fifth, "ray-5")))
    # Once a name with a key is free, the first of them gets it.
    changes = plan_changes([SMALL, LATE, fourth, fifth], placed, KEYS)
    assert changes == Changes(
        place=((fourth, "ray-1"),), keyless=((fifth, "ray-4"),), gone=("big",)
    )


def test_names_are_the_lowest_free_ones() -> None:
    names = free_names({"ray-1", "ray-3", "n1"})
    assert [next(names) for _ in range(3)] == ["ray-2", "ray-4", "ray-5"]


def test_missing_keys_at_the_start_stop_the_run_with_the_command_that_makes_them() -> None:
    error = missing_keys_error(Path("/k"), ["ray-2", "ray-3"], ["ray-1", "ray-2", "ray-3"])
    assert str(error) == (
        "/k: no key for ray-2, ray-3 (one per Ray node); run holdemd keys init /k --hosts "
        "ray-1 ray-2 ray-3 and copy the directory, less head.key_secret, to the same path on "
        "every Ray node"
    )


def test_a_keyless_node_that_joined_is_named_with_the_command_that_makes_its_key() -> None:
    assert keyless_message(Path("/k"), RayNode("n4", "10.0.0.4", 2), "ray-4") == (
        "ray: the Ray node 10.0.0.4 (2 CPU) that joined gets no holdemd node: no key for "
        "ray-4 in /k; run holdemd keys init /k --hosts ray-4, copy the directory (less "
        "head.key_secret) to the Ray nodes and restart the run"
    )


@pytest.mark.parametrize(
    ("address", "endpoint"),
    [
        ("10.0.0.1:6379", ("10.0.0.1", 6379)),
        ("head.example:6380", ("head.example", 6380)),
        ("[fd00::1]:6379", ("fd00::1", 6379)),
        ("ray://10.0.0.1:10001", ("10.0.0.1", 10001)),
        ("ray://head.example", ("head.example", 10001)),  # Ray Client's own port
        ("auto", None),  # Ray finds the local cluster itself
        ("head.example", None),  # no port: Ray's to refuse
    ],
)
def test_the_address_checked_before_ray_connects(
    address: str, endpoint: tuple[str, int] | None
) -> None:
    assert gcs_endpoint(address) == endpoint
