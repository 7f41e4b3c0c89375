"""Server-wide limits from ServerConfig: gRPC transport options and topic/partition counts.

What each transport limit does, as grpc core enforces it:

* ``max_connections`` -> ``grpc.max_allowed_incoming_connections``: the listener stops
  accepting connections beyond it (a client's channel stays in CONNECTING/TRANSIENT_FAILURE
  and its calls end UNAVAILABLE or DEADLINE_EXCEEDED); open connections are not affected.
* ``max_concurrent_streams`` -> ``grpc.max_concurrent_streams``: HTTP/2 SETTINGS sent to each
  client; calls beyond it on one connection wait in the client until a stream frees up.
* ``max_concurrent_rpcs`` -> ``grpc.aio.server(maximum_concurrent_rpcs=...)``: a call that
  arrives while that many are in progress is refused at once with RESOURCE_EXHAUSTED.
* ``keepalive_time_ms`` / ``keepalive_timeout_ms``: the server pings each connection that
  long after its last activity and closes it when the ping goes unanswered, so a dead client
  (a crashed host, a cut network) frees its streams and long-polls.
* ``max_request_bytes`` also bounds the gRPC message size (plus framing headroom).

``max_topics`` and ``max_partitions`` count every topic and partition on the server,
internal ones included; creating or growing past them fails with FailedPreconditionError
whose metadata names the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from weir.broker.log.api import LogStore
from weir.broker.topics import Topic, TopicManager
from weir.core.config import ServerConfig
from weir.core.errors import FailedPreconditionError

MESSAGE_HEADROOM = 16 << 20
"""Bytes a gRPC message may carry besides the records' own bytes."""


def grpc_options(config: ServerConfig) -> list[tuple[str, Any]]:
    """Channel arguments for grpc.aio.server from the config's limits."""
    message = config.max_request_bytes + MESSAGE_HEADROOM
    return [
        ("grpc.max_receive_message_length", message),
        ("grpc.max_send_message_length", message),
        ("grpc.max_allowed_incoming_connections", config.max_connections),
        ("grpc.max_concurrent_streams", config.max_concurrent_streams),
        ("grpc.keepalive_time_ms", config.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", config.keepalive_timeout_ms),
        # grpc core waits for a ping's ack this long (default 1 min), whatever keepalive says
        ("grpc.http2.ping_timeout_ms", config.keepalive_timeout_ms),
        # SDK clients ping every 30 s even when idle (sdk/_channel.py) so a dead connection
        # is found; allow that instead of answering GOAWAY too_many_pings.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_ping_strikes", 0),
    ]


class LimitedTopicManager(TopicManager):
    """A TopicManager that refuses to go over max_topics or max_partitions."""

    def __init__(self, root: Path, log: LogStore, *, max_topics: int, max_partitions: int) -> None:
        super().__init__(root, log)
        self.max_topics = max_topics
        """Limit: topics on the server."""
        self.max_partitions = max_partitions
        """Limit: partitions on the server."""

    async def create(self, name: str, partitions: int, overrides: dict[str, str]) -> Topic:
        """Create a topic, unless that would go over a limit."""
        topics = self.list(include_internal=True)
        if self.find(name) is None and len(topics) >= self.max_topics:
            raise FailedPreconditionError(
                f"cannot create topic '{name}': the server has {len(topics)} topics, the limit "
                f"max_topics={self.max_topics}; delete unused topics or raise the limit",
                metadata={"limit": "max_topics", "topic": name},
            )
        self._check_partitions(name, max(partitions, 0))
        return await super().create(name, partitions, overrides)

    async def add_partitions(self, name: str, count: int) -> Topic:
        """Grow a topic, unless that would go over max_partitions."""
        self._check_partitions(name, count - self.get(name).partition_count)
        return await super().add_partitions(name, count)

    def _check_partitions(self, name: str, more: int) -> None:
        total = sum(t.partition_count for t in self.list(include_internal=True))
        if more > 0 and total + more > self.max_partitions:
            raise FailedPreconditionError(
                f"topic '{name}' would add {more} partitions to the server's {total}, over "
                f"the limit max_partitions={self.max_partitions}",
                metadata={"limit": "max_partitions", "topic": name},
            )
