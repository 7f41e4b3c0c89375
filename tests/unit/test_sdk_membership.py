"""The consumer's I/O-free state: group membership (join, reconcile, revoke, fence) and read
state (positions advance on delivery, seeks and pauses drop prefetched records, stale fetch
replies are ignored, out-of-range positions reset)."""

from __future__ import annotations

import re

import pytest

from weir.core import errors
from weir.sdk import TopicPartition
from weir.sdk._consume_calls import commit_error, commit_offsets, rewind
from weir.sdk._consume_state import ConsumeState
from weir.sdk._membership import Membership, Subscription, subscription_arg, tps_from_proto
from weir.v1 import errors_pb2
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

TP = TopicPartition
A0, A1, A2 = TP("a", 0), TP("a", 1), TP("a", 2)


def member() -> Membership:
    return Membership(
        "g", Subscription(names=("a",)), session_timeout_ms=3000, rebalance_timeout_ms=9000
    )


def reply(epoch: int, *tps: TP, member_id: str = "m1") -> gs.HeartbeatResponse:
    by: dict[str, list[int]] = {}
    for tp in tps:
        by.setdefault(tp.topic, []).append(tp.partition)
    return gs.HeartbeatResponse(
        member_id=member_id,
        member_epoch=epoch,
        heartbeat_interval_ms=1000,
        assignment=[gp.TopicPartitions(topic=t, partitions=p) for t, p in by.items()],
    )


# ----- subscriptions ---------------------------------------------------------------------------


def test_subscription_forms() -> None:
    assert subscription_arg(["b", "a", "a"]) == Subscription(names=("a", "b"))
    assert subscription_arg("orders") == Subscription(names=("orders",))
    assert subscription_arg("^ord.*") == Subscription(regex="^ord.*")
    assert subscription_arg(re.compile("ord.*")) == Subscription(regex="ord.*")
    with pytest.raises(errors.InvalidArgumentError, match="not a valid regex"):
        subscription_arg("^(")
    with pytest.raises(errors.InvalidArgumentError, match="topics"):
        subscription_arg(["a", ""])


# ----- membership ------------------------------------------------------------------------------


def test_join_sends_the_subscription_then_heartbeats_send_owned_partitions() -> None:
    m = member()
    join = m.heartbeat_request()
    assert m.joining
    assert (join.member_id, join.member_epoch, list(join.topics.names)) == ("", 0, ["a"])
    assert (join.session_timeout_ms, join.rebalance_timeout_ms) == (3000, 9000)
    assert not join.owned_partitions
    assert m.on_reply(reply(3, A0, A1)) is True
    plan = m.plan()
    assert (plan.added, plan.revoked, plan.lost) == (frozenset({A0, A1}), frozenset(), frozenset())
    assert m.acquired(plan.added, plan.generation)
    assert not m.plan()
    beat = m.heartbeat_request()
    assert (beat.member_id, beat.member_epoch) == ("m1", 3)
    assert not beat.HasField("topics")
    assert tps_from_proto(beat.owned_partitions) == {A0, A1}
    assert m.on_reply(reply(3, A0, A1)) is False  # nothing new for poll()
    assert m.identity() == gs.MemberIdentity(member_id="m1", member_epoch=3)


def test_regex_subscription_joins_with_topic_regex() -> None:
    m = Membership("g", Subscription(regex="^a.*"), session_timeout_ms=3000, rebalance_timeout_ms=1)
    assert m.heartbeat_request().topic_regex == "^a.*"


def test_a_revoked_partition_stays_owned_until_released() -> None:
    m = member()
    m.on_reply(reply(1, A0, A1))
    m.acquired({A0, A1}, m.plan().generation)
    m.on_reply(reply(1, A0))  # A1 is being taken away
    plan = m.plan()
    assert plan.revoked == {A1}
    assert not plan.added
    # until poll() releases it, heartbeats still report it owned (commits are accepted)
    assert tps_from_proto(m.heartbeat_request().owned_partitions) == {A0, A1}
    m.released([A1])
    assert tps_from_proto(m.heartbeat_request().owned_partitions) == {A0}
    assert not m.plan()


def test_fencing_loses_every_partition_and_rejoins_empty() -> None:
    m = member()
    m.on_reply(reply(4, A0, A1))
    m.acquired({A0, A1}, m.plan().generation)
    m.on_fenced(errors.FencedMemberEpochError("fenced"))
    rejoin = m.heartbeat_request()
    assert (rejoin.member_id, rejoin.member_epoch) == ("m1", 0)  # same id, epoch 0
    assert list(rejoin.topics.names) == ["a"]
    assert not rejoin.owned_partitions
    plan = m.plan()
    assert plan.lost == {A0, A1}
    assert not plan.revoked  # lost, not revoked: no chance to commit
    m.lost_applied(plan.lost)
    assert not m.plan()
    m.on_fenced(errors.UnknownMemberIdError("gone"))
    assert m.heartbeat_request().member_id == ""  # unknown: join as a new member


def test_partitions_acquired_across_a_fence_count_as_lost() -> None:
    m = member()
    m.on_reply(reply(1, A0))
    plan = m.plan()  # poll() starts reading A0 ...
    m.on_fenced(errors.FencedMemberEpochError("fenced"))  # ... while the heartbeater is fenced
    assert m.acquired(plan.added, plan.generation) is False
    assert m.owned == frozenset()
    assert m.plan().lost == {A0}


def test_non_retriable_heartbeat_errors_are_raised_once_by_poll() -> None:
    m = member()
    m.on_error(errors.UnavailableError("down"))
    assert m.take_error() is None  # retriable: the heartbeater keeps trying
    m.on_error(errors.InvalidArgumentError("bad regex"))
    error = m.take_error()
    assert isinstance(error, errors.InvalidArgumentError)
    assert m.take_error() is None


def test_leave() -> None:
    m = member()
    assert m.leave_request() is None
    m.on_reply(reply(1, A0))
    assert m.leave_request() == gs.LeaveGroupRequest(group_id="g", member_id="m1")
    m.left()
    assert (m.member_id, m.owned, m.assignment) == ("", frozenset(), frozenset())


# ----- read state ------------------------------------------------------------------------------


def fetch_reply(tp: TP, offsets: range, **kw: int) -> ls.FetchResponse:
    part = ls.PartitionRecords(topic=tp.topic, partition=tp.partition, **kw)
    for o in offsets:
        part.records.add(offset=o, timestamp_ms=o, value=b"v%d" % o, value_schema_id=7 if o else 0)
    return ls.FetchResponse(partitions=[part])


def test_positions_advance_on_delivery_not_on_fetch() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0, A1: 5})
    request = s.fetch_request(100)
    assert request is not None
    assert [(p.partition, p.offset) for p in request.partitions] == [(0, 0), (1, 5)]
    assert s.on_fetch(request, fetch_reply(A0, range(3))) == 3
    assert s.positions() == {A0: 0, A1: 5}
    first = s.next()
    assert first is not None
    assert (first.offset, first.value, first.schema_id, first.key) == (0, b"v0", None, None)
    assert s.positions()[A0] == 1
    second = s.next()
    assert second is not None
    assert second.schema_id == 7
    # A0 still has a record buffered, so only A1 is fetched now
    again = s.fetch_request(0)
    assert again is not None
    assert [p.partition for p in again.partitions] == [1]
    assert [m.offset for m in s.take(10)] == [2]
    assert s.positions()[A0] == 3
    assert s.next() is None


def test_seek_pause_and_removal_drop_buffered_records() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0})
    request = s.fetch_request(0)
    assert request is not None
    s.on_fetch(request, fetch_reply(A0, range(5)))
    s.seek(A0, 3)
    assert s.buffered() == 0
    assert s.next() is None
    assert s.positions() == {A0: 3}
    s.set_paused([A0], True)
    assert s.fetch_request(0) is None
    s.set_paused([A0], False)
    assert s.remove([A0, A2]) == [A0]
    with pytest.raises(errors.FailedPreconditionError, match="a-0 is not assigned"):
        s.seek(A0, 1)


def test_a_fetch_reply_that_raced_a_seek_is_ignored() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0})
    request = s.fetch_request(0)
    assert request is not None
    s.seek(A0, 4)
    assert s.on_fetch(request, fetch_reply(A0, range(3))) == 0
    assert s.next() is None


@pytest.mark.parametrize(("reset", "expected"), [("earliest", 10), ("latest", 20)])
def test_out_of_range_moves_to_the_reset_end(reset: str, expected: int) -> None:
    s = ConsumeState(reset, 1 << 20, 50 << 20)  # type: ignore[arg-type]
    s.add({A0: 99})
    request = s.fetch_request(0)
    assert request is not None
    oor = errors_pb2.ERROR_REASON_OFFSET_OUT_OF_RANGE
    s.on_fetch(request, fetch_reply(A0, range(0), error_reason=oor, log_start_offset=10,
                                    log_end_offset=20))  # fmt: skip
    assert s.positions() == {A0: expected}


def test_out_of_range_with_reset_none_and_other_partition_errors_raise() -> None:
    s = ConsumeState("none", 1 << 20, 50 << 20)
    s.add({A0: 99})
    request = s.fetch_request(0)
    assert request is not None
    oor = errors_pb2.ERROR_REASON_OFFSET_OUT_OF_RANGE
    with pytest.raises(errors.OffsetOutOfRangeError, match="auto_offset_reset='none'"):
        s.on_fetch(request, fetch_reply(A0, range(0), error_reason=oor))
    gone = errors_pb2.ERROR_REASON_TOPIC_NOT_FOUND
    with pytest.raises(errors.TopicNotFoundError):
        s.on_fetch(request, fetch_reply(A0, range(0), error_reason=gone))


def test_stored_record_fields_become_message_fields() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0})
    request = s.fetch_request(0)
    assert request is not None
    part = ls.PartitionRecords(topic="a", partition=0)
    part.records.add(offset=0, timestamp_ms=5, key=b"", value=b"", key_schema_id=3)
    part.records.add(offset=1, headers=[lp.Header(key="h", value=b"1"), lp.Header(key="h")])
    s.on_fetch(request, ls.FetchResponse(partitions=[part]))
    empty, bare = s.take(2)
    assert (empty.key, empty.value, empty.key_schema_id, empty.timestamp) == (b"", b"", 3, 5)
    assert (bare.key, bare.value, bare.headers) == (None, None, (("h", b"1"), ("h", b"")))


# ----- commits ---------------------------------------------------------------------------------


def test_commit_arguments_and_refusals() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 4, A1: None})
    assert commit_offsets(None, None, s.positions()) == {A0: 4}
    assert commit_offsets(None, [(A1, 2)], {}) == {A1: 2}
    with pytest.raises(errors.InvalidArgumentError, match="offset for a-1"):
        commit_offsets(None, {A1: -1}, {})
    refused = commit_error(errors.PartitionNotAssignedError("no"), {A1: 2})
    assert isinstance(refused, errors.PartitionNotAssignedError)
    assert "a-1" in refused.message
    assert "on_revoke" in refused.message
    other = errors.UnavailableError("down")
    assert commit_error(other, {A1: 2}) is other


def test_rewind_finds_the_first_undelivered_offset_per_partition() -> None:
    s = ConsumeState("earliest", 1 << 20, 50 << 20)
    s.add({A0: 0})
    request = s.fetch_request(0)
    assert request is not None
    s.on_fetch(request, fetch_reply(A0, range(5)))
    batch = s.take(5)
    assert rewind(batch[2:]) == {A0: 2}
