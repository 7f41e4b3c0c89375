"""gRPC GroupService over the GroupManager: protobuf in, frozen dataclasses out, and back."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from weir.broker.groups.model import (
    Assignor,
    CommittedOffset,
    GroupId,
    GroupState,
    GroupView,
    HeartbeatInput,
    InstanceId,
    MemberId,
    MemberState,
    MemberView,
    Subscription,
    regex_subscription,
)
from weir.broker.groups.positions import PartitionLag, ResetKind, ResetSpec
from weir.broker.groups.service import GroupManager, OffsetCommitInput
from weir.broker.log.api import PartitionId, TopicName, TopicPartition
from weir.core.errors import InvalidArgumentError
from weir.core.rpc import rpc
from weir.core.visibility import VISIBLE, visible_by
from weir.v1 import group_pb2 as gp
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc

Ctx = Any

_ASSIGNORS = {gp.ASSIGNOR_UNIFORM: Assignor.UNIFORM, gp.ASSIGNOR_RANGE: Assignor.RANGE}
_ASSIGNORS_OUT = {v: k for k, v in _ASSIGNORS.items()}
_GROUP_STATES = {
    GroupState.EMPTY: gp.GROUP_STATE_EMPTY,
    GroupState.RECONCILING: gp.GROUP_STATE_RECONCILING,
    GroupState.STABLE: gp.GROUP_STATE_STABLE,
}
_MEMBER_STATES = {
    MemberState.STABLE: gp.MEMBER_STATE_STABLE,
    MemberState.UNREVOKED_PARTITIONS: gp.MEMBER_STATE_UNREVOKED_PARTITIONS,
    MemberState.UNRELEASED_PARTITIONS: gp.MEMBER_STATE_UNRELEASED_PARTITIONS,
}
_RESET_KINDS = {
    "earliest": ResetKind.EARLIEST,
    "latest": ResetKind.LATEST,
    "offset": ResetKind.OFFSET,
    "timestamp_ms": ResetKind.TIMESTAMP,
    "duration_ms": ResetKind.DURATION,
}


def _tp(topic: str, partition: int) -> TopicPartition:
    if not topic:
        raise InvalidArgumentError("a partition needs a topic name")
    if partition < 0:
        raise InvalidArgumentError(f"partition numbers start at 0, got {partition} for '{topic}'")
    return TopicPartition(TopicName(topic), PartitionId(partition))


def _tps_in(items: Iterable[gp.TopicPartitions]) -> list[TopicPartition]:
    return [_tp(item.topic, p) for item in items for p in item.partitions]


def _tps_out(tps: Iterable[TopicPartition]) -> list[gp.TopicPartitions]:
    by_topic: dict[str, list[int]] = {}
    for tp in tps:
        by_topic.setdefault(tp.topic, []).append(tp.partition)
    return [
        gp.TopicPartitions(topic=t, partitions=sorted(ps)) for t, ps in sorted(by_topic.items())
    ]


def _subscription(request: gs.HeartbeatRequest) -> Subscription | None:
    which = request.WhichOneof("subscription")
    if which == "topics":
        names = frozenset(request.topics.names)
        if not names or "" in names:
            raise InvalidArgumentError("a topic-name subscription needs non-empty topic names")
        return Subscription(topics=names)
    if which == "topic_regex":
        return regex_subscription(request.topic_regex, _may_describe())
    return None


def _may_describe() -> Callable[[str], bool] | None:
    """The caller's topic visibility (ACLs on), kept for its regex subscription."""
    keep = VISIBLE.get()
    if keep is None:
        return None
    return lambda topic: bool(keep("topic", [topic]))


def _assignor(request: gs.HeartbeatRequest) -> Assignor | None:
    if not request.HasField("assignor"):
        return None
    found = _ASSIGNORS.get(request.assignor)
    if found is None:
        raise InvalidArgumentError(
            "assignor must be ASSIGNOR_UNIFORM or ASSIGNOR_RANGE (or unset to keep the group's)"
        )
    return found


def _committed(tp: TopicPartition, c: CommittedOffset | None) -> gp.CommittedOffset:
    message = gp.CommittedOffset(topic=tp.topic, partition=tp.partition)
    if c is not None:
        message.offset = c.offset
        message.metadata = c.metadata
        message.commit_time_ms = c.commit_time_ms
        message.member_epoch = c.member_epoch
    return message


def _lag(lag: PartitionLag, view: GroupView) -> gp.PartitionLag:
    message = gp.PartitionLag(
        topic=lag.tp.topic,
        partition=lag.tp.partition,
        log_start_offset=lag.log_start,
        log_end_offset=lag.log_end,
        lag_records=lag.lag_records,
        lag_ms=lag.lag_ms,
    )
    if lag.committed is not None:
        message.committed_offset = lag.committed.offset
        message.metadata = lag.committed.metadata
    owner = view.owner(lag.tp)
    if owner is not None:
        message.owner_member_id = owner.member_id
        if owner.instance_id is not None:
            message.owner_instance_id = owner.instance_id
    return message


def _member(m: MemberView) -> gp.GroupMember:
    message = gp.GroupMember(
        member_id=m.member_id,
        member_epoch=m.member_epoch,
        subscribed_topics=sorted(m.subscription.topics),
        subscribed_topic_regex=m.subscription.regex or "",
        assignment=_tps_out(m.assignment),
        target_assignment=_tps_out(m.target),
        state=_MEMBER_STATES[m.state],
        session_timeout_ms=m.session_timeout_ms,
        last_heartbeat_ms=m.last_heartbeat_ms,
    )
    if m.instance_id is not None:
        message.instance_id = m.instance_id
    return message


def _group_id(view: GroupView) -> str:
    return view.group_id


class GroupServicer(gs_grpc.GroupServiceServicer):
    """GroupService: KIP-848 heartbeats, commits, lag, resets and deletes."""

    def __init__(self, groups: GroupManager) -> None:
        self.groups = groups

    @rpc
    async def Heartbeat(self, request: gs.HeartbeatRequest, context: Ctx) -> Any:
        reply = await self.groups.heartbeat(
            HeartbeatInput(
                group_id=GroupId(request.group_id),
                member_id=MemberId(request.member_id),
                member_epoch=request.member_epoch,
                owned=frozenset(_tps_in(request.owned_partitions)),
                instance_id=(
                    InstanceId(request.instance_id) if request.HasField("instance_id") else None
                ),
                subscription=_subscription(request),
                session_timeout_ms=(
                    request.session_timeout_ms if request.HasField("session_timeout_ms") else None
                ),
                rebalance_timeout_ms=(
                    request.rebalance_timeout_ms
                    if request.HasField("rebalance_timeout_ms")
                    else None
                ),
                assignor=_assignor(request),
            )
        )
        return gs.HeartbeatResponse(
            member_id=reply.member_id,
            member_epoch=reply.member_epoch,
            heartbeat_interval_ms=reply.heartbeat_interval_ms,
            assignment=_tps_out(reply.assignment),
            reconciling=reply.state is not MemberState.STABLE,
        )

    @rpc
    async def LeaveGroup(self, request: gs.LeaveGroupRequest, context: Ctx) -> Any:
        await self.groups.leave(request.group_id, request.member_id, request.temporary)
        return gs.LeaveGroupResponse(member_id=request.member_id)

    @rpc
    async def CommitOffsets(self, request: gs.CommitOffsetsRequest, context: Ctx) -> Any:
        which = request.WhichOneof("committer")
        if which is None or (which == "standalone" and not request.standalone):
            raise InvalidArgumentError(
                "say who commits: member (member_id and member_epoch) or standalone=true"
            )
        member = None
        if which == "member":
            if not request.member.member_id:
                raise InvalidArgumentError("member.member_id is empty; use standalone=true instead")
            member = (request.member.member_id, request.member.member_epoch)
        commits = [
            OffsetCommitInput(_tp(c.topic, c.partition), c.offset, c.metadata)
            for c in request.offsets
        ]
        stored = await self.groups.commit(request.group_id, member, commits)
        return gs.CommitOffsetsResponse(offsets=[_committed(tp, c) for tp, c in stored])

    @rpc
    async def FetchCommittedOffsets(
        self, request: gs.FetchCommittedOffsetsRequest, context: Ctx
    ) -> Any:
        tps = _tps_in(request.partitions) if request.partitions else None
        found = self.groups.fetch(request.group_id, tps, request.require_committed)
        return gs.FetchCommittedOffsetsResponse(offsets=[_committed(tp, c) for tp, c in found])

    @rpc
    async def ListGroups(self, request: gs.ListGroupsRequest, context: Ctx) -> Any:
        await self.groups.tick()
        return gs.ListGroupsResponse(
            groups=[
                gp.GroupSummary(
                    group_id=v.group_id,
                    state=_GROUP_STATES[v.state],
                    member_count=len(v.members),
                    assignor=_ASSIGNORS_OUT[v.assignor],
                    group_epoch=v.group_epoch,
                )
                for v in visible_by("group", self.groups.list_groups(), _group_id)
            ]
        )

    @rpc
    async def DescribeGroup(self, request: gs.DescribeGroupRequest, context: Ctx) -> Any:
        found = await self.groups.describe(request.group_id)
        view = found.view
        partitions = [_lag(lag, view) for lag in found.partitions]
        group = gp.Group(
            group_id=view.group_id,
            state=_GROUP_STATES[view.state],
            group_epoch=view.group_epoch,
            assignment_epoch=view.assignment_epoch,
            assignor=_ASSIGNORS_OUT[view.assignor],
            members=[_member(m) for m in view.members],
            partitions=partitions,
            total_lag_records=sum(p.lag_records for p in partitions),
            max_lag_ms=max((p.lag_ms for p in partitions), default=0),
        )
        return gs.DescribeGroupResponse(group=group)

    @rpc
    async def ResetOffsets(self, request: gs.ResetOffsetsRequest, context: Ctx) -> Any:
        scope = request.WhichOneof("scope")
        if scope is None or (scope == "all_topics" and not request.all_topics):
            raise InvalidArgumentError("say which partitions to reset: topic or all_topics=true")
        if scope == "topic" and not request.topic:
            raise InvalidArgumentError("topic is empty; name a topic or use all_topics=true")
        target = request.WhichOneof("target")
        if target is None or (target in ("earliest", "latest") and not getattr(request, target)):
            raise InvalidArgumentError(
                "say where to reset: earliest, latest, offset, timestamp_ms or duration_ms"
            )
        value = 0 if target in ("earliest", "latest") else int(getattr(request, target))
        outcomes = await self.groups.reset(
            request.group_id,
            request.topic if scope == "topic" else None,
            ResetSpec(_RESET_KINDS[target], value),
            request.force,
            request.dry_run,
        )
        resets = []
        for o in outcomes:
            message = gs.OffsetReset(
                topic=o.tp.topic,
                partition=o.tp.partition,
                new_offset=o.target,
                redelivered_records=o.redelivered,
                skipped_records=o.skipped,
                records_to_read=o.to_read,
            )
            if o.previous is not None:
                message.previous_offset = o.previous
            resets.append(message)
        return gs.ResetOffsetsResponse(resets=resets, applied=not request.dry_run)

    @rpc
    async def DeleteGroup(self, request: gs.DeleteGroupRequest, context: Ctx) -> Any:
        deleted = await self.groups.delete(request.group_id)
        return gs.DeleteGroupResponse(group_id=request.group_id, deleted_offsets=deleted)
