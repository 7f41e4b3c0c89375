"""The consumer core without a server: the steps its operations ask the shells to perform (RPCs,
callbacks, commits, fetches) in order, with scripted answers, and fetching ahead (records of a
prefetch join the buffer; a prefetch that raced a seek or pause is ignored)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from weir.core import errors
from weir.sdk import Message, TopicPartition
from weir.sdk._call import Call
from weir.sdk._consume_core import ConsumerCore, core_options
from weir.sdk._consume_ops import Callback, Commit, Decode, Fetch, Op, Sleep, Steps
from weir.sdk._consume_state import ConsumeState
from weir.v1 import errors_pb2
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import log_service_pb2 as ls

TP = TopicPartition
A0, A1 = TP("a", 0), TP("a", 1)


def core(topics: Any = ("a",), **kw: Any) -> ConsumerCore:
    args: dict[str, Any] = {
        "group_id": "g",
        "topics": topics,
        "key_deserializer": None,
        "value_deserializer": None,
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
        "auto_commit_interval_ms": 5000,
        "on_assign": None,
        "on_revoke": None,
        "on_lost": None,
        "session_timeout_ms": 3000,
        "rebalance_timeout_ms": 9000,
        "group_instance_id": None,
        "fetch_max_wait_ms": 100,
        "max_partition_fetch_bytes": 1 << 20,
        "fetch_max_bytes": 50 << 20,
        "server": "ignored",
        "self": "ignored",
    }
    args.update(kw)
    return ConsumerCore("Consumer", changed=threading.Event(), wake=threading.Event(),
                        **core_options(args))  # fmt: skip


def drive(steps: Steps[Any], answer: Callable[[Op], Any]) -> tuple[Any, list[Op]]:
    """Run an operation like a shell would, with ``answer`` performing each step."""
    seen: list[Op] = []
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            op = steps.send(result) if error is None else steps.throw(error)
        except StopIteration as done:
            return done.value, seen
        seen.append(op)
        result, error = None, None
        try:
            result = answer(op)
        except errors.WeirError as exc:
            error = exc


def name(op: Op) -> str:
    if isinstance(op, Call):
        return op.method
    return type(op).__name__


def heartbeat(epoch: int, *tps: TP) -> gs.HeartbeatResponse:
    return gs.HeartbeatResponse(
        member_id="m1",
        member_epoch=epoch,
        heartbeat_interval_ms=1000,
        assignment=[gp.TopicPartitions(topic="a", partitions=[tp.partition for tp in tps])],
    )


def records(tp: TP, offsets: range, **kw: Any) -> ls.FetchResponse:
    part = ls.PartitionRecords(topic=tp.topic, partition=tp.partition, **kw)
    for o in offsets:
        part.records.add(offset=o, value=b"v%d" % o)
    return ls.FetchResponse(partitions=[part])


# ----- group steps --------------------------------------------------------------------------


def test_assignment_starts_at_commits_else_the_reset_then_calls_on_assign() -> None:
    c = core(on_assign=print)
    c.heartbeat_ok(heartbeat(1, A0, A1))
    assert c.changed.is_set()

    def answer(op: Op) -> Any:
        assert isinstance(op, Call | Callback)
        if isinstance(op, Callback):
            return None
        if op.method == "FetchCommittedOffsets":
            return op.parse(gs.FetchCommittedOffsetsResponse(
                offsets=[gp.CommittedOffset(topic="a", partition=0, offset=7),
                         gp.CommittedOffset(topic="a", partition=1)]))  # fmt: skip
        assert op.method == "ListOffsets"
        assert op.request.partition == 1
        return op.parse(ls.ListOffsetsResponse(offset=3))

    _, seen = drive(c.upkeep(), answer)
    assert [name(op) for op in seen] == ["FetchCommittedOffsets", "ListOffsets", "Callback"]
    last = seen[-1]
    assert isinstance(last, Callback)
    assert (last.fn, last.partitions) == (print, [A0, A1])
    assert c.state.positions() == {A0: 7, A1: 3}
    assert not c.changed.is_set()
    assert c.membership is not None
    assert c.membership.owned == {A0, A1}


def test_a_failed_auto_commit_before_revocation_is_logged_and_the_partition_released(
    caplog: pytest.LogCaptureFixture,
) -> None:
    c = core(enable_auto_commit=True, on_revoke=print)
    m = c.membership
    assert m is not None
    c.heartbeat_ok(heartbeat(1, A0, A1))
    m.acquired([A0, A1], m.generation)
    c.state.add({A0: 4, A1: 9})
    c.heartbeat_ok(heartbeat(2, A1))

    def answer(op: Op) -> Any:
        if isinstance(op, Commit):
            raise errors.UnavailableError("down")
        return None

    _, seen = drive(c.reconcile(m), answer)
    assert [name(op) for op in seen] == ["Commit", "Callback"]
    assert "auto-commit for group 'g' failed: down" in caplog.text
    assert c.state.assignment() == [A1]
    assert m.owned == {A1}
    assert c.wake.is_set()


def test_revocation_steps_in_order() -> None:
    c = core(enable_auto_commit=True, on_revoke=print)
    m = c.membership
    assert m is not None
    c.heartbeat_ok(heartbeat(1, A0))
    m.acquired([A0], m.generation)
    c.state.add({A0: 4})
    c.heartbeat_ok(heartbeat(2))
    _, seen = drive(c.reconcile(m), lambda op: op.offsets if isinstance(op, Commit) else None)
    assert [name(op) for op in seen] == ["Commit", "Callback"]
    first = seen[0]
    assert isinstance(first, Commit)
    assert first.offsets == {A0: 4}
    assert m.owned == frozenset()


def test_a_commit_is_resent_once_when_the_epoch_moved_meanwhile() -> None:
    c = core()
    m = c.membership
    assert m is not None
    c.heartbeat_ok(heartbeat(1, A0))
    sent: list[int] = []

    def answer(op: Op) -> Any:
        assert isinstance(op, Call)
        sent.append(op.request.member.member_epoch)
        if len(sent) == 1:
            c.heartbeat_ok(heartbeat(2, A0))
            raise errors.StaleMemberEpochError("old epoch")
        return None

    done, _ = drive(c.send_commit({A0: 5}), answer)
    assert done == {A0: 5}
    assert sent == [1, 2]
    with pytest.raises(errors.StaleMemberEpochError, match="old member epoch"):
        drive(c.send_commit({A0: 6}), lambda op: (_ for _ in ()).throw(
            errors.StaleMemberEpochError("still old")))  # fmt: skip


def test_a_fence_makes_the_heartbeater_rejoin_and_poll_report_lost_partitions() -> None:
    lost: list[list[TP]] = []
    c = core(on_lost=lambda consumer, tps: lost.append(tps))
    m = c.membership
    assert m is not None
    c.heartbeat_ok(heartbeat(1, A0))
    m.acquired([A0], m.generation)
    c.state.add({A0: 0})
    c.changed.clear()
    assert c.heartbeat_failed(errors.FencedMemberEpochError("fenced")) == "rejoin"
    assert c.changed.is_set()
    assert c.heartbeat_failed(errors.UnavailableError("down")) == "wait"
    _, seen = drive(c.upkeep(), lambda op: op.fn(None, op.partitions))  # type: ignore[union-attr]
    assert lost == [[A0]]
    assert [name(op) for op in seen] == ["Callback"]
    c.closed = True
    assert c.heartbeat_failed(errors.UnavailableError("down")) == "stop"


# ----- poll steps ---------------------------------------------------------------------------


def test_poll_fetches_when_empty_decodes_when_deserializing_and_refuses_once_closed() -> None:
    c = core(topics=None, group_id=None, value_deserializer=lambda data, ctx: data)
    c.state.add({A0: 0})
    assert c.next_ready() is None

    def answer(op: Op) -> Any:
        if isinstance(op, Fetch):
            request = c.fetch_request(op.wait_s)
            assert request is not None
            assert c.fetched(request, records(A0, range(3))) is not None  # ahead from 3
            return None
        assert isinstance(op, Decode)
        return [m._replace(value="decoded") for m in op.batch]

    got, seen = drive(c.poll(1.0, 2), answer)
    assert [name(op) for op in seen] == ["Fetch", "Decode"]
    assert [(m.offset, m.value) for m in got] == [(0, "decoded"), (1, "decoded")]
    ready = c.next_ready()
    assert ready is not None
    assert ready.offset == 2
    with pytest.raises(errors.InvalidArgumentError, match="num_messages"):
        c.take_ready(0)
    c.closed = True
    assert c.next_ready() is None
    with pytest.raises(errors.FailedPreconditionError, match="this Consumer is closed"):
        drive(c.poll(0, 1), answer)


def test_a_failed_decode_rewinds_the_records_after_it() -> None:
    def picky(data: bytes | None, ctx: Any) -> bytes | None:
        if data == b"v1":
            raise ValueError("bad")
        return data

    c = core(topics=None, group_id=None, value_deserializer=picky)
    c.state.add({A0: 0})
    request = c.fetch_request(0)
    assert request is not None
    c.fetched(request, records(A0, range(4)))
    batch = c.take_ready(4)
    with pytest.raises(errors.InvalidRecordError, match="a-0@1"):
        c.decode(batch)
    assert c.state.positions() == {A0: 2}


# ----- fetching ahead -----------------------------------------------------------------------


def test_records_fetched_ahead_join_the_buffer_in_order() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0, A1: 5})
    first = s.fetch_request(0)
    assert first is not None
    s.on_fetch(first, records(A0, range(3)))
    assert s.next() is not None
    ahead = s.fetch_request(0, ahead=True)
    assert ahead is not None
    assert [(p.partition, p.offset) for p in ahead.partitions] == [(0, 3), (1, 5)]
    assert s.on_fetch(ahead, records(A0, range(3, 6))) == 3
    assert s.buffered() == 5
    taken: list[Message] = s.take(10)
    assert [m.offset for m in taken] == [1, 2, 3, 4, 5]
    assert s.positions() == {A0: 6, A1: 5}


@pytest.mark.parametrize("move", ["seek", "pause"])
def test_a_prefetch_that_raced_a_seek_or_pause_is_ignored(move: str) -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0})
    first = s.fetch_request(0)
    assert first is not None
    s.on_fetch(first, records(A0, range(3)))
    ahead = s.fetch_request(0, ahead=True)
    assert ahead is not None
    if move == "seek":
        s.seek(A0, 1)
    else:
        s.set_paused([A0], True)
    assert s.on_fetch(ahead, records(A0, range(3, 6))) == 0
    assert s.buffered() == 0


def test_an_error_fetched_ahead_waits_until_the_buffer_is_used() -> None:
    s = ConsumeState("none", 1 << 20, 50 << 20)
    s.add({A0: 0})
    first = s.fetch_request(0)
    assert first is not None
    s.on_fetch(first, records(A0, range(2)))
    ahead = s.fetch_request(0, ahead=True)
    assert ahead is not None
    gone = errors_pb2.ERROR_REASON_TOPIC_NOT_FOUND
    assert s.on_fetch(ahead, records(A0, range(0), error_reason=gone)) == 0
    assert [m.offset for m in s.take(5)] == [0, 1]
    again = s.fetch_request(0)
    assert again is not None
    with pytest.raises(errors.TopicNotFoundError):
        s.on_fetch(again, records(A0, range(0), error_reason=gone))


def test_the_heartbeater_rejoins_at_once_after_a_fence_and_sleeps_after_other_errors() -> None:
    c = core()
    answers: list[Any] = [
        heartbeat(1, A0),
        errors.FencedMemberEpochError("fenced"),
        errors.UnavailableError("down"),
        heartbeat(2, A0),
    ]
    epochs: list[int] = []

    def answer(op: Op) -> Any:
        if isinstance(op, Sleep):
            assert op.seconds == 1.0
            c.closed = not answers  # the last sleep ends in close()
            return None
        assert isinstance(op, Call)
        epochs.append(op.request.member_epoch)
        reply = answers.pop(0)
        if isinstance(reply, errors.WeirError):
            raise reply
        return reply

    _, seen = drive(c.heartbeats(), answer)
    assert [name(op) for op in seen] == ["Heartbeat", "Sleep", "Heartbeat", "Heartbeat", "Sleep",
                                         "Heartbeat", "Sleep"]  # fmt: skip
    assert epochs == [0, 1, 0, 0]  # a fence makes the member rejoin at epoch 0
    assert c.membership is not None
    assert c.membership.epoch == 2
