"""weir.sdk.Admin consumer-group calls against a real server: list, describe (lag), committed
offsets, reset (every target, dry run, force) and delete, with the errors each refusal gives."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.core import errors
from weir.sdk import (
    Admin,
    CommittedOffset,
    DeletedGroup,
    GroupDescription,
    GroupSummary,
    OffsetReset,
)
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc

HOUR_MS = 3_600_000


@pytest.fixture
def admin(server) -> Iterator[Admin]:
    with Admin(server.address, timeout_s=10) as client:
        yield client


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


@pytest.fixture
def groups(channel: grpc.Channel) -> gs_grpc.GroupServiceStub:
    return gs_grpc.GroupServiceStub(channel)


def now_ms() -> int:
    return int(time.time() * 1000)


def fill(broker: Broker, topic: str, partition: int, timestamps: list[int]) -> None:
    """One raw record per timestamp into a partition."""
    broker.produce(
        topic,
        [record(f"v{i}".encode(), timestamp_ms=ts) for i, ts in enumerate(timestamps)],
        partition=partition,
    )


def join(groups: gs_grpc.GroupServiceStub, group: str, topic: str) -> gs.HeartbeatResponse:
    """Join a group and heartbeat until the member owns its target assignment."""
    reply = groups.Heartbeat(
        gs.HeartbeatRequest(group_id=group, topics=gp.TopicNames(names=[topic]))
    )
    for _ in range(20):
        if not reply.reconciling:
            break
        reply = groups.Heartbeat(
            gs.HeartbeatRequest(
                group_id=group,
                member_id=reply.member_id,
                member_epoch=reply.member_epoch,
                owned_partitions=reply.assignment,
            )
        )
    return reply


def commit(
    groups: gs_grpc.GroupServiceStub, group: str, member: gs.HeartbeatResponse, **offsets: int
) -> None:
    """Commit as a member: ``p0=3`` commits offset 3 for partition 0 of topic 'orders'."""
    groups.CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id=group,
            member=gs.MemberIdentity(member_id=member.member_id, member_epoch=member.member_epoch),
            offsets=[
                gs.OffsetCommit(topic="orders", partition=int(p[1:]), offset=o)
                for p, o in offsets.items()
            ],
        )
    )


@pytest.fixture
def orders(admin: Admin, broker: Broker) -> int:
    """Topic 'orders': partition 0 has 10 records, an hour old then a minute apart; partition 1
    has 2. Returns the first record's timestamp."""
    admin.create_topic("orders", 2, {"value.schema.validation": "none"})
    t0 = now_ms() - 2 * HOUR_MS
    fill(broker, "orders", 0, [t0 + i * 60_000 for i in range(10)])
    fill(broker, "orders", 1, [now_ms(), now_ms()])
    return t0


def test_no_groups_and_unknown_group(admin: Admin) -> None:
    assert admin.list_groups() == []
    with pytest.raises(errors.GroupNotFoundError, match="'ghost'"):
        admin.describe_group("ghost")
    with pytest.raises(errors.GroupNotFoundError):
        admin.delete_group("ghost")
    assert admin.committed_offsets("ghost") == []


def test_describe_shows_members_commits_lag_and_owner(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    assert {tp.topic for tp in member.assignment} == {"orders"}
    commit(groups, "billing", member, p0=4)

    listed = admin.list_groups()
    assert listed == [GroupSummary("billing", "stable", 1, "uniform", listed[0].group_epoch)]
    group = admin.describe_group("billing")
    assert isinstance(group, GroupDescription)
    assert group.state == "stable"
    [m] = group.members
    assert m.member_id == member.member_id
    assert m.assignment == (("orders", 0), ("orders", 1))
    assert m.subscribed_topics == ("orders",)
    assert m.state == "stable"
    p0, p1 = group.partitions
    assert (p0.topic, p0.partition, p0.committed_offset, p0.log_end_offset) == ("orders", 0, 4, 10)
    assert p0.lag_records == 6
    # the oldest unconsumed record (offset 4) is two hours minus four minutes old
    expected_ms = now_ms() - (orders + 4 * 60_000)
    assert abs(p0.lag_ms - expected_ms) < 60_000
    assert p0.lag_s == pytest.approx(p0.lag_ms / 1000)
    assert p0.owner_member_id == member.member_id
    assert (p1.committed_offset, p1.log_end_offset, p1.lag_records) == (None, 2, 2)
    assert group.total_lag_records == 8
    assert group.max_lag_ms == p0.lag_ms


def test_committed_offsets_tell_no_commit_from_zero(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    commit(groups, "billing", member, p0=0)
    found = admin.committed_offsets("billing", {"orders": [1, 0]})
    assert [(c.topic, c.partition, c.offset) for c in found] == [
        ("orders", 0, 0),
        ("orders", 1, None),
    ]
    assert found[0].member_epoch == member.member_epoch
    assert found[0].commit_time_ms > 0
    assert found[1] == CommittedOffset("orders", 1, None, "", 0, 0)
    everything = admin.committed_offsets("billing")
    assert [(c.partition, c.offset) for c in everything] == [(0, 0)]
    with pytest.raises(errors.NoCommittedOffsetError, match="orders"):
        admin.committed_offsets("billing", {"orders": [1]}, require_committed=True)


def test_reset_needs_an_empty_group_unless_forced(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    commit(groups, "billing", member, p0=10, p1=2)
    with pytest.raises(errors.GroupNotEmptyError):
        admin.reset_offsets("billing", "orders", to="earliest")
    with pytest.raises(errors.GroupNotEmptyError):
        admin.delete_group("billing")
    forced = admin.reset_offsets("billing", "orders", to="earliest", force=True)
    assert forced.applied
    assert [r.new_offset for r in forced.resets] == [0, 0]
    groups.LeaveGroup(gs.LeaveGroupRequest(group_id="billing", member_id=member.member_id))
    assert admin.describe_group("billing").state == "empty"


def test_dry_run_counts_and_changes_nothing(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    commit(groups, "billing", member, p0=10, p1=2)
    groups.LeaveGroup(gs.LeaveGroupRequest(group_id="billing", member_id=member.member_id))

    since = dt.datetime.fromtimestamp((orders + 6 * 60_000) / 1000, tz=dt.UTC)
    preview = admin.reset_offsets("billing", "orders", to=since, dry_run=True)
    assert not preview.applied
    assert preview.resets[0] == OffsetReset("orders", 0, 10, 6, 4, 0, 4)
    # partition 1's records are newer than `since`: its first offset at or after it is 0
    assert preview.resets[1] == OffsetReset("orders", 1, 2, 0, 2, 0, 2)
    assert preview.redelivered_records == 6
    assert preview.records_to_read == 6
    assert [c.offset for c in admin.committed_offsets("billing")] == [10, 2]  # unchanged

    done = admin.reset_offsets("billing", "orders", to=since)
    assert done.applied
    assert done.resets == preview.resets
    assert [c.offset for c in admin.committed_offsets("billing")] == [6, 0]


def test_every_reset_target(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    commit(groups, "billing", member, p0=5, p1=1)
    groups.LeaveGroup(gs.LeaveGroupRequest(group_id="billing", member_id=member.member_id))

    def targets(**kw) -> list[int]:
        return [r.new_offset for r in admin.reset_offsets("billing", dry_run=True, **kw).resets]

    assert targets(to="earliest") == [0, 0]
    assert targets(to="latest") == [10, 2]
    assert targets(to=7) == [7, 2]  # clamped into partition 1's end
    # 90 minutes ago: partition 0's records from t0 + 30 min are that new
    assert targets(to=dt.timedelta(minutes=90)) == [10, 0]
    assert targets(to=dt.timedelta(hours=3)) == [0, 0]
    skipped = admin.reset_offsets("billing", "orders", to="latest", dry_run=True).resets[0]
    assert (skipped.previous_offset, skipped.skipped_records, skipped.redelivered_records) == (
        5,
        5,
        0,
    )


def test_delete_an_empty_group(admin: Admin, groups, orders: int) -> None:
    member = join(groups, "billing", "orders")
    commit(groups, "billing", member, p0=3, p1=1)
    groups.LeaveGroup(gs.LeaveGroupRequest(group_id="billing", member_id=member.member_id))
    assert admin.delete_group("billing") == DeletedGroup("billing", 2)
    assert admin.list_groups() == []
    with pytest.raises(errors.GroupNotFoundError):
        admin.describe_group("billing")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.describe_group(""), "name the consumer group"),
        (lambda a: a.reset_offsets("g", to="soon"), "reset target 'soon' is not valid"),
        (lambda a: a.reset_offsets("g", to=-1), "is not valid"),
        (lambda a: a.reset_offsets("g", to=True), "is not valid"),
        (lambda a: a.reset_offsets("g", to=dt.datetime(2024, 1, 1)), "has no timezone"),
        (lambda a: a.reset_offsets("g", to=dt.timedelta(0)), "must be positive"),
        (lambda a: a.reset_offsets("g", "bad topic!", to="earliest"), "topic name"),
        (lambda a: a.committed_offsets("g", {"orders": 1}), "not one number"),
        (lambda a: a.committed_offsets("g", {"orders": [-1]}), "partition must be"),
    ],
)
def test_bad_arguments_fail_before_sending(call, message: str) -> None:
    offline = Admin("127.0.0.1:1", timeout_s=1)  # nothing listens: must not be reached
    with offline, pytest.raises(errors.InvalidArgumentError, match=message):
        call(offline)


def test_results_are_frozen(admin: Admin, groups, orders: int) -> None:
    join(groups, "billing", "orders")
    group = admin.describe_group("billing")
    with pytest.raises(AttributeError):
        group.state = "empty"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        group.partitions[0].lag_records = 0  # type: ignore[misc]
