"""The Admin client's values and its request building and response parsing, free of I/O.

The sync Admin and the AsyncAdmin stay thin: each method asks a builder below (or, for
consumer groups, in ``_admin_groups``) for a ``Call`` (stub, method, checked request, reply
parser, whether it may run twice), sends it, and returns what the parser makes of the reply.
Bad arguments raise the same WeirError classes the server would, before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from weir.core.errors import InvalidArgumentError
from weir.sdk._call import Call
from weir.v1 import log_service_pb2 as ls
from weir.v1 import topic_pb2 as tp
from weir.v1 import topic_service_pb2 as ts

OffsetSpec = Literal["earliest", "latest"] | int | dt.datetime
"""Which offset ``Admin.list_offsets`` answers: ``"earliest"``, ``"latest"``, or the first
offset at or after a time (a timezone-aware datetime, or milliseconds since the epoch)."""

_NAME = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")


@dataclass(frozen=True, slots=True)
class PartitionInfo:
    """One partition's offset bounds."""

    partition: int
    """The partition number, from 0."""
    log_start_offset: int
    """The first offset still readable."""
    log_end_offset: int
    """The offset the next record will get (the high watermark)."""


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic: its partitions and the config overrides set on it."""

    name: str
    """The topic name."""
    partition_count: int
    """How many partitions it has."""
    config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Config overrides by Kafka key name; keys not listed have their defaults."""
    partitions: tuple[PartitionInfo, ...] = ()
    """Every partition with its offsets (empty in ``list_topics`` results)."""
    internal: bool = False
    """True for the broker's own topics, such as ``_schemas``."""


@dataclass(frozen=True, slots=True)
class ListedOffset:
    """The answer of ``Admin.list_offsets``."""

    offset: int | None
    """The offset; None when no record is at or after the asked time."""
    timestamp_ms: int
    """For time lookups, the timestamp of the record at ``offset``; else 0."""
    log_start_offset: int
    """The partition's log start offset."""
    log_end_offset: int
    """The partition's log end offset."""


# ----- requests ----------------------------------------------------------------------------


def topic_arg(name: str) -> str:
    """A legal topic name (Kafka's rule), checked before anything is sent."""
    if not isinstance(name, str) or not _NAME.match(name) or name in (".", ".."):
        raise InvalidArgumentError(
            f"topic name {name!r} is not valid: use 1 to 249 letters, digits, '.', '_' or '-'",
            metadata={"topic": str(name)},
        )
    return name


def count_arg(what: str, value: int) -> int:
    """A positive integer count (partitions)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{what} must be a positive integer, got {value!r}")
    return value


def partition_arg(value: int) -> int:
    """A partition number, from 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"partition must be an integer >= 0, got {value!r}")
    return value


def config_arg(config: Mapping[str, str] | None) -> dict[str, str]:
    """Config overrides as text, by Kafka key name."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise InvalidArgumentError("config must be a mapping of Kafka key names to values")
    out = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key:
            raise InvalidArgumentError(f"config key {key!r} is not valid: use a Kafka key name")
        out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def create_request(
    name: str, partitions: int, config: Mapping[str, str] | None
) -> ts.CreateTopicRequest:
    """CreateTopic for a name, a partition count and overrides."""
    return ts.CreateTopicRequest(
        name=topic_arg(name),
        partition_count=count_arg("partitions", partitions),
        config=config_arg(config),
    )


def alter_request(
    name: str, set_: Mapping[str, str] | None, remove: Iterable[str]
) -> ts.UpdateTopicConfigRequest:
    """UpdateTopicConfig: keys to set and keys to remove (not both for one key)."""
    to_set = config_arg(set_)
    if isinstance(remove, str):
        raise InvalidArgumentError("remove must be a list of key names, not one string")
    to_remove = list(remove)
    if not to_set and not to_remove:
        raise InvalidArgumentError("nothing to change: give keys to set or keys to remove")
    both = sorted(set(to_set) & set(to_remove))
    if both:
        raise InvalidArgumentError(f"cannot both set and remove {', '.join(both)}")
    return ts.UpdateTopicConfigRequest(name=topic_arg(name), set=to_set, remove=to_remove)


def epoch_ms(at: dt.datetime) -> int:
    """Milliseconds since the epoch of an aware datetime; a naive one is refused."""
    if at.tzinfo is None:
        raise InvalidArgumentError(
            f"datetime {at.isoformat()} has no timezone; pass an aware datetime "
            "(for example with tzinfo=datetime.UTC)"
        )
    return int(at.timestamp() * 1000)


def list_offsets_request(topic: str, partition: int, at: OffsetSpec) -> ls.ListOffsetsRequest:
    """ListOffsets for earliest, latest, or a time."""
    request = ls.ListOffsetsRequest(topic=topic_arg(topic), partition=partition_arg(partition))
    if at == "earliest":
        request.earliest = True
    elif at == "latest":
        request.latest = True
    elif isinstance(at, dt.datetime):
        request.timestamp_ms = epoch_ms(at)
    elif isinstance(at, int) and not isinstance(at, bool) and at >= 0:
        request.timestamp_ms = at
    else:
        raise InvalidArgumentError(
            f"offset spec {at!r} is not valid: use 'earliest', 'latest', an aware datetime "
            "or milliseconds since the epoch"
        )
    return request


# ----- responses ---------------------------------------------------------------------------


def topic_from_proto(message: tp.Topic) -> TopicInfo:
    """A Topic message as a value."""
    return TopicInfo(
        name=message.name,
        partition_count=message.partition_count,
        config=MappingProxyType(dict(sorted(message.config.items()))),
        partitions=tuple(
            PartitionInfo(p.partition, p.log_start_offset, p.log_end_offset)
            for p in message.partitions
        ),
        internal=message.internal,
    )


def offset_from_proto(message: ls.ListOffsetsResponse) -> ListedOffset:
    """A ListOffsets reply as a value."""
    return ListedOffset(
        offset=message.offset if message.HasField("offset") else None,
        timestamp_ms=message.timestamp_ms,
        log_start_offset=message.log_start_offset,
        log_end_offset=message.log_end_offset,
    )


# ----- calls: one builder per Admin method -------------------------------------------------

TOPICS = "topics"
"""The TopicService stub's name in the clients' stub table."""
LOG = "log"
"""The LogService stub's name in the clients' stub table."""


def _topic_reply(reply: Any) -> TopicInfo:
    return topic_from_proto(reply.topic)


def create_topic(name: str, partitions: int, config: Mapping[str, str] | None) -> Call[TopicInfo]:
    """CreateTopic; never retried (a second run would fail with TopicExistsError)."""
    request = create_request(name, partitions, config)
    return Call(TOPICS, "CreateTopic", request, _topic_reply, idempotent=False)


def describe_topic(name: str) -> Call[TopicInfo]:
    """GetTopic: the topic with its partitions' offsets."""
    return Call(TOPICS, "GetTopic", ts.GetTopicRequest(name=topic_arg(name)), _topic_reply)


def describe_config(name: str) -> Call[Mapping[str, str]]:
    """GetTopic, answering only the topic's config overrides."""
    request = ts.GetTopicRequest(name=topic_arg(name))
    return Call(TOPICS, "GetTopic", request, lambda reply: _topic_reply(reply).config)


def list_topics(include_internal: bool) -> Call[list[TopicInfo]]:
    """ListTopics, sorted by name."""
    request = ts.ListTopicsRequest(include_internal=include_internal)
    return Call(
        TOPICS, "ListTopics", request, lambda reply: [topic_from_proto(t) for t in reply.topics]
    )


def alter_config(
    name: str, set_: Mapping[str, str] | None, remove: Iterable[str]
) -> Call[TopicInfo]:
    """UpdateTopicConfig (setting the same values twice is harmless, so it may retry)."""
    return Call(TOPICS, "UpdateTopicConfig", alter_request(name, set_, remove), _topic_reply)


def add_partitions(name: str, total: int) -> Call[TopicInfo]:
    """CreatePartitions; never retried (a second run would be refused)."""
    request = ts.CreatePartitionsRequest(
        name=topic_arg(name), partition_count=count_arg("total", total)
    )
    return Call(TOPICS, "CreatePartitions", request, _topic_reply, idempotent=False)


def delete_topic(name: str) -> Call[None]:
    """DeleteTopic; never retried (a second run would fail with TopicNotFoundError)."""
    request = ts.DeleteTopicRequest(name=topic_arg(name))
    return Call(TOPICS, "DeleteTopic", request, lambda reply: None, idempotent=False)


def list_offsets(topic: str, partition: int, at: OffsetSpec) -> Call[ListedOffset]:
    """ListOffsets for earliest, latest or a time."""
    return Call(LOG, "ListOffsets", list_offsets_request(topic, partition, at), offset_from_proto)


__all__ = ["ListedOffset", "OffsetSpec", "PartitionInfo", "TopicInfo"]
