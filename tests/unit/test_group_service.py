"""GroupManager over a real log store: commits, fetch, lag, resets, delete, and replay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from weir.broker.groups import codec
from weir.broker.groups.group import Group, Member
from weir.broker.groups.model import (
    Assignor,
    GroupId,
    HeartbeatInput,
    InstanceId,
    MemberId,
    Subscription,
)
from weir.broker.groups.positions import ResetKind, ResetSpec
from weir.broker.groups.service import GroupManager, OffsetCommitInput
from weir.broker.log.api import Acks, NewRecord, PartitionId, TopicName, TopicPartition
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.topics import TopicManager
from weir.core import errors

T = TypeVar("T")
G = GroupId("g")


def tp(p: int, topic: str = "t") -> TopicPartition:
    return TopicPartition(TopicName(topic), PartitionId(p))


class Env:
    """A log store, topics and a group manager on one data dir, with a settable clock."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.now = 1_000_000
        self.loop = asyncio.new_event_loop()
        self.open()

    def run(self, aw: Awaitable[T]) -> T:
        return self.loop.run_until_complete(aw)

    def open(self) -> None:
        self.log = EmbeddedLogStore(self.root / "log", now_ms=lambda: self.now)
        self.topics = TopicManager(self.root, self.log)
        self.run(self.topics.open())
        self.groups = GroupManager(self.topics, self.log, now_ms=lambda: self.now)
        self.run(self.groups.open())

    def reopen(self) -> None:
        self.run(self.log.close())
        self.open()

    def close(self) -> None:
        self.run(self.log.close())
        self.loop.close()

    def produce(self, p: int, stamps: list[int]) -> None:
        records = [NewRecord(value=b"v", timestamp_ms=s) for s in stamps]
        self.run(self.log.append(tp(p), records, Acks.ALL))

    def join(self, instance: str | None = None):
        return self.run(
            self.groups.heartbeat(
                HeartbeatInput(
                    G,
                    MemberId(""),
                    0,
                    frozenset(),
                    instance_id=None if instance is None else InstanceId(instance),
                    subscription=Subscription(topics=frozenset({"t"})),
                    session_timeout_ms=1000,
                )
            )
        )


@pytest.fixture
def env(tmp_path: Path):
    e = Env(tmp_path)
    e.run(e.topics.create("t", 2, {}))
    yield e
    e.close()


def test_codec_round_trips_a_group() -> None:
    group = Group(G, Assignor.RANGE, 4, 3, subscribed={"t": 2})
    member = Member(
        MemberId("m1"),
        Subscription(regex="t.*"),
        1000,
        5000,
        0,
        InstanceId("pod"),
        3,
        2,
        {tp(0): 2},
        {tp(1): 1},
    )
    group.members[member.member_id] = member
    group.target[member.member_id] = frozenset({tp(0)})
    back = codec.decode_group(G, codec.encode_group(group), now_ms=77)
    assert codec.encode_group(back) == codec.encode_group(group)
    assert back.members[MemberId("m1")].last_seen_ms == 77
    assert codec.decode_key(codec.group_key("a/b")) == codec.GroupKey(GroupId("a/b"))
    assert codec.decode_key(b"not json") is None


def test_commit_fetch_and_no_commit_are_distinct(env: Env) -> None:
    env.produce(0, [1, 2, 3])
    reply = env.join()
    owned = sorted(reply.assignment, key=lambda t: t.partition)
    env.run(
        env.groups.commit(
            "g", (reply.member_id, reply.member_epoch), [OffsetCommitInput(tp(0), 0, "m")]
        )
    )
    found = dict(env.groups.fetch("g", owned, require=False))
    assert found[tp(0)] is not None
    assert found[tp(0)].offset == 0  # zero, not "missing"
    assert found[tp(1)] is None
    with pytest.raises(errors.NoCommittedOffsetError, match="t-1"):
        env.groups.fetch("g", owned, require=True)


def test_commit_validation(env: Env) -> None:
    env.produce(0, [1])
    reply = env.join()
    member = (reply.member_id, reply.member_epoch)
    with pytest.raises(errors.OffsetOutOfRangeError, match="log end 1"):
        env.run(env.groups.commit("g", member, [OffsetCommitInput(tp(0), 5)]))
    with pytest.raises(errors.PartitionNotFoundError):
        env.run(env.groups.commit("g", member, [OffsetCommitInput(tp(7), 0)]))
    with pytest.raises(errors.InvalidArgumentError, match="twice"):
        env.run(env.groups.commit("g", member, [OffsetCommitInput(tp(0), 0)] * 2))
    with pytest.raises(errors.GroupNotEmptyError):
        env.run(env.groups.commit("g", None, [OffsetCommitInput(tp(0), 1)]))


def test_state_and_offsets_survive_reopen(env: Env) -> None:
    env.produce(0, [1, 2])
    reply = env.join(instance="pod")
    env.run(
        env.groups.commit(
            "g", (reply.member_id, reply.member_epoch), [OffsetCommitInput(tp(0), 2, "x")]
        )
    )
    env.reopen()
    assert env.groups.fetch("g", [tp(0)], require=True)[0][1].metadata == "x"
    group = env.groups.coordinator.get("g")
    assert set(group.members) == {reply.member_id}
    again = env.run(
        env.groups.heartbeat(
            HeartbeatInput(G, reply.member_id, reply.member_epoch, reply.assignment)
        )
    )
    assert again.assignment == reply.assignment
    assert again.member_epoch == reply.member_epoch


def test_lag_in_records_and_age(env: Env) -> None:
    env.produce(0, [1_000, 2_000, 3_000])
    env.now = 10_000
    env.run(env.groups.commit("g", None, [OffsetCommitInput(tp(0), 1)]))
    found = env.run(env.groups.describe("g"))
    (lag,) = found.partitions
    assert (lag.lag_records, lag.lag_ms) == (2, 8_000)
    env.run(env.groups.commit("g", None, [OffsetCommitInput(tp(0), 3)]))
    (lag,) = env.run(env.groups.describe("g")).partitions
    assert (lag.lag_records, lag.lag_ms) == (0, 0)


def test_reset_dry_run_then_apply(env: Env) -> None:
    env.produce(0, [100, 200, 300, 400])
    env.produce(1, [150, 250])
    env.run(
        env.groups.commit("g", None, [OffsetCommitInput(tp(0), 4), OffsetCommitInput(tp(1), 2)])
    )
    spec = ResetSpec(ResetKind.TIMESTAMP, 250)
    preview = env.run(env.groups.reset("g", "t", spec, force=False, dry_run=True))
    assert [(o.tp.partition, o.previous, o.target, o.redelivered) for o in preview] == [
        (0, 4, 2, 2),
        (1, 2, 1, 1),
    ]
    assert env.groups.fetch("g", [tp(0)], require=True)[0][1].offset == 4  # untouched
    env.run(env.groups.reset("g", None, spec, force=False, dry_run=False))
    assert [c.offset for _, c in env.groups.fetch("g", None, require=True)] == [2, 1]
    env.now = 1_000_000
    ago = env.run(env.groups.reset("g", "t", ResetSpec(ResetKind.DURATION, 1), False, True))
    assert [o.target for o in ago] == [4, 2]  # nothing that recent: the log end
    early = env.run(env.groups.reset("g", "t", ResetSpec(ResetKind.OFFSET, 99), False, True))
    assert [o.target for o in early] == [4, 2]  # clamped to the log end


def test_reset_refused_with_members_unless_forced(env: Env) -> None:
    env.join()
    spec = ResetSpec(ResetKind.EARLIEST)
    with pytest.raises(errors.GroupNotEmptyError, match="force"):
        env.run(env.groups.reset("g", "t", spec, force=False, dry_run=False))
    assert env.run(env.groups.reset("g", "t", spec, force=True, dry_run=False))


def test_delete_removes_offsets_for_good(env: Env) -> None:
    env.produce(0, [1])
    env.run(env.groups.commit("g", None, [OffsetCommitInput(tp(0), 1)]))
    assert env.run(env.groups.delete("g")) == 1
    env.reopen()
    assert [g.group_id for g in env.groups.list_groups()] == []
    with pytest.raises(errors.GroupNotFoundError):
        env.run(env.groups.delete("g"))


def test_expiry_seen_by_describe_is_persisted(env: Env) -> None:
    env.join()
    env.now += 1001
    assert env.run(env.groups.describe("g")).view.members == ()
    env.reopen()
    assert env.groups.coordinator.get("g").members == {}
