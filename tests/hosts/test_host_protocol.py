"""The host protocol's codec: every message round-trips, and garbage is one ProtocolError."""

from __future__ import annotations

import math

import msgpack
import numpy as np
import pytest

from holdemd.protocol.errors import E_VERSION, ProtocolError
from holdemd.protocol.host_codec import decode, encode
from holdemd.protocol.hosts import (
    Check,
    HostBeat,
    HostDelta,
    HostMessage,
    HostUpdate,
    Join,
    Joined,
    Leave,
    Refused,
)
from holdemd.protocol.worker import Settings, WorkerSpec

SETTINGS = Settings(prune_probability=0.95, prune_threshold=-300.0, average_streets=1)
SPEC = WorkerSpec(
    game={"name": "leduc"},
    buckets="quick",
    seed=7,
    linear=True,
    batch_size=200,
    heartbeat_interval=1.0,
    lockstep=False,
    prediction=True,
)


def _rows(*rows: int) -> np.ndarray:
    return np.array(rows, dtype=np.int32)


SAMPLES: list[HostMessage] = [
    Join(name="laptop", version="1.0", code="abc", num_workers=2),
    Joined(
        run_id="r1",
        session=3,
        host_index=1,
        config={"game": {"name": "leduc"}, "training": {"batch_size": 200}},
        spec=SPEC,
        settings=SETTINGS,
        regret_floor=-math.inf,
        iteration=1234,
        lazy=True,
    ),
    Refused(reason="no", retry=False),
    Check(session=3, game_key="k", abstraction_digest="", num_rows=288, max_actions=3),
    HostDelta(
        session=3,
        seq=1,
        iterations=400,
        rows=_rows(1, 5),
        regret=np.ones((2, 3), dtype=np.float32),
        strategy=np.zeros((2, 3), dtype=np.float32),
        workers=2,
        rate=1000.0,
        final=False,
    ),
    HostUpdate(
        session=3,
        seq=1,
        iteration=5000,
        rows=_rows(0, 1, 2),
        values=np.arange(9, dtype=np.int32).reshape(3, 3),
        remaining=10,
        discounts=np.array([0.5, 0.75]),
        settings=SETTINGS,
        regret_floor=-310.0,
        paused=False,
        stopping=True,
    ),
    HostBeat(session=3),
    Leave(session=3, reason="bye"),
]


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message: HostMessage) -> None:
    back = decode(encode(message))
    assert type(back) is type(message)
    for name, value in vars(message).items():
        got = getattr(back, name)
        if isinstance(value, np.ndarray):
            assert got.dtype == value.dtype and np.array_equal(got, value)
        else:
            assert got == value


def test_a_delta_whose_shapes_disagree_is_refused() -> None:
    delta = SAMPLES[4]
    assert isinstance(delta, HostDelta)
    bad = HostDelta(**{**vars(delta), "rows": _rows(1, 2, 3)})
    with pytest.raises(ProtocolError, match="regret has 2 rows, rows has 3"):
        encode(bad)


def test_non_finite_work_is_refused_before_it_reaches_a_table() -> None:
    delta = SAMPLES[4]
    assert isinstance(delta, HostDelta)
    poisoned = np.ones((2, 3), dtype=np.float32)
    poisoned[1, 2] = np.inf
    with pytest.raises(ProtocolError, match="non-finite"):
        encode(HostDelta(**{**vars(delta), "regret": poisoned}))


def test_another_protocol_version_is_named() -> None:
    wire = msgpack.unpackb(encode(SAMPLES[0]))
    wire["v"] = 99
    with pytest.raises(ProtocolError) as info:
        decode(msgpack.packb(wire))
    assert info.value.code == E_VERSION


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xc1garbage", msgpack.packb([1, 2])])
def test_garbage_is_one_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode(data)


def test_a_floor_above_zero_is_no_floor() -> None:
    wire = msgpack.unpackb(encode(SAMPLES[1]))
    wire["regret_floor"] = 5.0
    with pytest.raises(ProtocolError, match="regret_floor"):
        decode(msgpack.packb(wire))


def test_a_lazy_tables_update_carries_compact_rows() -> None:
    update = SAMPLES[5]
    assert isinstance(update, HostUpdate)
    compact = HostUpdate(**{**vars(update), "values": np.arange(7, dtype=np.int32)})
    back = decode(encode(compact))
    assert isinstance(back, HostUpdate)
    assert back.values.shape == (7,) and back.values.tolist() == list(range(7))


@pytest.mark.parametrize("factor", [0.0, 1.5, float("nan")])
def test_a_discount_that_is_no_factor_is_refused(factor: float) -> None:
    update = SAMPLES[5]
    assert isinstance(update, HostUpdate)
    with pytest.raises(ProtocolError, match="discounts"):
        encode(HostUpdate(**{**vars(update), "discounts": np.array([factor])}))
