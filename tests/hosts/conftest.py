"""Fixtures for tests across network namespaces (``tests/hosts/netns.py``).

``make_hosts(["head", "n1"], **options)`` builds a :class:`Hosts` that is closed at the end of
the test whatever happens (use ``with Hosts(...)`` where a test wants the end inside its body).
It skips the test, with the reason, where namespaces cannot be built (not root, no ``ip``...);
with ``HOLDEMD_REQUIRE_NETNS=1`` (CI, which runs as root) it fails instead, so a broken
environment can never pass the suite by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from tests.hosts.netns import Hosts, unavailable

REQUIRE_VAR = "HOLDEMD_REQUIRE_NETNS"


@pytest.fixture
def netns_available() -> None:
    """Skip (or, with HOLDEMD_REQUIRE_NETNS=1, fail) unless network namespaces work here."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{REQUIRE_VAR}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def make_hosts(netns_available: None) -> Iterator[Callable[..., Hosts]]:
    made: list[Hosts] = []

    def make(names: Sequence[str], **options: Any) -> Hosts:
        hosts = Hosts(names, **options).start()
        made.append(hosts)
        return hosts

    try:
        yield make
    finally:
        for hosts in made:
            hosts.close()
