"""What ``produce()`` does with one record on the caller's side, free of I/O.

Shared by Producer and AsyncProducer: argument checks, serialization into bytes (the async
shell awaits ``serialize_async`` itself), and the record's size and timestamp.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from weir.core.errors import InvalidArgumentError, RecordTooLargeError, WeirError
from weir.sdk._admin_shared import topic_arg
from weir.sdk._produce_batches import Row
from weir.sdk._produce_config import RECORD_OVERHEAD, ProducerConfig
from weir.sdk._records import MessageField, SerializationContext, Serializer


def plain_bytes(obj: object, field: MessageField, topic: str) -> bytes | None:
    """Bytes for a key or value sent without a serializer: bytes, str (UTF-8) or None."""
    if obj is None or isinstance(obj, bytes):
        return obj
    if isinstance(obj, str):
        return obj.encode()
    if isinstance(obj, bytearray | memoryview):
        return bytes(obj)
    raise InvalidArgumentError(
        f"the {field} for topic '{topic}' is a {type(obj).__name__}, which cannot be sent as "
        f"is: give bytes, str or None, or create the producer with {field}_serializer=... "
        "(for example AvroSerializer(registry, schema_str))",
        metadata={"topic": topic, "field": str(field)},
    )


def check_serialized(data: object, field: MessageField, topic: str) -> bytes | None:
    """What a serializer returned, checked to be bytes or None."""
    if data is None or isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise InvalidArgumentError(
        f"the {field} serializer for topic '{topic}' returned a {type(data).__name__}; "
        "a serializer must return bytes or None"
    )


def run_serializer(
    serializer: Serializer | None, obj: object, args: RecordArgs, field: MessageField
) -> Any:
    """Call a sync serializer; its failure becomes an InvalidArgumentError naming the field."""
    if serializer is None:
        return plain_bytes(obj, field, args.topic)
    ctx = args.context(field)
    try:
        return serializer(obj, ctx)
    except WeirError:
        raise
    except Exception as e:
        raise serializer_error(e, ctx) from e


def serializer_error(error: Exception, ctx: SerializationContext) -> InvalidArgumentError:
    """The error for a serializer that raised something other than a WeirError."""
    return InvalidArgumentError(
        f"the {ctx.field} serializer for topic '{ctx.topic}' failed: "
        f"{type(error).__name__}: {error}",
        metadata={"topic": ctx.topic, "field": str(ctx.field)},
    )


def header_pairs(headers: object) -> tuple[tuple[str, bytes], ...]:
    """Headers as (str, bytes) pairs from a mapping or a sequence of pairs (str values: UTF-8)."""
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, bytes]] = []
    try:
        for name, raw in items:  # type: ignore[attr-defined]
            if not isinstance(name, str):
                raise TypeError
            if raw is None:
                value = b""
            elif isinstance(raw, str):
                value = raw.encode()
            elif isinstance(raw, bytes | bytearray | memoryview):
                value = bytes(raw)
            else:
                raise TypeError
            out.append((name, value))
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            "headers must be a dict or a list of (name, value) pairs with str names and "
            f"bytes, str or None values, got {headers!r}"
        ) from None
    return tuple(out)


def timestamp_arg(timestamp: object) -> int:
    """A record timestamp in ms: the given int, or now when None (the CreateTime Kafka sets)."""
    if timestamp is None:
        return time.time_ns() // 1_000_000
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidArgumentError(
            "timestamp must be milliseconds since the epoch (a non-negative int), "
            f"got {timestamp!r}"
        )
    return timestamp


def partition_arg(partition: object) -> int | None:
    """An explicit partition: None or a non-negative int."""
    if partition is None:
        return None
    if isinstance(partition, bool) or not isinstance(partition, int) or partition < 0:
        raise InvalidArgumentError(f"partition must be None or an int >= 0, got {partition!r}")
    return partition


def record_size(
    key: bytes | None, value: bytes | None, headers: tuple[tuple[str, bytes], ...]
) -> int:
    """The bytes a record counts for in batches and in the buffer."""
    size = RECORD_OVERHEAD + len(key or b"") + len(value or b"")
    for name, data in headers:
        size += len(name) + len(data)
    return size


def check_size(size: int, config: ProducerConfig, topic: str) -> None:
    """Refuse a record that no request could carry."""
    if size > config.max_request_bytes:
        raise RecordTooLargeError(
            f"a record of {size} bytes for topic '{topic}' exceeds max_request_bytes="
            f"{config.max_request_bytes}; send smaller records or raise max_request_bytes",
            metadata={"topic": topic, "size": str(size)},
        )


class RecordArgs(NamedTuple):
    """produce()'s checked arguments, before serialization."""

    topic: str
    """The topic name."""
    headers: tuple[tuple[str, bytes], ...]
    """The headers as (str, bytes) pairs."""
    partition: int | None
    """The explicit partition, or None to let the partitioner choose."""
    timestamp: int
    """CreateTime in ms."""

    def context(self, field: MessageField) -> SerializationContext:
        """What the key or value serializer is told."""
        return SerializationContext(self.topic, field, self.headers)


@functools.lru_cache(maxsize=1024)
def _topic_name(topic: str) -> str:
    return topic_arg(topic)


def record_args(topic: object, headers: object, partition: object, timestamp: object) -> RecordArgs:
    """Check produce()'s arguments other than key and value."""
    if not isinstance(topic, str):
        topic_arg(topic)  # type: ignore[arg-type]  # raises, naming the bad value
    return RecordArgs(
        _topic_name(topic),
        header_pairs(headers) if headers else (),
        partition_arg(partition),
        timestamp_arg(timestamp),
    )


def make_row(args: RecordArgs, key: object, value: object, config: ProducerConfig) -> Row:
    """The record to buffer, from serializer output (checked to be bytes or None)."""
    key_bytes = check_serialized(key, MessageField.KEY, args.topic)
    value_bytes = check_serialized(value, MessageField.VALUE, args.topic)
    size = record_size(key_bytes, value_bytes, args.headers)
    check_size(size, config, args.topic)
    return (key_bytes, value_bytes, args.headers, args.timestamp, size)


__all__: list[str] = []
