"""Producer settings and what ``produce()`` does on the caller's side, free of I/O.

Shared by Producer and AsyncProducer: argument checks, the ``acks`` mapping, serialization
into bytes, and the record's size and timestamp. Nothing here sends anything.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from weir.core.errors import (
    InvalidArgumentError,
    RecordTooLargeError,
    StorageFullError,
    WeirError,
)
from weir.sdk._admin_shared import topic_arg
from weir.sdk._produce_batches import Pending
from weir.sdk._records import MessageField, RecordMetadata, SerializationContext, Serializer
from weir.sdk._retry import RetryPolicy
from weir.v1 import log_pb2 as lp

log = logging.getLogger("weir.sdk.producer")

DeliveryCallback = Callable[[WeirError | None, RecordMetadata | None], Any]
"""``on_delivery(error, metadata)``: exactly one of the two is None; called once per record."""

_ACKS: dict[object, int] = {
    "all": lp.ACKS_ALL,
    "-1": lp.ACKS_ALL,
    -1: lp.ACKS_ALL,
    "1": lp.ACKS_LEADER,
    1: lp.ACKS_LEADER,
    "0": lp.ACKS_NONE,
    0: lp.ACKS_NONE,
}
RECORD_OVERHEAD = 24
"""Bytes counted per record on top of key, value and headers (offsets, lengths, timestamp)."""


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """The checked settings of one producer, times in seconds."""

    acks: int
    """The proto Acks value sent with every request."""
    idempotent: bool
    """Whether batches carry a producer id, epoch and sequence (retries cannot duplicate)."""
    linger_s: float
    """How long a batch that is not full waits for more records before it is sent."""
    batch_size: int
    """A batch is full at this many bytes of records."""
    max_batch_records: int
    """A batch is full at this many records."""
    max_request_bytes: int
    """The most record bytes one Produce request carries (and the largest record accepted)."""
    max_request_records: int
    """The most records one Produce request carries."""
    delivery_timeout_s: float
    """How long a record may take, retries included, before its future fails."""
    request_timeout_s: float
    """The deadline of one Produce call."""
    buffer_memory: int
    """The most record bytes buffered (not yet acknowledged) before produce() blocks."""
    max_block_s: float
    """How long produce() blocks for buffer space or topic metadata."""
    metadata_max_age_s: float
    """How old a cached partition count may get before it is fetched again."""
    retry: RetryPolicy
    """The backoff between retries (their number is bounded by the delivery timeout instead)."""


def _positive(name: str, value: object, *, zero_ok: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not zero_ok):
        raise InvalidArgumentError(
            f"{name} must be {'at least 0' if zero_ok else 'positive'}, got {value}"
        )
    return float(value)


def acks_value(acks: object) -> int:
    """The proto Acks value for ``"all"``, ``1``, ``0`` (or ``"1"``, ``"0"``, ``-1``)."""
    if isinstance(acks, bool) or acks not in _ACKS:
        raise InvalidArgumentError(f'acks must be "all", 1 or 0, got {acks!r}')
    return _ACKS[acks]


def make_config(
    *,
    acks: object,
    enable_idempotence: bool,
    linger_ms: float,
    batch_size: int,
    max_batch_records: int,
    max_request_bytes: int,
    delivery_timeout_ms: float,
    request_timeout_ms: float,
    buffer_memory: int,
    max_block_ms: float,
    metadata_max_age_ms: float,
    retry: RetryPolicy | None,
) -> ProducerConfig:
    """Check every setting and convert times to seconds; bad values raise InvalidArgumentError."""
    if not isinstance(enable_idempotence, bool):
        raise InvalidArgumentError(
            f"enable_idempotence must be True or False, got {enable_idempotence!r}"
        )
    sizes = {
        "batch_size": batch_size,
        "max_batch_records": max_batch_records,
        "max_request_bytes": max_request_bytes,
        "buffer_memory": buffer_memory,
    }
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgumentError(f"{name} must be a positive integer, got {value!r}")
    if max_request_bytes > buffer_memory:
        raise InvalidArgumentError(
            f"max_request_bytes ({max_request_bytes}) must not exceed buffer_memory "
            f"({buffer_memory}), or a large record could never be buffered"
        )
    return ProducerConfig(
        acks=acks_value(acks),
        idempotent=enable_idempotence,
        linger_s=_positive("linger_ms", linger_ms, zero_ok=True) / 1000,
        batch_size=batch_size,
        max_batch_records=max_batch_records,
        max_request_bytes=max_request_bytes,
        max_request_records=max(max_batch_records, 100_000),
        delivery_timeout_s=_positive("delivery_timeout_ms", delivery_timeout_ms) / 1000,
        request_timeout_s=_positive("request_timeout_ms", request_timeout_ms) / 1000,
        buffer_memory=buffer_memory,
        max_block_s=_positive("max_block_ms", max_block_ms, zero_ok=True) / 1000,
        metadata_max_age_s=_positive("metadata_max_age_ms", metadata_max_age_ms) / 1000,
        retry=retry or RetryPolicy(),
    )


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


def buffer_full(config: ProducerConfig, buffered: int, size: int) -> StorageFullError:
    """The back-pressure error when no buffer space freed up within max_block_ms."""
    return StorageFullError(
        f"the producer's buffer is full: {buffered} bytes wait to be acknowledged "
        f"(buffer_memory={config.buffer_memory}) and no room for {size} more bytes was freed "
        f"within max_block_ms={round(config.max_block_s * 1000)}; the server is slow or "
        "unreachable. Produce more slowly, call flush(), or raise buffer_memory",
        metadata={"limit": "buffer_memory", "buffered": str(buffered)},
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


def make_pending(
    args: RecordArgs, key: object, value: object, config: ProducerConfig, handle: Any
) -> Pending:
    """The record to buffer, from serializer output (checked to be bytes or None)."""
    key_bytes = check_serialized(key, MessageField.KEY, args.topic)
    value_bytes = check_serialized(value, MessageField.VALUE, args.topic)
    size = record_size(key_bytes, value_bytes, args.headers)
    check_size(size, config, args.topic)
    return Pending(key_bytes, value_bytes, args.headers, args.timestamp, size, handle)


def notify(
    callback: DeliveryCallback | None, error: WeirError | None, md: RecordMetadata | None
) -> None:
    """Call a user's on_delivery; its exceptions are logged, never propagated."""
    if callback is None:
        return
    try:
        callback(error, md)
    except Exception:
        log.exception("on_delivery callback raised; the producer carries on")


__all__: list[str] = []
