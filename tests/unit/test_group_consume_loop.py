"""The `weir consume --group` member loop against a scripted coordinator: starts from commits
or the --reset end, drops revoked partitions, rejoins when fenced, commits each printed record,
and moves out-of-range positions to the --reset end."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from weir.core.errors import (
    FencedMemberEpochError,
    OffsetOutOfRangeError,
    PartitionNotAssignedError,
)
from weir.sdk import PartitionInfo, TopicInfo
from weir.sdk.cli import _group_consume as gc
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import log_pb2 as lp


@dataclass
class FakeAdmin:
    bounds: dict[int, tuple[int, int]]
    timeout_s: float = 1.0

    def describe_topic(self, name: str) -> TopicInfo:
        parts = tuple(PartitionInfo(p, s, e) for p, (s, e) in sorted(self.bounds.items()))
        return TopicInfo(name, len(parts), partitions=parts)


@dataclass
class FakeClients:
    admin: FakeAdmin
    server: str = "fake:1"


@dataclass
class FakeCalls:
    """Replies with the scripted assignments in turn (the last one repeats)."""

    assignments: list[list[int]]
    commits: dict[int, int] = field(default_factory=dict)
    heartbeats: list[gs.HeartbeatRequest] = field(default_factory=list)
    fence_next: bool = False
    refuse_commit: set[int] = field(default_factory=set)

    def heartbeat(self, request: gs.HeartbeatRequest) -> gs.HeartbeatResponse:
        self.heartbeats.append(request)
        if self.fence_next and request.member_epoch:
            self.fence_next = False
            raise FencedMemberEpochError("fenced")
        partitions = self.assignments.pop(0) if len(self.assignments) > 1 else self.assignments[0]
        return gs.HeartbeatResponse(
            member_id="m-1",
            member_epoch=len(self.heartbeats),
            heartbeat_interval_ms=1,  # heartbeat before every fetch
            assignment=[gp.TopicPartitions(topic="orders", partitions=partitions)],
        )

    def committed(self, request: gs.FetchCommittedOffsetsRequest) -> Any:
        reply = gs.FetchCommittedOffsetsResponse()
        for tps in request.partitions:
            for p in tps.partitions:
                entry = reply.offsets.add(topic=tps.topic, partition=p)
                if p in self.commits:
                    entry.offset = self.commits[p]
        return reply

    def commit(self, request: gs.CommitOffsetsRequest) -> None:
        for o in request.offsets:
            if o.partition in self.refuse_commit:
                raise PartitionNotAssignedError(f"partition {o.partition} moved")
            self.commits[o.partition] = o.offset


class Log:
    """Partitions with ``size`` records each; fetch returns at most 2 per partition."""

    def __init__(
        self, size: int, out_of_range_once: bool = False, calls: FakeCalls | None = None
    ) -> None:
        self.size = size
        self.fetched: list[dict[int, int]] = []
        self.heartbeats_before: list[int] = []
        """How many heartbeats had been sent before each fetch."""
        self.out_of_range_once = out_of_range_once
        self.calls = calls

    def fetch(self, positions: dict[int, int], wait_ms: int) -> list[tuple[int, list[Any]]]:
        self.fetched.append(dict(positions))
        self.heartbeats_before.append(len(self.calls.heartbeats) if self.calls else 0)
        time.sleep(0.002)  # a long poll outlasts the 1 ms heartbeat interval
        if self.out_of_range_once:
            self.out_of_range_once = False
            raise OffsetOutOfRangeError("below the log start")
        return [
            (p, [lp.StoredRecord(offset=o) for o in range(off, min(off + 2, self.size))])
            for p, off in sorted(positions.items())
        ]


def run(
    calls: FakeCalls,
    log: Log,
    admin: FakeAdmin,
    *,
    reset: str = "earliest",
    max_records: int = 6,
    timeout_ms: int = 2000,
) -> tuple[list[tuple[int, int]], gc.Member]:
    printed: list[tuple[int, int]] = []
    member = gc.Member(group="g", topic="orders", reset=reset)
    count = gc._loop(
        FakeClients(admin),  # type: ignore[arg-type]
        calls,  # type: ignore[arg-type]
        member,
        log.fetch,
        lambda p, r: printed.append((p, r.offset)),
        max_records=max_records,
        timeout_ms=timeout_ms,
    )
    assert count == len(printed)
    return printed, member


def test_starts_from_commits_or_the_reset_end_and_commits_each_record() -> None:
    calls = FakeCalls([[0, 1]], commits={0: 3})
    printed, _ = run(calls, Log(10), FakeAdmin({0: (0, 10), 1: (2, 10)}), max_records=4)
    assert printed == [(0, 3), (0, 4), (1, 2), (1, 3)]  # p1 has no commit: its log start
    assert calls.commits == {0: 5, 1: 4}
    assert list(calls.heartbeats[0].topics.names) == ["orders"]  # the join subscribes


def test_latest_reset_starts_at_the_log_end() -> None:
    calls = FakeCalls([[0]])
    printed, member = run(calls, Log(5), FakeAdmin({0: (0, 5)}), reset="latest", max_records=1)
    assert printed == []
    assert member.positions == {0: 5}


def test_revoked_partitions_are_no_longer_fetched_or_reported() -> None:
    calls = FakeCalls([[0, 1], [0]])
    log = Log(100, calls=calls)
    printed, member = run(calls, log, FakeAdmin({0: (0, 100), 1: (0, 100)}), max_records=12)
    assert log.fetched[0] == {0: 0, 1: 0}
    after_revoke = [f for f, n in zip(log.fetched, log.heartbeats_before, strict=True) if n >= 2]
    assert after_revoke
    assert all(set(f) == {0} for f in after_revoke)
    assert [p for p, _ in printed[-4:]] == [0, 0, 0, 0]
    later = [list(h.owned_partitions[0].partitions) for h in calls.heartbeats[2:]]
    assert later
    assert all(owned == [0] for owned in later)  # the revoked partition is reported released
    assert set(member.positions) == {0}


def test_a_refused_commit_drops_the_partition_and_heartbeats_at_once() -> None:
    calls = FakeCalls([[0, 1], [0]], refuse_commit={1})
    printed, _ = run(calls, Log(100), FakeAdmin({0: (0, 100), 1: (0, 100)}), max_records=5)
    assert printed.count((1, 0)) == 1  # printed, its commit refused, then never read again
    assert (1, 1) not in printed
    assert 1 not in calls.commits


def test_a_fenced_member_rejoins_with_epoch_0_and_reads_from_its_commits() -> None:
    calls = FakeCalls([[0]])
    log = Log(100)
    admin = FakeAdmin({0: (0, 100)})
    member = gc.Member(group="g", topic="orders", reset="earliest")
    gc._heartbeat(FakeClients(admin), calls, member)  # type: ignore[arg-type]
    member.positions[0] = 7  # printed up to 6 ...
    calls.commits[0] = 5  # ... but only 5 is committed
    calls.fence_next = True
    gc._heartbeat(FakeClients(admin), calls, member)  # type: ignore[arg-type]
    rejoin = calls.heartbeats[-1]
    assert rejoin.member_epoch == 0
    assert list(rejoin.topics.names) == ["orders"]
    assert member.positions == {0: 5}
    assert log.fetched == []


def test_out_of_range_positions_move_to_the_reset_end() -> None:
    calls = FakeCalls([[0]], commits={0: 1})  # offsets 0..3 were deleted by retention
    log = Log(10, out_of_range_once=True)
    printed, _ = run(calls, log, FakeAdmin({0: (4, 10)}), max_records=1)
    assert log.fetched[0] == {0: 1}
    assert printed == [(0, 4)]
    calls = FakeCalls([[0]], commits={0: 1})
    log = Log(10, out_of_range_once=True)
    printed, member = run(calls, log, FakeAdmin({0: (4, 10)}), reset="latest", timeout_ms=300)
    assert printed == []
    assert member.positions == {0: 10}


def test_out_of_range_with_every_position_in_range_is_an_error() -> None:
    calls = FakeCalls([[0]], commits={0: 5})
    with pytest.raises(OffsetOutOfRangeError):
        run(calls, Log(10, out_of_range_once=True), FakeAdmin({0: (0, 10)}))
