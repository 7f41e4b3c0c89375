"""Admin: a synchronous gRPC client for topics (TopicService) and partition offsets.

Every call has a deadline (``timeout_s``). A ``grpc.RpcError`` never escapes: it becomes the
WeirError subclass the server sent (TopicNotFoundError, InvalidConfigError, ...), or
UnavailableError when the server cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from weir.sdk import _admin_shared as shared
from weir.sdk._admin_shared import ListedOffset, OffsetSpec, TopicInfo
from weir.sdk._client import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, GrpcClient
from weir.v1 import log_service_pb2_grpc as ls_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc


class Admin(GrpcClient):
    """A sync client to create, describe, configure, grow and delete topics. Thread-safe."""

    def __init__(
        self, server: str = DEFAULT_SERVER, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        super().__init__(server, timeout_s=timeout_s)
        self._topics: Any = ts_grpc.TopicServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._log: Any = ls_grpc.LogServiceStub(self._channel)  # type: ignore[no-untyped-call]

    # ----- topics --------------------------------------------------------------------------

    def create_topic(
        self, name: str, partitions: int, config: Mapping[str, str] | None = None
    ) -> TopicInfo:
        """Create a topic with ``partitions`` partitions and config overrides (Kafka keys)."""
        request = shared.create_request(name, partitions, config)
        return shared.topic_from_proto(self._call(self._topics.CreateTopic, request).topic)

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
        return shared.topic_from_proto(self._call(self._topics.CreatePartitions, request).topic)

    def delete_topic(self, name: str) -> None:
        """Delete a topic and all its data."""
        self._call(self._topics.DeleteTopic, ts.DeleteTopicRequest(name=shared.topic_arg(name)))

    # ----- offsets -------------------------------------------------------------------------

    def list_offsets(self, topic: str, partition: int, at: OffsetSpec = "latest") -> ListedOffset:
        """The earliest or latest offset of a partition, or the first at or after a time."""
        request = shared.list_offsets_request(topic, partition, at)
        return shared.offset_from_proto(self._call(self._log.ListOffsets, request))

    # ----- plumbing ------------------------------------------------------------------------


__all__ = ["Admin"]
