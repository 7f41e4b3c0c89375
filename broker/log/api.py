"""The ``LogStore`` interface: the one seam between the broker and its storage backends.

The embedded engine (segments on local disk) implements it now; a NATS JetStream backend
will implement the same interface later. Keep it narrow: partitions are created and
dropped, batches are appended and read by offset, offsets are listed, and records before
an offset are deleted. Everything a backend cannot do honestly stays out.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, NewType, Protocol

Offset = NewType("Offset", int)
PartitionId = NewType("PartitionId", int)
TopicName = NewType("TopicName", str)

NO_PRODUCER = -1
"""producer_id of a batch from a producer without idempotence."""


@dataclass(frozen=True, slots=True)
class TopicPartition:
    """One partition of one topic."""

    topic: TopicName
    """The topic name."""
    partition: PartitionId
    """The partition number, from 0."""


class Acks(enum.IntEnum):
    """How durable a batch is before append returns."""

    NONE = 0
    """Return at once; the write may still be lost (acks=0)."""
    LEADER = 1
    """Return after the write reached the OS (acks=1)."""
    ALL = -1
    """Return after the batch is fsynced, sharing one fsync with concurrent batches (acks=all)."""


class NewRecord(NamedTuple):
    """A record to append; the log assigns its offset. A NamedTuple: produce builds one per
    record, and a tuple is about four times cheaper to create than a frozen dataclass."""

    value: bytes | None
    """The payload; None is a tombstone."""
    key: bytes | None = None
    """The key; compaction keeps the newest record per key."""
    headers: tuple[tuple[str, bytes], ...] = ()
    """Ordered headers; names may repeat."""
    timestamp_ms: int = 0
    """CreateTime from the producer, or LogAppendTime set by the broker."""
    key_schema_id: int = 0
    """The registered schema id of the key (0 = none), stamped by the broker."""
    value_schema_id: int = 0
    """The registered schema id of the value (0 = none), stamped by the broker."""
    value_schema_version: int = 0
    """The subject version of the value's schema (0 = none), stamped by the broker."""


class Record(NamedTuple):
    """A stored record. A NamedTuple, not a dataclass: reads build one per record, and a
    tuple costs about a quarter as much to create (0.27 vs 0.98 us here)."""

    offset: Offset
    """Its offset in the partition; dense and never changed."""
    timestamp_ms: int
    """Its timestamp."""
    key: bytes | None
    """The key."""
    value: bytes | None
    """The payload; None is a tombstone."""
    headers: tuple[tuple[str, bytes], ...]
    """Ordered headers."""
    key_schema_id: int
    """Schema id of the key, 0 when none."""
    value_schema_id: int
    """Schema id of the value, 0 when none."""
    value_schema_version: int
    """Subject version of the value's schema, 0 when none."""


@dataclass(frozen=True, slots=True)
class ProducerState:
    """Idempotent-producer fields carried by a batch."""

    producer_id: int = NO_PRODUCER
    """The producer id, or NO_PRODUCER without idempotence."""
    epoch: int = 0
    """The producer epoch; a lower epoch than the last seen is fenced."""
    base_sequence: int = 0
    """Sequence number of the batch's first record for this partition."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where a batch landed."""

    base_offset: Offset
    """Offset of the first record."""
    last_offset: Offset
    """Offset of the last record."""
    log_append_time_ms: int
    """The broker's clock when the batch was appended."""
    duplicate: bool = False
    """True when this was a retry of a batch already in the log (nothing new appended)."""


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """The bounds of a partition."""

    log_start: Offset
    """The first offset still readable."""
    log_end: Offset
    """The offset the next record will get (high watermark)."""


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Per-topic storage settings, in Kafka's terms and units."""

    segment_bytes: int = 1 << 30
    """Roll the active segment when it reaches this size (segment.bytes)."""
    segment_ms: int = 7 * 24 * 3600 * 1000
    """Roll the active segment when its first record is this old (segment.ms)."""
    retention_ms: int = 7 * 24 * 3600 * 1000
    """Delete closed segments whose newest record is older; -1 keeps forever (retention.ms)."""
    retention_bytes: int = -1
    """Delete oldest closed segments while the partition is larger; -1 = no limit."""
    cleanup_delete: bool = True
    """cleanup.policy contains delete."""
    cleanup_compact: bool = False
    """cleanup.policy contains compact."""
    delete_retention_ms: int = 24 * 3600 * 1000
    """How long compaction keeps tombstones (delete.retention.ms)."""
    min_compaction_lag_ms: int = 0
    """Records younger than this are never compacted (min.compaction.lag.ms)."""
    index_interval_bytes: int = 4096
    """Bytes between sparse index entries."""


class LogStore(Protocol):
    """Partitioned, append-only logs addressed by offset."""

    async def create_partition(self, tp: TopicPartition, config: StorageConfig) -> None:
        """Create an empty partition (idempotent for an existing one)."""
        ...

    async def delete_partition(self, tp: TopicPartition) -> None:
        """Remove a partition and all its data."""
        ...

    def set_config(self, tp: TopicPartition, config: StorageConfig) -> None:
        """Change a partition's storage settings; applies from the next roll or cleanup."""
        ...

    def partitions(self) -> list[TopicPartition]:
        """Every partition that exists."""
        ...

    async def append(
        self,
        tp: TopicPartition,
        records: Sequence[NewRecord],
        acks: Acks = Acks.ALL,
        producer: ProducerState = ProducerState(),
    ) -> AppendResult:
        """Append a batch atomically; dedupe and fence idempotent producers."""
        ...

    async def read(self, tp: TopicPartition, offset: int, max_bytes: int) -> list[Record]:
        """Records from ``offset`` on, at least one if any exists, up to about max_bytes.

        An offset outside [log_start, log_end] raises OffsetOutOfRangeError carrying both.
        Compaction may leave gaps: the first record returned may have a higher offset.
        """
        ...

    def offsets(self, tp: TopicPartition) -> PartitionOffsets:
        """The partition's log start and log end offsets."""
        ...

    async def offset_for_time(self, tp: TopicPartition, timestamp_ms: int) -> Offset | None:
        """The first offset whose timestamp is >= timestamp_ms, or None when none is."""
        ...

    async def delete_records(self, tp: TopicPartition, before: int) -> Offset:
        """Advance the log start offset to ``before``; return the new log start."""
        ...

    async def wait_for_append(self, tp: TopicPartition, offset: int, timeout_s: float) -> None:
        """Return when log_end > offset or the timeout passes (for long-poll fetch)."""
        ...

    async def run_cleanup(self, now_ms: int | None = None) -> None:
        """Roll aged segments, apply retention and compaction to every partition once."""
        ...

    async def close(self) -> None:
        """Flush and close every file."""
        ...
