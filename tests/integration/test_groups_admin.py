"""GroupService over a real server: fencing errors, lag, resets, restart, list and delete."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from tests.integration.test_groups import Member, balanced, create, describe, wait_until
from weir.broker.embedded import EmbeddedServer
from weir.core import errors
from weir.core.status import from_rpc_error
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import topic_service_pb2 as ts


@pytest.fixture
def stub(channel: grpc.Channel) -> gs_grpc.GroupServiceStub:
    return gs_grpc.GroupServiceStub(channel)


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def refused(call, request) -> errors.WeirError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request)
    return from_rpc_error(caught.value)


def join(stub, group: str, topic: str = "t", **kw) -> gs.HeartbeatResponse:
    request = gs.HeartbeatRequest(group_id=group, session_timeout_ms=30_000, **kw)
    request.topics.names.append(topic)
    return stub.Heartbeat(request)


def beat(stub, group: str, reply: gs.HeartbeatResponse, owned=None) -> gs.HeartbeatResponse:
    owned = reply.assignment if owned is None else owned
    return stub.Heartbeat(
        gs.HeartbeatRequest(
            group_id=group,
            member_id=reply.member_id,
            member_epoch=reply.member_epoch,
            owned_partitions=owned,
        )
    )


def commit(stub, group: str, reply, partition: int, offset: int):
    return stub.CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id=group,
            member=gs.MemberIdentity(
                member_id=reply.member_id,
                member_epoch=reply.member_epoch,
            ),
            offsets=[gs.OffsetCommit(topic="t", partition=partition, offset=offset)],
        )
    )


def partitions(reply) -> list[int]:
    return sorted(p for tp in reply.assignment for p in tp.partitions)


def test_stale_epoch_and_unowned_commits_are_refused(stub, broker) -> None:
    create(broker, "t", 2)
    broker.produce("t", [record(b"x")], 0)
    broker.produce("t", [record(b"x")], 1)
    a = join(stub, "g")
    assert partitions(a) == [0, 1]
    first_epoch = a.member_epoch
    b = join(stub, "g")
    assert partitions(b) == []  # a must revoke first
    a = beat(stub, "g", a)  # told to revoke one partition
    assert len(partitions(a)) == 1
    a = beat(stub, "g", a)  # confirms
    b = beat(stub, "g", b)
    assert len(partitions(b)) == 1
    (mine,) = partitions(b)
    error = refused(
        stub.CommitOffsets,
        gs.CommitOffsetsRequest(
            group_id="g",
            member=gs.MemberIdentity(member_id=b.member_id, member_epoch=first_epoch),
            offsets=[gs.OffsetCommit(topic="t", partition=mine, offset=1)],
        ),
    )
    assert isinstance(error, errors.StaleMemberEpochError)
    assert f"commit carried epoch {first_epoch}" in error.message
    error = refused(
        stub.CommitOffsets,
        gs.CommitOffsetsRequest(
            group_id="g",
            member=gs.MemberIdentity(member_id=a.member_id, member_epoch=a.member_epoch),
            offsets=[gs.OffsetCommit(topic="t", partition=mine, offset=1)],
        ),
    )
    assert isinstance(error, errors.PartitionNotAssignedError)
    assert f"does not own t-{mine}" in error.message
    commit(stub, "g", b, mine, 1)  # the current epoch works
    error = refused(
        stub.CommitOffsets,
        gs.CommitOffsetsRequest(
            group_id="g",
            standalone=True,
            offsets=[gs.OffsetCommit(topic="t", partition=0, offset=1)],
        ),
    )
    assert isinstance(error, errors.GroupNotEmptyError)
    error = refused(
        stub.Heartbeat,
        gs.HeartbeatRequest(group_id="g", member_id=b.member_id, member_epoch=b.member_epoch + 9),
    )
    assert isinstance(error, errors.FencedMemberEpochError)
    stub.LeaveGroup(gs.LeaveGroupRequest(group_id="g", member_id=b.member_id))
    error = refused(lambda r: commit(stub, "g", b, mine, 1), None)
    assert isinstance(error, errors.UnknownMemberIdError)


def test_bad_requests_get_clear_errors(stub, broker) -> None:
    create(broker, "t", 1)
    request = gs.HeartbeatRequest(group_id="g", assignor=gp.ASSIGNOR_UNSPECIFIED)
    request.topics.names.append("t")
    assert "ASSIGNOR_UNIFORM" in refused(stub.Heartbeat, request).message
    assert "subscription" in refused(stub.Heartbeat, gs.HeartbeatRequest(group_id="g")).message
    bad = gs.HeartbeatRequest(group_id="g", topic_regex="t[")
    assert isinstance(refused(stub.Heartbeat, bad), errors.InvalidArgumentError)
    no_committer = gs.CommitOffsetsRequest(group_id="g")
    assert "say who commits" in refused(stub.CommitOffsets, no_committer).message
    no_target = gs.ResetOffsetsRequest(group_id="g", topic="t")
    assert "say where to reset" in refused(stub.ResetOffsets, no_target).message
    missing = refused(stub.DescribeGroup, gs.DescribeGroupRequest(group_id="nope"))
    assert isinstance(missing, errors.GroupNotFoundError)


def test_fetch_tells_no_commit_from_offset_zero(stub, broker) -> None:
    create(broker, "t", 2)
    stub.CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id="solo",
            standalone=True,
            offsets=[gs.OffsetCommit(topic="t", partition=0, offset=0, metadata="m")],
        )
    )
    want = [gp.TopicPartitions(topic="t", partitions=[0, 1])]
    reply = stub.FetchCommittedOffsets(
        gs.FetchCommittedOffsetsRequest(group_id="solo", partitions=want)
    )
    assert [(c.partition, c.HasField("offset")) for c in reply.offsets] == [(0, True), (1, False)]
    assert reply.offsets[0].offset == 0
    assert reply.offsets[0].metadata == "m"
    error = refused(
        stub.FetchCommittedOffsets,
        gs.FetchCommittedOffsetsRequest(group_id="solo", partitions=want, require_committed=True),
    )
    assert isinstance(error, errors.NoCommittedOffsetError)
    assert "t-1" in error.message


def test_lag_before_and_after_consuming(channel, stub, broker) -> None:
    create(broker, "t", 2)
    for p in range(2):
        broker.produce("t", [record(b"x", timestamp_ms=1_000) for _ in range(5)], p)
    member = Member(channel, "g", "t").start()
    try:
        wait_until(lambda: member.owned == {("t", 0), ("t", 1)})
        member.close()
        member = Member(channel, "g", "t")
        stub.ResetOffsets(gs.ResetOffsetsRequest(group_id="g", all_topics=True, earliest=True))
        before = describe(channel, "g")
        assert [(p.lag_records, p.committed_offset) for p in before.partitions] == [(5, 0)] * 2
        assert before.total_lag_records == 10
        assert before.max_lag_ms > 1_000_000  # the records are from 1970
        member.start()
        wait_until(lambda: len(member.consumed) == 10, what="consumed")
        wait_until(lambda: describe(channel, "g").total_lag_records == 0, what="lag 0")
        after = describe(channel, "g")
        assert [(p.lag_records, p.lag_ms, p.committed_offset) for p in after.partitions] == [
            (0, 0, 5)
        ] * 2
        assert {p.owner_member_id for p in after.partitions} == {member.member_id}
    finally:
        member.close()


def test_reset_to_timestamp_dry_run_matches_what_is_reread(channel, stub, broker) -> None:
    create(broker, "t", 3)
    for p in range(3):
        broker.produce(
            "t", [record(f"{p}-{i}".encode(), timestamp_ms=1_000 * i) for i in range(10)], p
        )
    first = Member(channel, "g", "t").start()
    wait_until(lambda: len(first.consumed) == 30, what="first pass")
    first.close()
    request = gs.ResetOffsetsRequest(group_id="g", topic="t", timestamp_ms=6_500, dry_run=True)
    preview = stub.ResetOffsets(request)
    assert not preview.applied
    assert [(r.previous_offset, r.new_offset, r.redelivered_records) for r in preview.resets] == [
        (10, 7, 3)
    ] * 3
    assert describe(channel, "g").partitions[0].committed_offset == 10  # dry run stored nothing
    request.dry_run = False
    assert stub.ResetOffsets(request).applied
    again = Member(channel, "g", "t").start()
    try:
        expected = sum(r.redelivered_records for r in preview.resets)
        wait_until(lambda: len(again.consumed) == expected, what="re-read")
        assert sorted(again.consumed) == [(p, o) for p in range(3) for o in (7, 8, 9)]
        by_duration = stub.ResetOffsets(
            gs.ResetOffsetsRequest(group_id="g", all_topics=True, duration_ms=60_000, dry_run=True)
        )
        assert [r.new_offset for r in by_duration.resets] == [10] * 3  # nothing that recent
        refused_reset = refused(
            stub.ResetOffsets, gs.ResetOffsetsRequest(group_id="g", topic="t", latest=True)
        )
        assert isinstance(refused_reset, errors.GroupNotEmptyError)
    finally:
        again.close()


def test_list_and_delete(channel, stub, broker) -> None:
    create(broker, "t", 1)
    a = join(stub, "alpha")
    stub.CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id="beta",
            standalone=True,
            offsets=[gs.OffsetCommit(topic="t", partition=0, offset=0)],
        )
    )
    listed = stub.ListGroups(gs.ListGroupsRequest()).groups
    assert [(g.group_id, g.member_count) for g in listed] == [("alpha", 1), ("beta", 0)]
    assert listed[1].state == gp.GROUP_STATE_EMPTY
    error = refused(stub.DeleteGroup, gs.DeleteGroupRequest(group_id="alpha"))
    assert isinstance(error, errors.GroupNotEmptyError)
    stub.LeaveGroup(gs.LeaveGroupRequest(group_id="alpha", member_id=a.member_id))
    assert stub.DeleteGroup(gs.DeleteGroupRequest(group_id="alpha")).deleted_offsets == 0
    assert stub.DeleteGroup(gs.DeleteGroupRequest(group_id="beta")).deleted_offsets == 1
    assert list(stub.ListGroups(gs.ListGroupsRequest()).groups) == []


def test_new_partitions_and_regex_topics_rebalance(channel, stub, broker) -> None:
    create(broker, "t", 2)
    request = gs.HeartbeatRequest(group_id="g", topic_regex=r"t|more\..*")
    a = stub.Heartbeat(request)
    assert partitions(a) == [0, 1]
    broker.topics.CreatePartitions(ts.CreatePartitionsRequest(name="t", partition_count=4))
    a = beat(stub, "g", a)
    assert partitions(a) == [0, 1, 2, 3]
    create(broker, "more.x", 1)
    a = beat(stub, "g", a)
    assert {(tp.topic, tuple(tp.partitions)) for tp in a.assignment} == {
        ("t", (0, 1, 2, 3)),
        ("more.x", (0,)),
    }


def test_static_member_gets_its_partitions_back_after_a_quick_restart(channel, broker) -> None:
    create(broker, "t", 6)
    crew = [Member(channel, "g", "t", instance_id=f"pod-{i}").start() for i in range(3)]
    try:
        wait_until(lambda: balanced(crew, 6), what="balanced")
        before = set(crew[0].owned)
        crew[0].crash()
        crew[0] = Member(channel, "g", "t", instance_id="pod-0").start()
        wait_until(lambda: crew[0].owned == before, timeout_s=0.9, what="same partitions back")
        assert all(len(m.owned) == 2 for m in crew)
    finally:
        for m in crew:
            m.close()


def test_restart_keeps_commits_and_members_continue(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data")
    try:
        channel = grpc.insecure_channel(server.address)
        broker = Broker(channel)
        create(broker, "t", 2)
        for p in range(2):
            broker.produce("t", [record(b"x") for _ in range(4)], p)
        member = Member(channel, "g", "t", session_ms=10_000).start()
        wait_until(lambda: len(member.consumed) == 8, what="consumed")
        member.close()  # leave; offsets stay
        crashed = Member(channel, "g", "t", session_ms=10_000).start()
        wait_until(lambda: len(crashed.owned) == 2, what="second member")
        crashed.crash()
        channel.close()
    finally:
        server.stop()
    server = EmbeddedServer(tmp_path / "data")
    try:
        channel = grpc.insecure_channel(server.address)
        stub = gs_grpc.GroupServiceStub(channel)
        committed = stub.FetchCommittedOffsets(gs.FetchCommittedOffsetsRequest(group_id="g"))
        assert [(c.partition, c.offset) for c in committed.offsets] == [(0, 4), (1, 4)]
        group = describe(channel, "g")
        assert [m.member_id for m in group.members] == [crashed.member_id]  # state recovered
        # the surviving member id is still valid: it continues with its epoch and partitions
        reply = stub.Heartbeat(
            gs.HeartbeatRequest(
                group_id="g",
                member_id=crashed.member_id,
                member_epoch=crashed.epoch,
                owned_partitions=[gp.TopicPartitions(topic="t", partitions=[0, 1])],
            )
        )
        assert partitions(reply) == [0, 1]
        stub.LeaveGroup(gs.LeaveGroupRequest(group_id="g", member_id=crashed.member_id))
        Broker(channel).produce("t", [record(b"y")], 0)
        resumed = Member(channel, "g", "t").start()
        try:
            wait_until(lambda: len(resumed.consumed) == 1, what="resumed after restart")
            assert resumed.consumed == [(0, 4)]
        finally:
            resumed.close()
        channel.close()
    finally:
        server.stop()
