"""gRPC TopicService over the TopicManager."""

from __future__ import annotations

from typing import Any

from weir.broker.log.api import LogStore
from weir.broker.topics import Topic, TopicManager
from weir.core.rpc import rpc
from weir.core.visibility import visible_by
from weir.v1 import topic_pb2 as tp
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc

Ctx = Any


def _name(topic: Topic) -> str:
    return topic.name


class TopicServicer(ts_grpc.TopicServiceServicer):
    """TopicService: create, describe, list, configure, grow and delete topics."""

    def __init__(self, topics: TopicManager, log: LogStore) -> None:
        self.topics = topics
        self.log = log

    def _proto(self, topic: Topic, with_partitions: bool = True) -> tp.Topic:
        message = tp.Topic(
            name=topic.name,
            partition_count=topic.partition_count,
            config=dict(topic.overrides),
            internal=topic.internal,
        )
        if with_partitions:
            for p in range(topic.partition_count):
                bounds = self.log.offsets(topic.partition(p))
                message.partitions.add(
                    partition=p,
                    log_start_offset=bounds.log_start,
                    log_end_offset=bounds.log_end,
                )
        return message

    @rpc
    async def CreateTopic(self, request: ts.CreateTopicRequest, context: Ctx) -> Any:
        topic = await self.topics.create(
            request.name, request.partition_count, dict(request.config)
        )
        return ts.CreateTopicResponse(topic=self._proto(topic))

    @rpc
    async def GetTopic(self, request: ts.GetTopicRequest, context: Ctx) -> Any:
        return ts.GetTopicResponse(topic=self._proto(self.topics.get(request.name)))

    @rpc
    async def ListTopics(self, request: ts.ListTopicsRequest, context: Ctx) -> Any:
        found = visible_by("topic", self.topics.list(request.include_internal), _name)
        return ts.ListTopicsResponse(topics=[self._proto(t, False) for t in found])

    @rpc
    async def UpdateTopicConfig(self, request: ts.UpdateTopicConfigRequest, context: Ctx) -> Any:
        topic = await self.topics.update_config(
            request.name, dict(request.set), list(request.remove)
        )
        return ts.UpdateTopicConfigResponse(topic=self._proto(topic))

    @rpc
    async def CreatePartitions(self, request: ts.CreatePartitionsRequest, context: Ctx) -> Any:
        topic = await self.topics.add_partitions(request.name, request.partition_count)
        return ts.CreatePartitionsResponse(topic=self._proto(topic))

    @rpc
    async def DeleteTopic(self, request: ts.DeleteTopicRequest, context: Ctx) -> Any:
        await self.topics.delete(request.name)
        return ts.DeleteTopicResponse(name=request.name)
