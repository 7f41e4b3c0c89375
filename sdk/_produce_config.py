"""Producer settings and what ``produce()`` does on the caller's side, free of I/O.

Shared by Producer and AsyncProducer: setting checks, the ``acks`` mapping, the
back-pressure error and calling on_delivery. Per-record checks are in ``_produce_record``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from weir.core.errors import (
    InvalidArgumentError,
    StorageFullError,
    WeirError,
)
from weir.sdk._records import RecordMetadata
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
    max_in_flight_requests: int = 5
    """How many Produce requests may wait for replies at once (one batch per partition)."""


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


def buffer_full(config: ProducerConfig, buffered: int, size: int) -> StorageFullError:
    """The back-pressure error when no buffer space freed up within max_block_ms."""
    return StorageFullError(
        f"the producer's buffer is full: {buffered} bytes wait to be acknowledged "
        f"(buffer_memory={config.buffer_memory}) and no room for {size} more bytes was freed "
        f"within max_block_ms={round(config.max_block_s * 1000)}; the server is slow or "
        "unreachable. Produce more slowly, call flush(), or raise buffer_memory",
        metadata={"limit": "buffer_memory", "buffered": str(buffered)},
    )


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
