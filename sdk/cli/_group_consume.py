"""`weir consume TOPIC --group GROUP`: consume as a member of a consumer group.

The member joins with a Heartbeat subscribed to TOPIC and fetches only the partitions the
coordinator assigns it, each from the group's committed offset (or, without a commit, from
the log start or end as ``--reset earliest|latest`` says). It heartbeats at the interval the
server returns; a partition missing from a reply is revoked and no longer fetched, and the
next heartbeat reports it released. Every printed record is committed at once (one
CommitOffsets per record, fenced by member id and epoch), so a restart continues after the
last printed record. A fenced member rejoins with epoch 0 and re-reads its commits. A
position that retention has deleted moves to the ``--reset`` end, as Kafka's
auto.offset.reset does for out-of-range offsets. On
exit -- ``--max`` reached, the idle timeout, Ctrl-C, SIGTERM or a closed stdout -- it leaves
the group so its partitions move at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from weir.core.errors import (
    FencedMemberEpochError,
    OffsetOutOfRangeError,
    PartitionNotAssignedError,
    StaleMemberEpochError,
    UnknownMemberIdError,
    WeirError,
)
from weir.sdk._client import GrpcClient
from weir.sdk.cli._broker import Clients
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_pb2 as lp

POLL_MS = 1000
REJOIN = (FencedMemberEpochError, UnknownMemberIdError)
"""Heartbeat errors after which the member joins again with epoch 0."""
RECHECK = (StaleMemberEpochError, PartitionNotAssignedError)
"""Commit errors that mean "your assignment moved": heartbeat now, do not fail."""

FetchFn = Callable[[dict[int, int], int], list[tuple[int, list[lp.StoredRecord]]]]
"""Fetch from {partition: offset}, waiting up to the given ms; records per partition."""
PrintFn = Callable[[int, lp.StoredRecord], None]
"""Print one record of a partition."""


class GroupCalls(GrpcClient):
    """Heartbeat, CommitOffsets, FetchCommittedOffsets and LeaveGroup over one channel."""

    def __init__(self, server: str, *, timeout_s: float) -> None:
        super().__init__(server, timeout_s=timeout_s)
        self._stub: Any = gs_grpc.GroupServiceStub(self._channel)  # type: ignore[no-untyped-call]

    def heartbeat(self, request: gs.HeartbeatRequest) -> gs.HeartbeatResponse:
        """One Heartbeat (a join when the member id is empty)."""
        reply: gs.HeartbeatResponse = self._call(self._stub.Heartbeat, request)
        return reply

    def commit(self, request: gs.CommitOffsetsRequest) -> None:
        """One CommitOffsets."""
        self._call(self._stub.CommitOffsets, request)

    def committed(
        self, request: gs.FetchCommittedOffsetsRequest
    ) -> gs.FetchCommittedOffsetsResponse:
        """One FetchCommittedOffsets."""
        reply: gs.FetchCommittedOffsetsResponse = self._call(
            self._stub.FetchCommittedOffsets, request
        )
        return reply

    def leave(self, group: str, member_id: str) -> None:
        """One LeaveGroup."""
        self._call(self._stub.LeaveGroup, gs.LeaveGroupRequest(group_id=group, member_id=member_id))


@dataclass
class Member:
    """One group member's identity, assignment and read positions for a single topic."""

    group: str
    """The group id."""
    topic: str
    """The one subscribed topic."""
    reset: str
    """``earliest`` or ``latest``: where to start a partition without a commit."""
    member_id: str = ""
    """The id from the coordinator; empty before joining."""
    epoch: int = 0
    """The member epoch from the last heartbeat reply; 0 to (re)join."""
    interval_ms: int = 3000
    """The heartbeat interval the server asked for."""
    next_heartbeat: float = 0.0
    """When (time.monotonic) to heartbeat next."""
    positions: dict[int, int] = field(default_factory=dict)
    """The next offset to read per owned partition."""

    def heartbeat_request(self) -> gs.HeartbeatRequest:
        """A join (epoch 0, with the subscription) or a heartbeat naming owned partitions."""
        request = gs.HeartbeatRequest(
            group_id=self.group, member_id=self.member_id, member_epoch=self.epoch
        )
        if self.epoch == 0:
            request.topics.CopyFrom(gp.TopicNames(names=[self.topic]))
        if self.positions:
            request.owned_partitions.add(topic=self.topic, partitions=sorted(self.positions))
        return request

    def commit_request(self, partition: int, offset: int) -> gs.CommitOffsetsRequest:
        """Commit ``offset`` (the next to read) for a partition, fenced by id and epoch."""
        request = gs.CommitOffsetsRequest(
            group_id=self.group,
            member=gs.MemberIdentity(member_id=self.member_id, member_epoch=self.epoch),
        )
        request.offsets.add(topic=self.topic, partition=partition, offset=offset)
        return request


def consume_in_group(
    clients: Clients,
    member: Member,
    fetch: FetchFn,
    print_record: PrintFn,
    *,
    max_records: int | None,
    timeout_ms: int | None,
) -> int:
    """Join, then fetch, print and commit until --max or the idle timeout; always leaves."""
    calls = GroupCalls(clients.server, timeout_s=clients.admin.timeout_s)
    previous = _exit_on_sigterm()
    try:
        return _loop(
            clients,
            calls,
            member,
            fetch,
            print_record,
            max_records=max_records,
            timeout_ms=timeout_ms,
        )
    finally:
        if member.member_id:
            with contextlib.suppress(WeirError):  # the session timeout removes it anyway
                calls.leave(member.group, member.member_id)
        calls.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm() -> Any:
    """Make SIGTERM raise SystemExit(143) so the member still leaves; the old handler."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, on_term)


def _loop(
    clients: Clients,
    calls: GroupCalls,
    member: Member,
    fetch: FetchFn,
    print_record: PrintFn,
    *,
    max_records: int | None,
    timeout_ms: int | None,
) -> int:
    count = 0
    idle_since = time.monotonic()
    while max_records is None or count < max_records:
        now = time.monotonic()
        idle_ms = (now - idle_since) * 1000
        if timeout_ms is not None and idle_ms >= timeout_ms:
            break
        if now >= member.next_heartbeat:
            _heartbeat(clients, calls, member)
        wait = min(POLL_MS, max(0, int((member.next_heartbeat - time.monotonic()) * 1000)))
        if timeout_ms is not None:
            wait = max(0, min(wait, int(timeout_ms - idle_ms)))
        if not member.positions:  # idle member: nothing assigned (yet)
            time.sleep(wait / 1000)
            continue
        try:
            batches = fetch(dict(member.positions), wait)
        except OffsetOutOfRangeError:  # retention removed a committed position: --reset
            if not _reposition(clients, member):
                raise
            continue
        got = 0
        for partition, records in batches:
            for record in records:
                if max_records is not None and count >= max_records:
                    break
                if partition not in member.positions:  # revoked while printing this batch
                    break
                print_record(partition, record)
                count += 1
                got += 1
                member.positions[partition] = record.offset + 1
                try:
                    calls.commit(member.commit_request(partition, record.offset + 1))
                except RECHECK:  # the partition moved: it will be re-read by its new owner
                    member.next_heartbeat = 0.0
                    member.positions.pop(partition, None)
                    break
        if got:
            idle_since = time.monotonic()
    return count


def _heartbeat(clients: Clients, calls: GroupCalls, member: Member) -> None:
    """Heartbeat (or join), then apply the assignment: drop revoked, start added partitions."""
    try:
        reply = calls.heartbeat(member.heartbeat_request())
    except REJOIN:
        member.epoch = 0
        member.positions.clear()
        reply = calls.heartbeat(member.heartbeat_request())
    member.member_id = reply.member_id
    member.epoch = reply.member_epoch
    member.interval_ms = max(reply.heartbeat_interval_ms, 1)
    assigned = {p for tps in reply.assignment if tps.topic == member.topic for p in tps.partitions}
    revoked = set(member.positions) - assigned
    for partition in revoked:
        del member.positions[partition]
    added = sorted(assigned - set(member.positions))
    if added:
        member.positions.update(_starts(clients, calls, member, added))
    soon = reply.reconciling or bool(revoked)
    delay_ms = min(member.interval_ms, 200) if soon else member.interval_ms
    member.next_heartbeat = time.monotonic() + delay_ms / 1000


def _reposition(clients: Clients, member: Member) -> bool:
    """Move positions outside their partition's log to the --reset end; False if none were."""
    bounds = {p.partition: p for p in clients.admin.describe_topic(member.topic).partitions}
    moved = False
    for partition, offset in list(member.positions.items()):
        info = bounds.get(partition)
        if info is None or info.log_start_offset <= offset <= info.log_end_offset:
            continue
        earliest = member.reset == "earliest"
        member.positions[partition] = info.log_start_offset if earliest else info.log_end_offset
        moved = True
    return moved


def _starts(
    clients: Clients, calls: GroupCalls, member: Member, partitions: list[int]
) -> dict[int, int]:
    """Where to read each newly assigned partition: its commit, else the --reset end."""
    request = gs.FetchCommittedOffsetsRequest(group_id=member.group)
    request.partitions.add(topic=member.topic, partitions=partitions)
    committed = {
        c.partition: c.offset
        for c in calls.committed(request).offsets
        if c.topic == member.topic and c.HasField("offset")
    }
    missing = [p for p in partitions if p not in committed]
    if missing:
        bounds = {p.partition: p for p in clients.admin.describe_topic(member.topic).partitions}
        for p in missing:
            info = bounds[p]
            committed[p] = (
                info.log_start_offset if member.reset == "earliest" else info.log_end_offset
            )
    return committed


__all__: list[str] = []
