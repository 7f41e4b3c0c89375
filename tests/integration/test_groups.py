"""Consumer groups against a real server: members are threads with raw gRPC stubs.

Each member heartbeats, consumes its partitions from the committed offset (else the log
start), commits after every batch, and drops a revoked partition before its next heartbeat.
Ownership changes happen under one lock, so the sampler sees consistent cuts of who owns what.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.core.status import from_rpc_error
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc

SESSION_MS = 1000
OWNERSHIP = threading.Lock()


def tps_out(owned: set[tuple[str, int]]) -> list[gp.TopicPartitions]:
    topics = sorted({t for t, _ in owned})
    return [
        gp.TopicPartitions(topic=t, partitions=sorted(p for tt, p in owned if tt == t))
        for t in topics
    ]


def tps_in(items) -> set[tuple[str, int]]:
    return {(i.topic, p) for i in items for p in i.partitions}


@dataclass
class Member:
    """One consumer-group member in a thread."""

    channel: grpc.Channel
    group: str
    topic: str
    instance_id: str | None = None
    session_ms: int = SESSION_MS
    member_id: str = ""
    epoch: int = 0
    owned: set[tuple[str, int]] = field(default_factory=set)
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    consumed: list[tuple[int, int]] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    stable: bool = False

    def __post_init__(self) -> None:
        self.stub = gs_grpc.GroupServiceStub(self.channel)
        self.broker = Broker(self.channel)
        self._stop = threading.Event()
        self._crash = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Member:
        self._thread.start()
        return self

    def heartbeat(self) -> gs.HeartbeatResponse:
        request = gs.HeartbeatRequest(
            group_id=self.group,
            member_id=self.member_id,
            member_epoch=self.epoch,
            owned_partitions=tps_out(self.owned),
            session_timeout_ms=self.session_ms,
        )
        if self.instance_id is not None:
            request.instance_id = self.instance_id
        if not self.member_id:
            request.topics.names.append(self.topic)
        reply = self.stub.Heartbeat(request)
        self.member_id, self.epoch = reply.member_id, reply.member_epoch
        assigned = tps_in(reply.assignment)
        revoked = self.owned - assigned
        if revoked:
            self.commit(revoked)
        with OWNERSHIP:
            self.owned = set(assigned)
        for tp in revoked:
            self.positions.pop(tp, None)
        self.stable = not reply.reconciling
        return reply

    def commit(self, tps) -> None:
        offsets = [
            gs.OffsetCommit(topic=t, partition=p, offset=self.positions[(t, p)])
            for t, p in sorted(tps)
            if (t, p) in self.positions
        ]
        if offsets:
            self.stub.CommitOffsets(
                gs.CommitOffsetsRequest(
                    group_id=self.group,
                    member=gs.MemberIdentity(member_id=self.member_id, member_epoch=self.epoch),
                    offsets=offsets,
                )
            )

    def _position(self, tp: tuple[str, int]) -> int:
        if tp not in self.positions:
            reply = self.stub.FetchCommittedOffsets(
                gs.FetchCommittedOffsetsRequest(
                    group_id=self.group,
                    partitions=[gp.TopicPartitions(topic=tp[0], partitions=[tp[1]])],
                )
            )
            c = reply.offsets[0]
            self.positions[tp] = c.offset if c.HasField("offset") else 0
        return self.positions[tp]

    def poll(self) -> None:
        for tp in sorted(self.owned):
            start = self._position(tp)
            records = self.broker.fetch(tp[0], tp[1], start).records
            if not records:
                continue
            with OWNERSHIP:
                if tp not in self.owned or self._crash.is_set():
                    return
                self.consumed += [(tp[1], r.offset) for r in records]
            self.positions[tp] = records[-1].offset + 1
            self.commit([tp])

    def _run(self) -> None:
        next_beat = 0.0
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_beat:
                    reply = self.heartbeat()
                    next_beat = time.monotonic() + reply.heartbeat_interval_ms / 1000
                self.poll()
                self._stop.wait(0.01)
        except grpc.RpcError as e:
            if not self._crash.is_set():
                self.errors.append(from_rpc_error(e))
        except Exception as e:  # a failed assertion in a thread must reach the test
            self.errors.append(e)

    def crash(self) -> None:
        """Stop at once, like SIGKILL: no commit, no leave; ownership ends with the process."""
        self._crash.set()
        self._stop.set()
        self._thread.join(5)
        with OWNERSHIP:
            self.owned = set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.member_id and not self._crash.is_set():
            with contextlib.suppress(grpc.RpcError):
                self.stub.LeaveGroup(
                    gs.LeaveGroupRequest(group_id=self.group, member_id=self.member_id)
                )
        with OWNERSHIP:
            self.owned = set()


class Sampler:
    """Samples every member's owned partitions and records any double ownership."""

    def __init__(self, members: Callable[[], list[Member]]) -> None:
        self.members = members
        self.samples = 0
        self.overlaps: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with OWNERSHIP:
                seen: dict[tuple[str, int], str] = {}
                for m in self.members():
                    for tp in m.owned:
                        if tp in seen:
                            self.overlaps.append(f"{tp} owned by {seen[tp]} and {m.member_id}")
                        seen[tp] = m.member_id
            self.samples += 1
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def wait_until(check: Callable[[], bool], timeout_s: float = 15, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def balanced(members: list[Member], partitions: int) -> bool:
    counts = [len(m.owned) for m in members]
    return (
        sum(counts) == partitions
        and max(counts) - min(counts) <= 1
        and all(m.stable for m in members)
    )


def produce(broker: Broker, topic: str, partitions: int, per_partition: int, **kw) -> None:
    for p in range(partitions):
        broker.produce(topic, [record(f"{p}-{i}".encode(), **kw) for i in range(per_partition)], p)


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


@pytest.fixture
def crew(channel: grpc.Channel) -> Iterator[list[Member]]:
    members: list[Member] = []
    yield members
    for m in members:
        m.close()
    for m in members:
        assert not m.errors, m.errors


def create(broker: Broker, topic: str, partitions: int) -> None:
    broker.create_topic(topic, partitions, value_schema_validation="none")


def describe(channel: grpc.Channel, group: str) -> gp.Group:
    stub = gs_grpc.GroupServiceStub(channel)
    return stub.DescribeGroup(gs.DescribeGroupRequest(group_id=group)).group


def test_twelve_partitions_three_then_four_members_never_two_owners(channel, broker, crew) -> None:
    create(broker, "orders", 12)
    produce(broker, "orders", 12, 5)
    sampler = Sampler(lambda: list(crew))
    crew += [Member(channel, "g", "orders").start() for _ in range(3)]
    wait_until(lambda: balanced(crew, 12), what="3 members balanced")
    assert sorted(len(m.owned) for m in crew) == [4, 4, 4]
    crew.append(Member(channel, "g", "orders").start())
    wait_until(lambda: balanced(crew, 12), what="4 members balanced")
    assert sorted(len(m.owned) for m in crew) == [3, 3, 3, 3]
    produce(broker, "orders", 12, 5)
    wait_until(lambda: sum(len(m.consumed) for m in crew) >= 120, what="everything consumed")
    sampler.stop()
    assert sampler.samples > 50
    assert sampler.overlaps == []
    consumed = sorted(r for m in crew for r in m.consumed)
    assert consumed == sorted((p, o) for p in range(12) for o in range(10))  # once each
    group = describe(channel, "g")
    assert group.state == gp.GROUP_STATE_STABLE
    assert group.total_lag_records == 0
    assert {p.owner_member_id for p in group.partitions} == {m.member_id for m in crew}


def test_a_thirteenth_member_idles_without_error(channel, broker, crew) -> None:
    create(broker, "orders", 12)
    crew += [Member(channel, "g", "orders").start() for _ in range(13)]
    wait_until(lambda: balanced(crew, 12), what="13 members settled")
    assert sorted(len(m.owned) for m in crew) == [0] + [1] * 12
    assert all(not m.errors for m in crew)


def test_killed_member_loses_partitions_and_work_resumes_from_commit(channel, broker, crew) -> None:
    create(broker, "orders", 4)
    produce(broker, "orders", 4, 10)
    sampler = Sampler(lambda: list(crew))
    crew += [Member(channel, "g", "orders").start() for _ in range(2)]
    wait_until(lambda: balanced(crew, 4) and sum(len(m.consumed) for m in crew) == 40)
    victim, survivor = crew
    lost = set(victim.owned)
    victim.crash()
    killed_at = time.monotonic()
    produce(broker, "orders", 4, 10)
    wait_until(lambda: survivor.owned == {("orders", p) for p in range(4)}, timeout_s=5)
    took = time.monotonic() - killed_at
    assert took < SESSION_MS / 1000 + 1.0, took
    wait_until(lambda: len(survivor.consumed) + len(victim.consumed) >= 80, what="resume")
    sampler.stop()
    assert sampler.overlaps == []
    consumed = set(victim.consumed) | set(survivor.consumed)
    assert consumed == {(p, o) for p in range(4) for o in range(20)}  # nothing lost
    resumed = [(p, o) for p, o in survivor.consumed if ("orders", p) in lost]
    assert min(o for _, o in resumed) == 10  # from the victim's last commit, not from 0


def test_two_groups_read_everything_independently(channel, broker, crew) -> None:
    create(broker, "orders", 3)
    produce(broker, "orders", 3, 7)
    crew += [Member(channel, "a", "orders").start(), Member(channel, "b", "orders").start()]
    crew += [Member(channel, "b", "orders").start()]
    want = sorted((p, o) for p in range(3) for o in range(7))
    wait_until(lambda: len(crew[0].consumed) == 21)
    wait_until(lambda: len(crew[1].consumed) + len(crew[2].consumed) == 21)
    assert sorted(crew[0].consumed) == want
    assert sorted(crew[1].consumed + crew[2].consumed) == want
    assert len(describe(channel, "a").members) == 1
    assert len(describe(channel, "b").members) == 2
