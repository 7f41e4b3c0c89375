"""Admin: a synchronous gRPC client for topics (TopicService), partition offsets and consumer
groups (GroupService).

Every call has a deadline (``timeout_s``). A ``grpc.RpcError`` never escapes: it becomes the
WeirError subclass the server sent (TopicNotFoundError, InvalidConfigError, ...), or
UnavailableError when the server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.sdk import _admin_groups as groups
from weir.sdk import _admin_shared as shared
from weir.sdk._admin_groups import (
    CommittedOffset,
    DeletedGroup,
    GroupDescription,
    GroupSummary,
    ResetResult,
    ResetTarget,
)
from weir.sdk._admin_shared import ListedOffset, OffsetSpec, TopicInfo
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._client import GrpcClient
from weir.sdk._retry import RetryPolicy
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class Admin(GrpcClient):
    """A sync client to create, describe, configure, grow and delete topics. Thread-safe."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(server, timeout_s=timeout_s, retry=retry)
        self._topics: Any = ts_grpc.TopicServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._log: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._groups: Any = gs_grpc.GroupServiceStub(self._channel)  # type: ignore[no-untyped-call]

    # ----- topics --------------------------------------------------------------------------

    def create_topic(
        self, name: str, partitions: int, config: Mapping[str, str] | None = None
    ) -> TopicInfo:
        """Create a topic with ``partitions`` partitions and config overrides (Kafka keys)."""
        request = shared.create_request(name, partitions, config)
        return shared.topic_from_proto(
            self._call(self._topics.CreateTopic, request, idempotent=False).topic
        )

    def describe_topic(self, name: str) -> TopicInfo:
        """A topic with every partition's log start and end offsets."""
        request = ts.GetTopicRequest(name=shared.topic_arg(name))
        return shared.topic_from_proto(self._call(self._topics.GetTopic, request).topic)

    def list_topics(self, include_internal: bool = False) -> list[TopicInfo]:
        """Every topic sorted by name, without partition details."""
        request = ts.ListTopicsRequest(include_internal=include_internal)
        reply = self._call(self._topics.ListTopics, request)
        return [shared.topic_from_proto(t) for t in reply.topics]

    def alter_config(
        self, name: str, set: Mapping[str, str] | None = None, remove: Iterable[str] = ()
    ) -> TopicInfo:
        """Set config overrides and remove others (so their defaults apply again)."""
        request = shared.alter_request(name, set, remove)
        return shared.topic_from_proto(self._call(self._topics.UpdateTopicConfig, request).topic)

    def add_partitions(self, name: str, total: int) -> TopicInfo:
        """Grow a topic to ``total`` partitions; partitions are never removed."""
        request = ts.CreatePartitionsRequest(
            name=shared.topic_arg(name), partition_count=shared.count_arg("total", total)
        )
        return shared.topic_from_proto(
            self._call(self._topics.CreatePartitions, request, idempotent=False).topic
        )

    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data."""
        self._call(
            self._topics.DeleteTopic,
            ts.DeleteTopicRequest(name=shared.topic_arg(name)),
            idempotent=False,
        )

    # ----- offsets -------------------------------------------------------------------------

    def list_offsets(self, topic: str, partition: int, at: OffsetSpec = "latest") -> ListedOffset:
        """The earliest or latest offset of a partition, or the first at or after a time."""
        request = shared.list_offsets_request(topic, partition, at)
        return shared.offset_from_proto(self._call(self._log.ListOffsets, request))

    # ----- consumer groups -----------------------------------------------------------------

    def list_groups(self) -> list[GroupSummary]:
        """Every consumer group, sorted by id."""
        reply = self._call(self._groups.ListGroups, gs.ListGroupsRequest())
        return [groups.summary_from_proto(g) for g in reply.groups]

    def describe_group(self, group: str) -> GroupDescription:
        """A group's members and assignments, and per partition its committed offset, end
        offset, lag in records and seconds, and owner. Unknown: GroupNotFoundError."""
        request = gs.DescribeGroupRequest(group_id=groups.group_arg(group))
        return groups.group_from_proto(self._call(self._groups.DescribeGroup, request).group)

    def committed_offsets(
        self,
        group: str,
        partitions: Mapping[str, Iterable[int]] | None = None,
        *,
        require_committed: bool = False,
    ) -> list[CommittedOffset]:
        """A group's committed offsets: for ``{topic: [partitions]}``, or every committed one.

        An entry whose ``offset`` is None has no commit; with ``require_committed`` that is a
        NoCommittedOffsetError instead (``auto.offset.reset=none``).
        """
        request = groups.committed_request(group, partitions, require_committed)
        reply = self._call(self._groups.FetchCommittedOffsets, request)
        return [groups.committed_from_proto(c) for c in reply.offsets]

    def reset_offsets(
        self,
        group: str,
        topic: str | None = None,
        *,
        to: ResetTarget,
        dry_run: bool = False,
        force: bool = False,
    ) -> ResetResult:
        """Move a group's committed offsets for one topic (or every topic it uses).

        Allowed only while the group has no members (GroupNotEmptyError), unless ``force``.
        With ``dry_run`` nothing is stored and the result previews each partition's target.
        """
        request = groups.reset_request(group, topic, to, dry_run, force)
        return groups.reset_from_proto(
            self._call(self._groups.ResetOffsets, request, idempotent=False)
        )

    def delete_group(self, group: str) -> DeletedGroup:
        """Delete a group without members, with its committed offsets."""
        request = gs.DeleteGroupRequest(group_id=groups.group_arg(group))
        reply = self._call(self._groups.DeleteGroup, request, idempotent=False)
        return DeletedGroup(reply.group_id, reply.deleted_offsets)


__all__ = ["Admin"]
