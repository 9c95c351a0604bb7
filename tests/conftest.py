"""What the whole suite shares: the ``needs_jit`` marker and the process reaper.

``@pytest.mark.needs_jit(reason=...)`` marks a test that runs the compiled kernels at a scale
plain Python cannot (real training runs, millions of iterations): skipped, with its reason,
under ``NUMBA_DISABLE_JIT=1`` (``make test-nojit``), which checks the kernels' Python path.

``reaper`` (use it with ``pytest.mark.usefixtures("reaper")`` or as an argument) kills whatever
holdemd process a test left behind and unlinks its shared memory, then fails the test if there
was anything to clean: see ``tests/daemon/processes.py``.

The compiled-game cache (``holdemd.games.cache``) goes to a directory of the session's, removed
at its end, so that tests neither read a developer's entries nor leave theirs behind.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from holdemd.games.cache import ENV_VAR as GAME_CACHE_VAR
from tests.daemon.processes import Reaper

NO_JIT = os.environ.get("NUMBA_DISABLE_JIT") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not NO_JIT:
        return
    for item in items:
        marker = item.get_closest_marker("needs_jit")
        if marker is not None:
            reason = marker.kwargs.get("reason", "needs the compiled kernels")
            item.add_marker(pytest.mark.skip(reason=f"NUMBA_DISABLE_JIT=1: {reason}"))


@pytest.fixture(autouse=True, scope="session")
def session_game_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root = tmp_path_factory.mktemp("game-cache")
    previous = os.environ.get(GAME_CACHE_VAR)
    os.environ[GAME_CACHE_VAR] = str(root)  # worker processes inherit it
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(GAME_CACHE_VAR, None)
        else:
            os.environ[GAME_CACHE_VAR] = previous
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    reaper = Reaper()
    try:
        yield reaper
    finally:
        leftovers = reaper.cleanup()
    assert not leftovers, f"left behind: {leftovers}"
