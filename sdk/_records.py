"""The values producers and consumers exchange with applications: what a record is, where it
landed, and the context a (de)serializer sees. Plain data, shared by sync and asyncio clients."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

Headers = Sequence[tuple[str, bytes]]
"""Record headers as (key, value) pairs, in order; keys may repeat, as in Kafka."""


class TopicPartition(NamedTuple):
    """One partition of one topic."""

    topic: str
    """The topic name."""
    partition: int
    """The partition number, from 0."""


class RecordMetadata(NamedTuple):
    """Where an acknowledged record was appended."""

    topic: str
    """The topic name."""
    partition: int
    """The partition it landed in."""
    offset: int
    """Its offset in that partition."""
    timestamp: int
    """Its timestamp in ms since the epoch (the producer's, or the broker's append time)."""


class Message(NamedTuple):
    """One consumed record, with its key and value deserialized."""

    topic: str
    """The topic name."""
    partition: int
    """The partition it was read from."""
    offset: int
    """Its offset in that partition."""
    timestamp: int
    """Its timestamp in ms since the epoch."""
    key: Any
    """The key: deserialized by the key deserializer, else the raw bytes (None when absent)."""
    value: Any
    """The value: deserialized by the value deserializer, else the raw bytes (None: tombstone)."""
    headers: tuple[tuple[str, bytes], ...]
    """The headers as (key, value) pairs, in order."""
    schema_id: int | None
    """The value's registered schema id from its framing, or None for an unframed value."""
    key_schema_id: int | None = None
    """The key's registered schema id from its framing, or None for an unframed key."""


class MessageField(enum.StrEnum):
    """Which part of a record a (de)serializer handles."""

    KEY = "key"
    """The record key (subject ``<topic>-key`` under the topic strategy)."""
    VALUE = "value"
    """The record value (subject ``<topic>-value`` under the topic strategy)."""


@dataclass(frozen=True, slots=True)
class SerializationContext:
    """What a (de)serializer knows about the record it handles."""

    topic: str
    """The topic the record goes to or came from."""
    field: MessageField
    """Key or value."""
    headers: Headers = ()
    """The record's headers."""


class Serializer(Protocol):
    """Turns an application object into record bytes: ``serializer(obj, ctx) -> bytes``."""

    def __call__(self, obj: Any, ctx: SerializationContext) -> bytes | None:
        """The bytes for ``obj`` (None only for a None key or a tombstone)."""
        ...


class Deserializer(Protocol):
    """Turns record bytes back into an application object: ``deserializer(data, ctx)``."""

    def __call__(self, data: bytes | None, ctx: SerializationContext) -> Any:
        """The object for ``data`` (None stays None)."""
        ...


class AsyncSerializer(Protocol):
    """A serializer with an awaitable form, used by AsyncProducer when present."""

    def serialize_async(self, obj: Any, ctx: SerializationContext) -> Awaitable[bytes | None]:
        """The bytes for ``obj``, looking schemas up without blocking the event loop."""
        ...


class AsyncDeserializer(Protocol):
    """A deserializer with an awaitable form, used by AsyncConsumer when present."""

    def deserialize_async(self, data: bytes | None, ctx: SerializationContext) -> Awaitable[Any]:
        """The object for ``data``, looking schemas up without blocking the event loop."""
        ...


__all__ = [
    "AsyncDeserializer",
    "AsyncSerializer",
    "Deserializer",
    "Headers",
    "Message",
    "MessageField",
    "RecordMetadata",
    "SerializationContext",
    "Serializer",
    "TopicPartition",
]
