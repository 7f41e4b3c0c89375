"""``EmbeddedLogStore``: the LogStore on local disk.

Layout: ``root/<topic>-<partition>/`` per partition (a topic may contain ``-``; the
partition is the digits after the last one, so names never clash), holding segments
``<20-digit base offset>.log`` with ``.index`` and ``.timeindex`` next to them, and a
``log-start-offset`` file once records were deleted. Partitions are discovered from the
directories when the store opens (their storage config lives with the topic metadata and
comes back through ``create_partition`` or ``set_config``; until then defaults apply).

Opening recovers every partition (see ``Partition``) and blocks; do it before serving,
or in a worker thread. ``partition(tp)`` gives the partition object with its synchronous
append/read/flush API for non-async callers.

Durability by acks: NONE and LEADER return once write() handed the batch to the OS
(nothing is queued in user space), ALL after an fsync shared with every concurrent append
of the partition (group commit in a worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from weir.broker.log.api import (
    Acks,
    AppendResult,
    NewRecord,
    Offset,
    PartitionId,
    PartitionOffsets,
    ProducerState,
    Record,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.cleanup import run_cleanup
from weir.broker.log.partition import Partition
from weir.broker.log.producers import NO_IDEMPOTENCE
from weir.core.crash_points import crash_point
from weir.core.errors import (
    InvalidArgumentError,
    InvalidConfigError,
    PartitionNotFoundError,
    WeirError,
)

log = logging.getLogger("weir.broker.log")

_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
_DIR = re.compile(r"([A-Za-z0-9._-]{1,249})-(0|[1-9][0-9]*)")
_DELETING = ".deleting"
MAX_SEGMENT_BYTES = (1 << 31) - 1


def wall_clock_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def check_topic_partition(tp: TopicPartition) -> None:
    """Raise InvalidArgumentError unless the name and number are legal (Kafka's rules)."""
    if not _TOPIC.fullmatch(tp.topic) or tp.topic in (".", ".."):
        raise InvalidArgumentError(
            f"topic name {tp.topic!r} is not legal: use 1-249 characters from "
            "[A-Za-z0-9._-], and not '.' or '..'",
            metadata={"topic": tp.topic},
        )
    if tp.partition < 0:
        raise InvalidArgumentError(
            f"partition {tp.partition} of topic {tp.topic} is negative; partitions start at 0",
            metadata={"topic": tp.topic, "partition": str(tp.partition)},
        )


def check_config(config: StorageConfig) -> None:
    """Raise InvalidConfigError naming the first out-of-range setting."""
    limits = {
        "segment_bytes": (1, MAX_SEGMENT_BYTES),
        "segment_ms": (1, None),
        "retention_ms": (-1, None),
        "retention_bytes": (-1, None),
        "delete_retention_ms": (0, None),
        "min_compaction_lag_ms": (0, None),
        "index_interval_bytes": (0, None),
    }
    for name, (low, high) in limits.items():
        value = getattr(config, name)
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise InvalidConfigError(
                f"storage setting {name}={value} is out of range: it must be {bound}",
                metadata={"key": name, "value": str(value)},
            )


def partition_dir(root: Path, tp: TopicPartition) -> Path:
    """The directory of a partition."""
    return root / f"{tp.topic}-{tp.partition}"


class EmbeddedLogStore:
    """Partitioned logs in segment files under one root directory."""

    def __init__(self, root: Path, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        """Open the store, recovering every partition found under ``root``."""
        self.root = root
        """The data directory."""
        self.now_ms = now_ms
        """The broker clock (LogAppendTime, segment age, retention)."""
        self._parts: dict[TopicPartition, Partition] = {}
        self._events: dict[TopicPartition, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        root.mkdir(parents=True, exist_ok=True)
        for d in sorted(root.iterdir()):
            if not d.is_dir():
                continue
            if d.name.endswith(_DELETING):
                shutil.rmtree(d, ignore_errors=True)
                continue
            m = _DIR.fullmatch(d.name)
            if m is None or m[1] in (".", ".."):
                log.warning("log store: ignoring %s (not a <topic>-<partition> directory)", d)
                continue
            tp = TopicPartition(TopicName(m[1]), PartitionId(int(m[2])))
            self._add(tp, StorageConfig())

    def _add(self, tp: TopicPartition, config: StorageConfig) -> Partition:
        p = Partition(partition_dir(self.root, tp), tp, config, self.now_ms)
        p.listeners.append(lambda: self._wake(tp))
        self._parts[tp] = p
        return p

    def partition(self, tp: TopicPartition) -> Partition:
        """The partition object (with its synchronous API); PartitionNotFoundError if none."""
        p = self._parts.get(tp)
        if p is None:
            raise PartitionNotFoundError(
                f"partition {tp.partition} of topic {tp.topic} does not exist; create it first",
                metadata={"topic": tp.topic, "partition": str(tp.partition)},
            )
        return p

    def partitions(self) -> list[TopicPartition]:
        """Every partition, sorted by topic then number."""
        return sorted(self._parts, key=lambda tp: (tp.topic, tp.partition))

    async def create_partition(self, tp: TopicPartition, config: StorageConfig) -> None:
        """Create an empty partition; for an existing one just apply ``config``."""
        check_topic_partition(tp)
        check_config(config)
        if tp in self._parts:
            self._parts[tp].config = config
            return
        p = await asyncio.to_thread(
            Partition, partition_dir(self.root, tp), tp, config, self.now_ms
        )
        if tp in self._parts:  # created concurrently
            self._parts[tp].config = config
            return
        p.listeners.append(lambda: self._wake(tp))
        self._parts[tp] = p

    async def delete_partition(self, tp: TopicPartition) -> None:
        """Close the partition and remove its directory."""
        p = self.partition(tp)
        del self._parts[tp]
        await asyncio.to_thread(p.close)
        crash_point("partition.delete.after_close")
        self._wake(tp)
        doomed = p.directory.with_name(f"{p.directory.name}.{uuid.uuid4().hex}{_DELETING}")
        await asyncio.to_thread(p.directory.rename, doomed)
        crash_point("partition.delete.after_rename")
        await asyncio.to_thread(shutil.rmtree, doomed, True)

    def set_config(self, tp: TopicPartition, config: StorageConfig) -> None:
        """Replace a partition's storage settings (from the next append, roll or cleanup)."""
        check_config(config)
        self.partition(tp).config = config

    async def append(
        self,
        tp: TopicPartition,
        records: Sequence[NewRecord],
        acks: Acks = Acks.ALL,
        producer: ProducerState = NO_IDEMPOTENCE,
    ) -> AppendResult:
        """Append a batch atomically; dedupe and fence idempotent producers."""
        p = self.partition(tp)
        result, mark = p.append_nowait(records, producer)
        if p.roll_pending:
            p.roll_pending = False
            self._spawn(self._flush_quietly(p))
        if acks == Acks.ALL:
            await p.wait_durable(mark)
        return result

    async def read(self, tp: TopicPartition, offset: int, max_bytes: int) -> list[Record]:
        """Records from ``offset`` on (whole batches, about max_bytes, at least one)."""
        return self.partition(tp).read(offset, max_bytes)

    def offsets(self, tp: TopicPartition) -> PartitionOffsets:
        """Log start and log end of a partition."""
        return self.partition(tp).offsets()

    async def offset_for_time(self, tp: TopicPartition, timestamp_ms: int) -> Offset | None:
        """The first offset whose timestamp is >= timestamp_ms, or None."""
        return self.partition(tp).offset_for_time(timestamp_ms)

    async def delete_records(self, tp: TopicPartition, before: int) -> Offset:
        """Advance the log start offset to ``before``; return the new log start."""
        return await asyncio.to_thread(self.partition(tp).delete_records, before)

    async def wait_for_append(self, tp: TopicPartition, offset: int, timeout_s: float) -> None:
        """Return when log_end > offset, the partition is deleted, or the timeout passes."""
        p = self.partition(tp)
        loop = self._loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while tp in self._parts and p.offsets().log_end <= offset:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            event = self._events.get(tp)
            if event is None:
                event = self._events[tp] = asyncio.Event()
            if p.offsets().log_end > offset:
                return
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return

    def _wake(self, tp: TopicPartition) -> None:
        event = self._events.pop(tp, None)
        if event is None:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop:
            event.set()
        elif self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self._loop.call_soon_threadsafe(event.set)

    async def run_cleanup(self, now_ms: int | None = None) -> None:
        """Roll aged segments, apply retention and compaction to every partition once."""
        now = self.now_ms() if now_ms is None else now_ms
        for tp, p in list(self._parts.items()):
            try:
                await asyncio.to_thread(run_cleanup, p, now)
            except PartitionNotFoundError:
                continue
            except WeirError as exc:
                log.error("cleanup of %s-%d failed: %s", tp.topic, tp.partition, exc)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_quietly(self, p: Partition) -> None:
        """Fsync a segment that just rolled, so its index can be saved."""
        try:
            await p.wait_durable(p.written)
        except WeirError as exc:
            log.warning("background flush of %s failed: %s", p.directory, exc)

    async def close(self) -> None:
        """Flush and close every file."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for p in list(self._parts.values()):
            await asyncio.to_thread(p.close)
        self._parts.clear()
