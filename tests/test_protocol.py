"""Tests of holdemd.protocol: worker frames (worker, fields, codec) and control lines (control)."""

from __future__ import annotations

import dataclasses
import json
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest

from holdemd.errors import HoldemdError
from holdemd.protocol import codec, control
from holdemd.protocol.codec import decode, encode
from holdemd.protocol.control import (
    CONTROL_VERSION,
    MAX_CONTROL_LINE,
    ControlReply,
    ControlRequest,
    ReplyError,
    encode_reply,
    encode_request,
    parse_reply,
    parse_request,
)
from holdemd.protocol.errors import (
    E_BAD_JSON,
    E_BAD_REQUEST,
    E_INTERNAL,
    E_TOO_LARGE,
    E_VERSION,
    ERROR_CODES,
    ProtocolError,
)
from holdemd.protocol.worker import (
    MAX_ARRAY_ELEMENTS,
    MAX_CONTROL_BYTES,
    PROTOCOL_VERSION,
    Ack,
    Bye,
    Delta,
    Error,
    Heartbeat,
    Hello,
    Message,
    Pause,
    Ready,
    Resume,
    Stop,
    TableHandle,
    Welcome,
    WorkerSpec,
)

ROOT = Path(__file__).resolve().parents[1]


def _delta(dtype: Any = np.float32, k: int = 3, actions: int = 4, seed: int = 0) -> Delta:
    rng = np.random.default_rng(seed)
    return Delta(
        slot=2,
        incarnation=1,
        seq=7,
        iterations=128,
        batch_seconds=0.25,
        rows=rng.permutation(max(k, 10_000))[:k].astype(np.int32),
        regret=rng.standard_normal((k, actions)).astype(dtype),
        strategy=rng.random((k, actions)).astype(dtype),
    )


def _welcome() -> Welcome:
    return Welcome(
        run_id="run-20240101-abc",
        slot=3,
        incarnation=2,
        stream=5,
        first_iteration=1_000,
        tables={
            "regret": TableHandle("/holdemd-regret", "<f8", (288, 3)),
            "strategy_sum": TableHandle("/holdemd-strategy", "<f4", (288, 3)),
        },
        spec=WorkerSpec(
            game={"name": "leduc", "raises": [2, 4], "stack": None, "opts": {"ante": 1.5, "x": 1}},
            buckets="quick",
            seed=2**64 - 1,
            linear=True,
            batch_size=256,
            heartbeat_interval=0.5,
            lockstep=True,
            prediction=False,
        ),
    )


def _welcome_with_game(game: dict[Any, Any]) -> Welcome:
    welcome = _welcome()
    return dataclasses.replace(welcome, spec=dataclasses.replace(welcome.spec, game=game))


SAMPLES: dict[str, Message] = {
    "hello": Hello(pid=4242, slot=0, incarnation=0, nonce="9f2c1e"),
    "ready": Ready(slot=1, incarnation=3, compile_seconds=12.5),
    "heartbeat": Heartbeat(
        slot=1,
        incarnation=3,
        iterations_done=10_000,
        batch_seconds=0.75,
        rss_bytes=123_456_789,
        state="running",
        cpu_seconds=42.0,
    ),
    "delta": _delta(),
    "delta64": _delta(np.float64, k=5, actions=2, seed=1),
    "delta_empty": _delta(k=0),
    "error": Error(slot=1, incarnation=0, exc_type="MemoryError", message="boom", traceback="tb"),
    "bye": Bye(slot=1, incarnation=0, reason="stop requested"),
    "welcome": _welcome(),
    "pause": Pause(),
    "resume": Resume(),
    "stop": Stop(reason="shutdown"),
    "ack": Ack(seq=7),
}


def _assert_same(got: Message, want: Message) -> None:
    assert type(got) is type(want)
    if isinstance(want, Delta):
        assert isinstance(got, Delta)
        for name in ("slot", "incarnation", "seq", "iterations", "batch_seconds"):
            assert getattr(got, name) == getattr(want, name)
        for name in ("rows", "regret", "strategy"):
            got_array, want_array = getattr(got, name), getattr(want, name)
            assert got_array.dtype == want_array.dtype
            assert got_array.shape == want_array.shape
            assert np.array_equal(got_array, want_array)
    else:
        assert got == want


def _wire(msg: Message) -> dict[str, Any]:
    wire: dict[str, Any] = msgpack.unpackb(encode(msg))
    return wire


def _frame(wire: object) -> bytes:
    frame: bytes = msgpack.packb(wire, use_bin_type=True)
    return frame


def _array_wire(array: np.ndarray) -> dict[str, Any]:
    return {"dtype": array.dtype.str, "shape": list(array.shape), "data": array.tobytes()}


def _raises(data: bytes, match: str, code: str = E_BAD_REQUEST) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode(data)
    assert match in str(info.value)
    assert info.value.code == code
    return info.value


# --------------------------------------------------------------------------------------------
# Worker frames: round trips


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_message_round_trips(name: str) -> None:
    msg = SAMPLES[name]
    data = encode(msg)
    assert isinstance(data, bytes)
    _assert_same(decode(data), msg)
    _assert_same(decode(bytearray(data)), msg)
    _assert_same(decode(memoryview(data)), msg)


def test_every_frame_names_its_type_first_and_carries_the_version() -> None:
    for msg in SAMPLES.values():
        wire = _wire(msg)
        assert next(iter(wire)) == "type"
        assert wire["type"] == msg.TYPE
        assert wire["v"] == PROTOCOL_VERSION


def test_arrays_travel_as_little_endian_bytes_and_come_back_read_only() -> None:
    msg = SAMPLES["delta"]
    assert isinstance(msg, Delta)
    wire = _wire(msg)
    assert wire["regret"] == {
        "dtype": "<f4",
        "shape": [3, 4],
        "data": msg.regret.astype("<f4").tobytes(),
    }
    assert wire["rows"]["dtype"] == "<i4"
    got = decode(encode(msg))
    assert isinstance(got, Delta)
    assert not got.regret.flags.writeable  # a view of the frame's bytes, as documented


def test_big_endian_and_non_contiguous_arrays_are_sent_as_little_endian() -> None:
    base = np.arange(24, dtype=np.float64).reshape(3, 8)
    msg = Delta(
        slot=0,
        incarnation=0,
        seq=0,
        iterations=1,
        batch_seconds=0,
        rows=np.array([4, 1, 9], dtype=">i4"),
        regret=base[:, ::2].astype(">f8"),
        strategy=base[:, 1::2],
    )
    got = decode(encode(msg))
    assert isinstance(got, Delta)
    assert got.rows.dtype == np.dtype("<i4") and got.rows.tolist() == [4, 1, 9]
    assert got.regret.dtype == np.dtype("<f8")
    assert np.array_equal(got.regret, base[:, ::2])
    assert np.array_equal(got.strategy, base[:, 1::2])
    assert got.batch_seconds == 0.0 and isinstance(got.batch_seconds, float)


def test_a_delta_may_exceed_the_control_limit() -> None:
    msg = _delta(np.float64, k=100_000, actions=2)  # 3.2 MB of arrays
    data = encode(msg)
    assert len(data) > MAX_CONTROL_BYTES
    _assert_same(decode(data), msg)


def test_welcome_game_tuples_come_back_as_lists() -> None:
    spec = dataclasses.replace(_welcome().spec, game={"menu": (0.5, 1.0)})
    got = decode(encode(dataclasses.replace(_welcome(), spec=spec)))
    assert isinstance(got, Welcome)
    assert got.spec.game == {"menu": [0.5, 1.0]}


def test_table_handle_nbytes() -> None:
    assert TableHandle("/x", "<f8", (288, 3)).nbytes == 288 * 3 * 8
    assert TableHandle("/x", "|u1", (10,)).nbytes == 10


def test_error_from_exception_carries_type_message_and_traceback() -> None:
    def fail() -> None:
        raise ValueError("bad bucket " + "x" * 100_000)

    try:
        fail()
    except ValueError as exc:
        msg = Error.from_exception(4, 2, exc)
    assert msg.exc_type == "ValueError"
    assert msg.message.startswith("bad bucket") and len(msg.message) == 64 * 1024
    assert len(msg.traceback) == 64 * 1024
    assert msg.traceback.rstrip().endswith("x")  # the tail (innermost frame, message) is kept
    _assert_same(decode(encode(msg)), msg)


def test_protocol_error_is_a_holdemd_error() -> None:
    assert issubclass(ProtocolError, HoldemdError)


# --------------------------------------------------------------------------------------------
# Worker frames: validation


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda wire: wire.__setitem__(key, value)


def _pop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda wire: wire.pop(key)


def _set_array(key: str, array: np.ndarray) -> Callable[[dict[str, Any]], None]:
    return _set(key, _array_wire(array))


def _edit(*path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(wire: dict[str, Any]) -> None:
        for key in path[:-1]:
            wire = wire[key]
        wire[path[-1]] = value

    return edit


_NESTED: object = 1
for _ in range(40):
    _NESTED = [_NESTED]

_NAN_REGRET = np.zeros((3, 4), np.float32)
_NAN_REGRET[1, 2] = np.nan
_INF_STRATEGY = np.zeros((3, 4), np.float32)
_INF_STRATEGY[0, 0] = np.inf

INVALID: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("ack", _set("v", 2), "protocol version 2, expected 1", E_VERSION),
    ("hello", _set("v", 99), "protocol version 99", E_VERSION),
    ("ack", _pop("v"), "missing or non-int protocol version", E_BAD_REQUEST),
    ("ack", _set("v", True), "missing or non-int protocol version", E_BAD_REQUEST),
    ("ack", _set("type", "nack"), "unknown message type 'nack'", E_BAD_REQUEST),
    ("ack", _set("type", 3), "unknown message type '3'", E_BAD_REQUEST),
    ("ack", _pop("type"), "unknown message type 'None'", E_BAD_REQUEST),
    ("ready", _pop("compile_seconds"), "ready: missing field(s) compile_seconds", E_BAD_REQUEST),
    ("ready", _set("extra", 1), "ready: unknown field(s) 'extra'", E_BAD_REQUEST),
    ("ready", _set("slot", True), "ready.slot: expected an int, got bool", E_BAD_REQUEST),
    ("ready", _set("slot", "0"), "ready.slot: expected an int, got str", E_BAD_REQUEST),
    ("ready", _set("slot", 1.0), "ready.slot: expected an int, got float", E_BAD_REQUEST),
    ("ready", _set("slot", -1), "ready.slot: -1 is out of range", E_BAD_REQUEST),
    ("ready", _set("compile_seconds", "1"), "expected a float, got str", E_BAD_REQUEST),
    ("ready", _set("compile_seconds", False), "expected a float, got bool", E_BAD_REQUEST),
    ("ready", _set("compile_seconds", float("nan")), "is not a finite", E_BAD_REQUEST),
    ("ready", _set("compile_seconds", -0.5), "is not a finite >= 0", E_BAD_REQUEST),
    ("hello", _set("pid", 0), "hello.pid: 0 is out of range", E_BAD_REQUEST),
    ("hello", _set("nonce", b"9f"), "hello.nonce: expected a str, got bytes", E_BAD_REQUEST),
    ("hello", _set("nonce", "n" * 257), "over the 256-char limit", E_BAD_REQUEST),
    ("heartbeat", _set("state", "asleep"), "'asleep' is not one of compiling", E_BAD_REQUEST),
    ("heartbeat", _set("rss_bytes", None), "expected an int, got NoneType", E_BAD_REQUEST),
    ("error", _set("traceback", ["tb"]), "error.traceback: expected a str", E_BAD_REQUEST),
    (
        "welcome",
        _edit("spec", "linear", value=1),
        "welcome.spec.linear: expected a bool, got int",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "batch_size", value=0),
        "welcome.spec.batch_size: 0 is out of range",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "heartbeat_interval", value=0.0),
        "finite positive number",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "seed", value=-1),
        "welcome.spec.seed: -1 is out of range",
        E_BAD_REQUEST,
    ),
    ("welcome", _set("tables", []), "expected a map of at most 64 tables", E_BAD_REQUEST),
    (
        "welcome",
        _edit("tables", "regret", "dtype", value=">f8"),
        "'>f8' is not one of",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("tables", "regret", "shape", value=[1, 2, 3]),
        "1..2 dimensions",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("tables", "regret", "shape", value=[-1]),
        "-1 is out of range",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("tables", "regret", value={"shm_name": "/x"}),
        "exactly shm_name, dtype and shape",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "game", value={"blob": b"raw"}),
        "welcome.spec.game: bytes is not JSON-able",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "game", value=[1]),
        "welcome.spec.game: expected a map, got list",
        E_BAD_REQUEST,
    ),
    (
        "welcome",
        _edit("spec", "game", value={"deep": _NESTED}),
        "nested deeper than 32",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _edit("regret", "dtype", value="<f2"),
        "delta.regret: dtype '<f2' is not one of <f4, <f8",
        E_BAD_REQUEST,
    ),
    ("delta", _edit("regret", "dtype", value=">f4"), "dtype '>f4' is not one of", E_BAD_REQUEST),
    (
        "delta",
        _set_array("rows", np.array([1, 2, 3], np.uint8)),
        "delta.rows: dtype '|u1' is not one of <i4, <i8",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("rows", np.array([1.0, 2.0, 3.0], np.float32)),
        "delta.rows: dtype '<f4'",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _edit("regret", "data", value=b"\0" * 47),
        "data has 47 bytes, shape needs 48",
        E_BAD_REQUEST,
    ),
    ("delta", _edit("regret", "data", value="text"), "data must be bin, got str", E_BAD_REQUEST),
    ("delta", _edit("regret", "shape", value=[3, 4, 1]), "list of 2..2 dimensions", E_BAD_REQUEST),
    ("delta", _edit("regret", "shape", value=[12]), "list of 2..2 dimensions", E_BAD_REQUEST),
    (
        "delta",
        _edit("rows", "shape", value=[MAX_ARRAY_ELEMENTS + 1]),
        f"over {MAX_ARRAY_ELEMENTS} elements",
        E_BAD_REQUEST,
    ),
    ("delta", _edit("regret", "shape", value=[2**40, 2**40]), "elements", E_BAD_REQUEST),
    (
        "delta",
        lambda wire: wire["regret"].pop("data"),
        "exactly dtype, shape and data",
        E_BAD_REQUEST,
    ),
    ("delta", _set("regret", [[0.0] * 4] * 3), "expected an array map", E_BAD_REQUEST),
    (
        "delta",
        _set_array("rows", np.array([1, 2], np.int32)),
        "delta: regret has 3 rows, rows has 2",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("strategy", np.zeros((3, 4), np.float64)),
        "strategy must have the dtype and shape of regret",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("strategy", np.zeros((3, 5), np.float32)),
        "strategy must have the dtype and shape",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("rows", np.array([4, -1, 2], np.int32)),
        "delta: negative row index",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("regret", _NAN_REGRET),
        "delta: regret has non-finite values",
        E_BAD_REQUEST,
    ),
    (
        "delta",
        _set_array("strategy", _INF_STRATEGY),
        "delta: strategy has non-finite values",
        E_BAD_REQUEST,
    ),
]


@pytest.mark.parametrize(("sample", "mutate", "match", "code"), INVALID)
def test_invalid_field_is_rejected_with_a_reason(
    sample: str, mutate: Callable[[dict[str, Any]], None], match: str, code: str
) -> None:
    wire = _wire(SAMPLES[sample])
    mutate(wire)
    _raises(_frame(wire), match, code)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "not a msgpack frame"),
        (b"\xc1", "not a msgpack frame"),
        (encode(SAMPLES["heartbeat"])[:-3], "not a msgpack frame"),
        (encode(SAMPLES["ack"]) + b"\x00", "not a msgpack frame (ExtraData: "),
        (_frame({1: 2}), "not a msgpack frame"),  # strict_map_key: only str keys
        (_frame({"type": "ack", "v": 1, "seq": msgpack.ExtType(1, b"x")}), "not a msgpack frame"),
        (b"\x91" * 100_000, "not a msgpack frame"),  # nested past msgpack's stack limit
        (_frame([1, 2]), "expected a map, got list"),
        (_frame("ack"), "expected a map, got str"),
        (_frame(None), "expected a map, got NoneType"),
        (_frame({b"type": "ack", b"v": 1, b"seq": 1}), "missing or non-int protocol version"),
    ],
)
def test_garbage_is_rejected(data: bytes, match: str) -> None:
    _raises(data, match)


@pytest.mark.parametrize("data", ["a str", None, 42, [1, 2]])
def test_decode_rejects_non_bytes(data: Any) -> None:
    with pytest.raises(ProtocolError, match="expected bytes"):
        decode(data)


def test_extra_keys_named_as_bytes_are_reported() -> None:
    wire = _wire(SAMPLES["ack"])
    wire[b"raw"] = 1  # type: ignore[index]
    _raises(_frame(wire), "ack: unknown field(s) b'raw'")


# --------------------------------------------------------------------------------------------
# Worker frames: encode validates too


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        ("not a message", "not a protocol message: str"),
        (Hello(pid=np.int64(3), slot=0, incarnation=0, nonce="n"), "hello.pid: expected an int"),
        (Hello(pid=3, slot=0, incarnation=0, nonce="n", protocol_version=2), "protocol version 2"),
        (Heartbeat(0, 0, 0, 0.1, 0, "asleep", 0.0), "heartbeat.state"),  # type: ignore[arg-type]
        (
            Delta(0, 0, 0, 0, 0.0, [1], np.zeros((1, 2)), np.zeros((1, 2))),  # type: ignore[arg-type]
            "delta.rows: expected a numpy array, got list",
        ),
        (
            Delta(0, 0, 0, 0, 0.0, np.zeros(1, np.float64), np.zeros((1, 2)), np.zeros((1, 2))),  # type: ignore[arg-type]
            "delta.rows: dtype '<f8'",
        ),
        (
            Delta(
                0,
                0,
                0,
                0,
                0.0,
                np.zeros(1, np.int32),
                np.zeros((1, 2), np.float16),
                np.zeros((1, 2)),
            ),
            "delta.regret: dtype '<f2'",
        ),
        (
            Delta(0, 0, 0, 0, 0.0, np.zeros(1, np.int32), np.zeros((1, 2), bool), np.zeros((1, 2))),
            "delta.regret: dtype '|b1' is not one of",
        ),
        (
            Delta(0, 0, 0, 0, 0.0, np.zeros(2, np.int32), np.zeros((1, 2)), np.zeros((1, 2))),
            "delta: regret has 1 rows, rows has 2",
        ),
        (
            _welcome_with_game({"f": object()}),
            "welcome.spec.game: object is not JSON-able",
        ),
        (_welcome_with_game({"big": 2**70}), "does not fit in 64 bits"),
        (_welcome_with_game({1: "x"}), "map key int is not a str"),
        (
            Welcome(**{**_welcome().__dict__, "tables": {"t": ("/x", "<f4", (1,))}}),
            "expected a table map",
        ),
    ],
)
def test_encode_rejects_what_decode_would(msg: Any, match: str) -> None:
    with pytest.raises(ProtocolError) as info:
        encode(msg)
    assert match in str(info.value)


# --------------------------------------------------------------------------------------------
# Worker frames: size limits, checked before unpacking


def _no_unpack(monkeypatch: pytest.MonkeyPatch) -> None:
    def unpackb(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversize frame must be rejected before it is unpacked")

    monkeypatch.setattr(msgpack, "unpackb", unpackb)


def test_oversize_control_frame_is_rejected_before_unpacking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = _frame({"type": "bye", "v": 1, "slot": 0, "incarnation": 0, "reason": "x" * (2 << 20)})
    _no_unpack(monkeypatch)
    error = _raises(
        frame, f"non-delta frame of {len(frame)} bytes is over {MAX_CONTROL_BYTES}", E_TOO_LARGE
    )
    assert error.code == E_TOO_LARGE


def test_a_big_frame_counts_as_a_delta_only_if_its_type_comes_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wire = _wire(_delta(np.float64, k=100_000, actions=2))
    reordered = {key: value for key, value in wire.items() if key != "type"} | {"type": "delta"}
    frame = _frame(reordered)
    _no_unpack(monkeypatch)
    _raises(frame, "non-delta frame", E_TOO_LARGE)


def test_a_big_frame_that_turns_out_not_to_be_a_delta_is_rejected() -> None:
    # msgpack keeps the last of two equal keys, so the peeked "type" can differ from the decoded
    # one: {"type": "delta", ..., "type": "welcome"} over 1 MiB must not pass as a delta.
    wire = _wire(SAMPLES["welcome"])
    text = "x" * 600_000  # under the string limits, which would catch it otherwise
    wire |= {"type": "delta", "spec": {**wire["spec"], "game": {"a": text, "b": text}}}
    frame = bytes([0x80 | (len(wire) + 1)]) + _frame(wire)[1:] + _frame("type") + _frame("welcome")
    assert msgpack.unpackb(frame)["type"] == "welcome"
    _raises(frame, "non-delta frame", E_TOO_LARGE)


def test_oversize_delta_is_rejected_before_unpacking(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = encode(_delta(k=1000))
    monkeypatch.setattr(codec.WORKER_CODEC, "big_limit", len(frame) - 1)
    _no_unpack(monkeypatch)
    _raises(frame, f"delta frame of {len(frame)} bytes is over {len(frame) - 1}", E_TOO_LARGE)


def test_encode_refuses_an_oversize_delta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec.WORKER_CODEC, "big_limit", 1000)
    with pytest.raises(ProtocolError, match=r"delta frame of \d+ bytes is over 1000") as info:
        encode(_delta(k=1000))
    assert info.value.code == E_TOO_LARGE


# --------------------------------------------------------------------------------------------
# Worker frames: fuzz


def _decode_or_protocol_error(data: bytes) -> None:
    try:
        decode(data)
    except ProtocolError:
        pass
    except Exception as exc:  # pragma: no cover - the failure report
        pytest.fail(f"decode({data[:80]!r}...) raised {type(exc).__name__}: {exc}")


def _mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # flip one bit
            at = min(at, len(buf) - 1)
            buf[at] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:  # overwrite a byte
            buf[min(at, len(buf) - 1)] = rng.randrange(256)
        elif op == 2:  # truncate
            del buf[at:]
        elif op == 3:  # insert random bytes
            buf[at:at] = rng.randbytes(rng.randint(1, 8))
        else:  # duplicate a slice
            buf[at:at] = buf[at : at + rng.randint(1, 16)]
    return bytes(buf)


def _random_value(rng: random.Random, depth: int = 0) -> object:
    choices: list[Callable[[], object]] = [
        lambda: None,
        lambda: rng.random() < 0.5,
        lambda: rng.choice([0, 1, -1, 2**31, 2**63 - 1, -(2**63), 2**64 - 1]),
        lambda: rng.choice([0.0, -1.5, float("nan"), float("inf"), 1e308]),
        lambda: rng.choice(["", "running", "delta", "<f4", "x" * 300]),
        lambda: rng.randbytes(rng.randint(0, 24)),
    ]
    if depth < 3:
        choices.append(lambda: [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))])
        choices.append(
            lambda: {
                rng.choice(["dtype", "shape", "data", "a"]): _random_value(rng, depth + 1)
                for _ in range(rng.randint(0, 3))
            }
        )
    return rng.choice(choices)()


def test_fuzz_random_bytes_only_raise_protocol_error() -> None:
    rng = random.Random(20240601)
    for _ in range(3000):
        _decode_or_protocol_error(rng.randbytes(rng.randint(0, 64)))
    for _ in range(300):  # frames that start like a map, so the parser gets further
        _decode_or_protocol_error(bytes([0x80 | rng.randrange(16)]) + rng.randbytes(40))


def test_fuzz_mutated_frames_only_raise_protocol_error() -> None:
    rng = random.Random(7)
    frames = [encode(msg) for msg in SAMPLES.values()]
    for _ in range(4000):
        _decode_or_protocol_error(_mutate(rng.choice(frames), rng))


def test_fuzz_mutated_fields_only_raise_protocol_error() -> None:
    rng = random.Random(11)
    wires = [_wire(msg) for msg in SAMPLES.values()]
    for _ in range(3000):
        wire = dict(rng.choice(wires))
        key = rng.choice([*wire, "extra"])
        if isinstance(wire.get(key), dict) and rng.random() < 0.5:  # an array or table map
            inner = dict(wire[key])
            inner[rng.choice([*inner, "extra"])] = _random_value(rng)
            wire[key] = inner
        else:
            wire[key] = _random_value(rng)
        _decode_or_protocol_error(_frame(wire))


# --------------------------------------------------------------------------------------------
# Import cost


def test_importing_the_protocols_does_not_import_numpy_or_numba() -> None:
    code = (
        "import sys, holdemd.protocol.codec, holdemd.protocol.control; "
        "heavy = sorted(m for m in ('numpy', 'numba') if m in sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# --------------------------------------------------------------------------------------------
# Control plane


def _bad_request(line: bytes, match: str, code: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_request(line)
    assert match in str(info.value)
    assert info.value.code == code
    return info.value


def test_error_codes() -> None:
    assert len(set(ERROR_CODES)) == len(ERROR_CODES) == 10
    assert ERROR_CODES == control.ERROR_CODES
    assert {"E_BUSY", "E_NOT_RUNNING", "E_PERMISSION", "E_CONFLICT"} <= set(ERROR_CODES)


@pytest.mark.parametrize(
    ("line", "want"),
    [
        (b'{"v":1,"id":7,"cmd":"status"}\n', ControlRequest(7, "status", {})),
        (
            b'{"v":1,"id":"a","cmd":"start","args":{"config":"x.yaml"}}\r\n',
            ControlRequest("a", "start", {"config": "x.yaml"}),
        ),
        (b'{"cmd": "stop", "args": {}, "id": 0, "v": 1}', ControlRequest(0, "stop")),
    ],
)
def test_parse_request(line: bytes, want: ControlRequest) -> None:
    assert parse_request(line) == want


def test_request_line_limit_is_checked_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    head, tail = b'{"v":1,"id":1,"cmd":"x","args":{"p":"', b'"}}'
    exact = head + b"a" * (MAX_CONTROL_LINE - len(head) - len(tail)) + tail
    assert len(exact) == MAX_CONTROL_LINE
    assert parse_request(exact + b"\n").args["p"].startswith("aaa")

    def loads(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversize line must be rejected before it is parsed")

    monkeypatch.setattr(json, "loads", loads)
    _bad_request(exact[:-1] + b"aa" + tail[-1:] + b"\n", f"over {MAX_CONTROL_LINE}", E_TOO_LARGE)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"\n",
        b"{",
        b"status",
        b'{"v":1,"id":1,"cmd":"a"} {"v":1}',
        b'{"v":1,"id":1,"cmd":"a"}\n{"v":1}',
        b'{"v":1,"id":1,"cmd":"\xff"}',
        b'{"v":1,"id":1,"cmd":"a","args":{"x":NaN}}',
        b'{"v":1,"id":1,"cmd":"a","args":{"x":1e999}}',
        b'{"v":1,"id":1,"cmd":"a","cmd":"b"}',
        b"[" * 30_000 + b"]" * 30_000,  # deeper than the parser recurses
    ],
)
def test_invalid_json_is_e_bad_json(line: bytes) -> None:
    _bad_request(line, "invalid JSON", E_BAD_JSON)


@pytest.mark.parametrize(
    ("line", "match", "code", "request_id"),
    [
        (b"[1]", "expected a JSON object, got list", E_BAD_REQUEST, None),
        (b'"status"', "expected a JSON object, got str", E_BAD_REQUEST, None),
        (b'{"v":2,"id":7,"cmd":"status"}', "control protocol version 2, expected 1", E_VERSION, 7),
        (b'{"v":2,"id":7,"cmd":"status","new":1}', "version 2", E_VERSION, 7),
        (b'{"id":7,"cmd":"status"}', "missing or non-int 'v'", E_BAD_REQUEST, 7),
        (b'{"v":"1","id":7,"cmd":"status"}', "missing or non-int 'v'", E_BAD_REQUEST, 7),
        (b'{"v":true,"id":7,"cmd":"status"}', "missing or non-int 'v'", E_BAD_REQUEST, 7),
        (b'{"v":1,"cmd":"status"}', "missing field(s) id", E_BAD_REQUEST, None),
        (b'{"v":1,"id":"r1"}', "missing field(s) cmd", E_BAD_REQUEST, "r1"),
        (b'{"v":1,"id":7,"cmd":"status","extra":1}', "unknown field(s) extra", E_BAD_REQUEST, 7),
        (b'{"v":1,"id":true,"cmd":"status"}', "'id' must be a str", E_BAD_REQUEST, None),
        (b'{"v":1,"id":1.5,"cmd":"status"}', "'id' must be a str", E_BAD_REQUEST, None),
        (b'{"v":1,"id":"' + b"i" * 129 + b'","cmd":"status"}', "'id' must be", E_BAD_REQUEST, None),
        (b'{"v":1,"id":7,"cmd":""}', "'cmd' must be a non-empty str", E_BAD_REQUEST, 7),
        (b'{"v":1,"id":7,"cmd":3}', "'cmd' must be a non-empty str", E_BAD_REQUEST, 7),
        (b'{"v":1,"id":7,"cmd":"start","args":[1]}', "'args' must be an object", E_BAD_REQUEST, 7),
    ],
)
def test_bad_requests_name_the_problem_and_keep_the_id(
    line: bytes, match: str, code: str, request_id: object
) -> None:
    error = _bad_request(line, match, code)
    assert error.request_id == request_id
    reply = parse_reply(encode_reply(ControlReply.from_error(error)))
    assert reply == ControlReply(request_id, False, error=ReplyError(code, error.reason))


def test_parse_request_rejects_non_bytes() -> None:
    with pytest.raises(ProtocolError, match="expected bytes, got str"):
        parse_request('{"v":1,"id":1,"cmd":"x"}')  # type: ignore[arg-type]


def test_encode_reply_is_one_compact_line() -> None:
    ok = encode_reply(ControlReply.success(7, {"state": "running", "workers": [1, 2]}))
    assert ok == b'{"v":1,"id":7,"ok":true,"result":{"state":"running","workers":[1,2]}}\n'
    failed = encode_reply(ControlReply.failure("a", "E_NOT_RUNNING", "no run; holdemctl start"))
    assert failed == (
        b'{"v":1,"id":"a","ok":false,'
        b'"error":{"code":"E_NOT_RUNNING","message":"no run; holdemctl start"}}\n'
    )
    odd = encode_reply(ControlReply.success(None, "line\nbreak \u00e9 \U0001f0a1"))
    assert odd.count(b"\n") == 1 and odd.endswith(b"\n") and odd.isascii()
    assert parse_reply(odd).result == "line\nbreak \u00e9 \U0001f0a1"


@pytest.mark.parametrize(
    ("reply", "match"),
    [
        (ControlReply.success(1, {"x": float("nan")}), "not JSON-able"),
        (ControlReply.success(1, {"x": object()}), "not JSON-able"),
        (ControlReply.failure(1, "E_MADE_UP", "x"), "unknown error code 'E_MADE_UP'"),
        (ControlReply(1, True, error=ReplyError("E_BUSY", "x")), "an ok reply has no error"),
        (ControlReply(1, False), "a failed reply has an error and no result"),
        (ControlReply(True, True), "reply id True is not"),
    ],
)
def test_encode_reply_rejects_invalid_replies(reply: ControlReply, match: str) -> None:
    with pytest.raises(ProtocolError, match=match) as info:
        encode_reply(reply)
    assert info.value.code == E_INTERNAL
    # ... and the reply the server sends instead always encodes.
    fallback = ControlReply.failure(
        reply.id if reply.id is not True else None, E_INTERNAL, str(info.value)
    )
    assert parse_reply(encode_reply(fallback)).error == ReplyError(E_INTERNAL, str(info.value))


def test_encode_reply_over_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "MAX_REPLY_LINE", 100)
    with pytest.raises(ProtocolError, match="over 100") as info:
        encode_reply(ControlReply.success(1, "x" * 200))
    assert info.value.code == E_TOO_LARGE


@pytest.mark.parametrize(
    "reply",
    [
        ControlReply.success(7, {"a": [1, 2.5, None, True]}),
        ControlReply.success("id", None),
        ControlReply.failure(None, "E_BAD_JSON", "invalid JSON: Expecting value"),
    ],
)
def test_replies_round_trip(reply: ControlReply) -> None:
    assert parse_reply(encode_reply(reply)) == reply


@pytest.mark.parametrize(
    ("line", "match", "code"),
    [
        (b'{"v":1,"id":1,"ok":false,"error":{"code":"E_NEWER","message":"m"}}', "", ""),
        (b'{"v":2,"id":1,"ok":true,"result":1}', "version 2", E_VERSION),
        (b'{"v":1,"id":1,"ok":"yes","result":1}', "'ok' must be a bool", E_BAD_REQUEST),
        (b'{"v":1,"id":1,"ok":true}', "missing field(s) result", E_BAD_REQUEST),
        (
            b'{"v":1,"id":1,"ok":true,"result":1,"error":{}}',
            "unknown field(s) error",
            E_BAD_REQUEST,
        ),
        (b'{"v":1,"id":[1],"ok":true,"result":1}', "'id' must be", E_BAD_REQUEST),
        (
            b'{"v":1,"id":1,"ok":false,"error":{"code":"E_X"}}',
            "exactly code and message",
            E_BAD_REQUEST,
        ),
        (
            b'{"v":1,"id":1,"ok":false,"error":{"code":"oops","message":"m"}}',
            "'error.code' must",
            E_BAD_REQUEST,
        ),
        (
            b'{"v":1,"id":1,"ok":false,"error":{"code":"E_X","message":2}}',
            "'error.message' must",
            E_BAD_REQUEST,
        ),
    ],
)
def test_parse_reply_is_lenient_on_codes_strict_on_shape(
    line: bytes, match: str, code: str
) -> None:
    if not code:  # an unknown code from a newer daemon still reads as an error
        assert parse_reply(line).error == ReplyError("E_NEWER", "m")
        return
    with pytest.raises(ProtocolError) as info:
        parse_reply(line)
    assert match in str(info.value)
    assert info.value.code == code


def test_encode_request_round_trips_and_validates() -> None:
    request = ControlRequest("r-1", "start", {"config": "configs/leduc.yaml", "workers": 4})
    line = encode_request(request)
    assert (
        line
        == b'{"v":1,"id":"r-1","cmd":"start","args":{"config":"configs/leduc.yaml","workers":4}}\n'
    )
    assert parse_request(line) == request
    with pytest.raises(ProtocolError, match="'cmd' must be"):
        encode_request(ControlRequest(1, ""))
    with pytest.raises(ProtocolError, match="version 9") as info:
        encode_request(ControlRequest(1, "status", v=9))
    assert info.value.code == E_VERSION
    assert CONTROL_VERSION == 1


def test_fuzz_control_lines_only_raise_protocol_error() -> None:
    rng = random.Random(3)
    valid = [
        b'{"v":1,"id":7,"cmd":"status","args":{"a":[1,{"b":null}]}}',
        b'{"v":1,"id":"x","ok":false,"error":{"code":"E_BUSY","message":"m"}}',
    ]
    for i in range(4000):
        line = _mutate(rng.choice(valid), rng) if i % 2 else rng.randbytes(rng.randint(0, 40))
        for parse in (parse_request, parse_reply):
            try:
                parse(line)
            except ProtocolError:
                pass
            except Exception as exc:  # pragma: no cover - the failure report
                pytest.fail(f"{parse.__name__}({line!r}) raised {type(exc).__name__}: {exc}")
