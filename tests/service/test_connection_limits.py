"""Who may open another control connection, and how often a storm may write to the log."""

from __future__ import annotations

import logging

import pytest

from holdemd.service.connection_limits import MAX_TOTAL, Admission, ConnectionLimits
from holdemd.service.log_limit import RateLimitedLog

OWNER = 1000
ALICE, BOB, CAROL = 2001, 2002, 2003


def test_limits_leave_the_run_half_the_descriptors() -> None:
    limits = ConnectionLimits.for_fd_limit(256)
    assert (limits.total, limits.others, limits.per_uid) == (128, 96, 24)
    assert ConnectionLimits.for_fd_limit(1 << 20).total == MAX_TOTAL
    assert ConnectionLimits.for_fd_limit(-1).total == MAX_TOTAL  # RLIM_INFINITY
    tiny = ConnectionLimits.for_fd_limit(10)
    assert tiny.total >= tiny.others >= tiny.per_uid >= 2


def test_one_other_user_is_held_to_its_share() -> None:
    admission = Admission(ConnectionLimits(total=10, others=6, per_uid=3), OWNER)
    assert [admission.admit(ALICE) for _ in range(3)] == [None, None, None]
    refusal = admission.admit(ALICE)
    assert refusal is not None and f"uid {ALICE}" in refusal and "close some" in refusal
    assert admission.admit(BOB) is None  # others are not held to Alice's count
    admission.release(ALICE)
    assert admission.admit(ALICE) is None  # a closed connection frees its place


def test_the_owner_and_root_keep_a_way_in_when_other_users_fill_theirs() -> None:
    admission = Admission(ConnectionLimits(total=10, others=6, per_uid=3), OWNER)
    for uid in (ALICE, ALICE, ALICE, BOB, BOB, BOB):
        assert admission.admit(uid) is None
    refusal = admission.admit(CAROL)
    assert refusal is not None and "other users" in refusal
    assert admission.admit(None) is not None  # an unknown peer counts as another user
    assert admission.admit(OWNER) is None
    assert admission.admit(0) is None
    assert admission.admit(OWNER) is None and admission.admit(OWNER) is None
    assert admission.admit(OWNER) is not None  # the total binds everyone
    assert admission.open == 10


def test_release_undoes_admit() -> None:
    admission = Admission(ConnectionLimits(total=4, others=2, per_uid=2), OWNER)
    for uid in (ALICE, OWNER, None):
        assert admission.admit(uid) is None
    for uid in (ALICE, OWNER, None):
        admission.release(uid)
    assert (admission.open, admission.from_others, dict(admission.by_uid)) == (0, 0, {})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_storm_of_one_message_is_logged_a_few_times_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    noisy = RateLimitedLog(logging.getLogger("holdemd.test"), burst=3, interval=60, clock=clock)
    with caplog.at_level(logging.INFO, logger="holdemd.test"):
        for i in range(1000):
            noisy.log(logging.WARNING, "refused", "refused connection %d", i)
        noisy.log(logging.INFO, "other", "a different kind goes through")
        noisy.flush()  # the window has not ended: nothing to report yet
        assert [r.getMessage() for r in caplog.records] == [
            "refused connection 0",
            "refused connection 1",
            "refused connection 2",
            "a different kind goes through",
        ]
        caplog.clear()
        clock.now += 60
        noisy.flush()
        assert [r.getMessage() for r in caplog.records] == [
            "suppressed 997 similar messages (refused) in the last 60 s"
        ]
        assert caplog.records[0].levelno == logging.WARNING
        caplog.clear()
        noisy.log(logging.WARNING, "refused", "refused connection %d", 1000)  # a new window
        clock.now += 61
        noisy.log(logging.WARNING, "refused", "refused connection %d", 1001)
    assert [r.getMessage() for r in caplog.records] == [
        "refused connection 1000",
        "refused connection 1001",
    ]
