"""One partition: its segments, offsets, producer state and durability.

Thread safety. Every method may be called from the event loop or from another thread.
``_lock`` guards the segment list, the offsets and the producer table; it is held only
for short synchronous work (encode + write(), a read), never across an await or an
fsync. ``_flush_lock`` makes fsync single-flight and keeps a descriptor open while it is
fsynced (segments are deleted or replaced only while holding it). ``_cleanup_lock``
serializes retention, compaction and delete_records, which run in worker threads.

The synchronous API, for code that is not async (the registry's ``_schemas`` topic):

* ``append(records, acks, producer)`` appends one batch; with ``Acks.ALL`` it fsyncs in
  the calling thread before returning (it does not share the async group commit).
* ``read(offset, max_bytes)`` reads records, exactly like ``LogStore.read``.
* ``flush()`` fsyncs everything written so far.
* ``offsets()`` gives log start and log end.

They block; from the event loop call them only for small, rare writes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import struct
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path

from weir.broker.log.api import (
    Acks,
    AppendResult,
    NewRecord,
    Offset,
    PartitionOffsets,
    ProducerState,
    Record,
    StorageConfig,
    TopicPartition,
)
from weir.broker.log.batch import BatchError, decode_records, encode_batch, peek_header
from weir.broker.log.index import remove_index
from weir.broker.log.producers import NO_IDEMPOTENCE, ProducerTable
from weir.broker.log.segment import Segment, segment_base, storage_error
from weir.core.crash_points import crash_point
from weir.core.errors import (
    CorruptDataError,
    InvalidArgumentError,
    OffsetOutOfRangeError,
    PartitionNotFoundError,
)

log = logging.getLogger("weir.broker.log")

LOG_START_FILE = "log-start-offset"
MAX_OFFSET = 1 << 63
"""Offsets are signed 64-bit; a log-start-offset at or past this is damage."""
PRODUCER_SCAN_BYTES = 64 << 20
"""How much of the log's tail recovery scans to rebuild producer state."""


def _remove(path: Path) -> None:
    """Delete a leftover file of the log's own (a directory in its place goes too)."""
    try:
        if path.is_dir() and not path.is_symlink():
            log.warning("log recovery: removing %s, a directory where a log file belongs", path)
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("log recovery: cannot remove leftover %s: %s", path, exc)


def fsync_dir(path: Path) -> None:
    """fsync a directory so renames and new files in it are durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Partition:
    """The log of one topic partition on local disk."""

    def __init__(
        self, directory: Path, tp: TopicPartition, config: StorageConfig, now_ms: Callable[[], int]
    ) -> None:
        """Open (recovering) or create the partition in ``directory``."""
        self.directory = directory
        """The partition's directory."""
        self.tp = tp
        """Which partition this is."""
        self.config = config
        """Storage settings (replaced whole by set_config)."""
        self.now_ms = now_ms
        """The broker clock."""
        self.listeners: list[Callable[[], None]] = []
        """Called after every append (outside the lock), to wake long-polls."""
        self.fsyncs = 0
        """Number of fsync calls made on segment files (for tests and metrics)."""
        self.fsync_seconds = 0.0
        """Time spent in those fsync calls (for metrics)."""
        self.roll_pending = False
        """Set when a segment rolled; the engine flushes the closed segment in the background."""
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self.cleanup_lock = threading.Lock()
        """Held by retention, compaction and delete_records."""
        self._closed = False
        self._written = 0
        self._synced = 0
        self._sync_future: asyncio.Future[None] | None = None
        self.producers = ProducerTable()
        """Idempotent-producer state."""
        self.compacted: tuple[tuple[int, int], ...] = ()
        """(base, size) of the closed segments after the last compaction."""
        self.compaction_pending = True
        """The last compaction kept something only for its age; compact again."""
        directory.mkdir(parents=True, exist_ok=True)
        persisted = self._read_log_start()
        self._segments: list[Segment] = self._open_segments(persisted)
        self._bases = [s.base for s in self._segments]
        self._log_end = self._segments[-1].next_offset
        self._log_start = self._checked_log_start(persisted)
        self._rebuild_producers()

    # -- opening -------------------------------------------------------------------------

    def _open_segments(self, persisted: int | None) -> list[Segment]:
        """Open every segment file; a torn closed segment loses only its torn bytes."""
        self._remove_leftovers()
        paths = self._segment_files()
        interval = self.config.index_interval_bytes
        segments = [
            Segment.open(path, interval, check=n == len(paths) - 1) for n, path in enumerate(paths)
        ]
        for seg, after in pairwise(segments):
            if seg.dropped:
                log.warning(
                    "log recovery: %s is a closed segment: kept its %d intact bytes and every "
                    "later segment; offsets %d to %d are a gap that reads skip",
                    seg.path,
                    seg.size,
                    seg.next_offset,
                    after.base - 1,
                )
            if seg.damaged_tail or seg.dropped:  # its lost last batch ran up to the next base
                seg.next_offset = max(seg.next_offset, after.base)
        if not segments:  # an empty directory: continue the offsets where the hint says
            segments.append(Segment.create(self.directory, persisted or 0, interval))
        return segments

    def _remove_leftovers(self) -> None:
        """Delete what a crash leaves behind: temp files and indexes without their log.

        Only files the log itself names that way go; anything else is someone else's.
        """
        for entry in self.directory.iterdir():
            name = entry.name
            if name.endswith((".cleaned", ".tmp")):
                own = segment_base(Path(name.rsplit(".", 2)[0] + ".log")) is not None
                if own or name == LOG_START_FILE + ".tmp":
                    _remove(entry)
            elif entry.suffix in (".index", ".timeindex"):
                log_file = entry.with_suffix(".log")
                if segment_base(log_file) is not None and not log_file.exists():
                    _remove(entry)

    def _segment_files(self) -> list[Path]:
        """The segment files, oldest first; anything else ending in .log is left alone."""
        paths: list[Path] = []
        for path in self.directory.glob("*.log"):
            if segment_base(path) is None or not path.is_file():
                log.warning(
                    "log recovery: ignoring %s: not a segment file (a segment is a file named "
                    "by a 20-digit base offset and '.log'); it is left where it is",
                    path,
                )
            else:
                paths.append(path)
        return sorted(paths)

    def _read_log_start(self) -> int | None:
        """The log-start-offset file's number, None when missing or unreadable (logged)."""
        path = self.directory / LOG_START_FILE
        try:
            text = path.read_text(errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("log recovery: cannot read %s (%s); ignoring it", path, exc)
            return None
        if not text.isascii() or not text.isdigit() or int(text) >= MAX_OFFSET:
            log.warning(
                "log recovery: %s holds %r, not an offset; ignoring it (log start is the first "
                "segment's base offset)",
                path,
                text[:40],
            )
            return None
        return int(text)

    def _checked_log_start(self, persisted: int | None) -> int:
        """Log start from the file, a hint: honoured inside the log, refused past its end.

        Log start only moves forward by retention or DeleteRecords, which write the file
        before deleting anything, so a value inside the log hides the records below it
        (reads there are refused) and cleanup deletes the segments it covers. A value past
        the log end cannot have been written by the log: it is ignored, never acted on.
        """
        first = self._segments[0].base
        if persisted is None:
            return first
        if persisted > self._log_end:
            log.warning(
                "log recovery: %s says log start %d, past the log end %d; ignoring it (log "
                "start is the first segment's base offset %d, nothing is deleted)",
                self.directory / LOG_START_FILE,
                persisted,
                self._log_end,
                first,
            )
            return first
        # The file may sit in a gap just below the first segment's base (retention or
        # DeleteRecords into a compaction gap), which is as good a log start.
        return persisted

    def below_log_start(self) -> list[Segment]:
        """Closed segments wholly below log start (DeleteRecords before a crash); cleanup's."""
        with self._lock:
            return [s for s in self._segments[:-1] if s.next_offset <= self._log_start]

    def _write_log_start(self, offset: int) -> None:
        path = self.directory / LOG_START_FILE
        if path.is_dir():  # damage: the file is ours, so the directory in its place goes
            _remove(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(f"{offset}\n")
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        crash_point("log_start.after_tmp")
        os.replace(tmp, path)
        crash_point("log_start.after_rename")
        fsync_dir(self.directory)

    def _rebuild_producers(self) -> None:
        budget, first = 0, len(self._segments)
        while first > 0 and budget < PRODUCER_SCAN_BYTES:
            first -= 1
            budget += self._segments[first].size
        for seg in self._segments[first:]:
            damaged: list[int] = []
            for _, h, _, _ in seg.intact(damaged):
                self.producers.observe(h)
            for position in damaged:
                log.warning(
                    "producer state: skipped the damaged batch at byte %d of %s; the batches "
                    "after it are in the producer state",
                    position,
                    seg.path,
                )

    # -- state ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise PartitionNotFoundError(
                f"partition {self.tp.topic}-{self.tp.partition} was deleted or closed",
                metadata={"topic": self.tp.topic, "partition": str(self.tp.partition)},
            )

    @property
    def written(self) -> int:
        """Byte mark of everything written so far (see wait_durable)."""
        return self._written

    def offsets(self) -> PartitionOffsets:
        """Log start and log end."""
        return PartitionOffsets(Offset(self._log_start), Offset(self._log_end))

    def segments(self) -> list[Segment]:
        """A snapshot of the segments, oldest first (the last one is active)."""
        with self._lock:
            return list(self._segments)

    def out_of_range(self, offset: int) -> OffsetOutOfRangeError:
        """The error for an offset outside [log start, log end]."""
        return OffsetOutOfRangeError(
            f"offset {offset} is outside {self.tp.topic}-{self.tp.partition}'s range "
            f"[{self._log_start}, {self._log_end}]; fetch from an offset in that range",
            metadata={"log_start": str(self._log_start), "log_end": str(self._log_end)},
        )

    # -- append --------------------------------------------------------------------------

    def append(
        self,
        records: Sequence[NewRecord],
        acks: Acks = Acks.ALL,
        producer: ProducerState = NO_IDEMPOTENCE,
    ) -> AppendResult:
        """Append one batch (sync API); with Acks.ALL fsync before returning."""
        result, _ = self.append_nowait(records, producer)
        if acks == Acks.ALL:
            self.flush()
        return result

    def append_nowait(
        self, records: Sequence[NewRecord], producer: ProducerState
    ) -> tuple[AppendResult, int]:
        """Write a batch to the OS; return its result and the byte mark to fsync up to."""
        if not records:
            raise InvalidArgumentError("a batch needs at least one record")
        now = self.now_ms()
        with self._lock:
            self._check_open()
            dup = self.producers.check(producer, len(records))
            if dup is not None:
                return dup, self._written
            base = self._log_end
            try:
                data = encode_batch(base, records, producer, now)
            except (struct.error, UnicodeEncodeError) as exc:
                raise InvalidArgumentError(
                    f"a record field does not fit the log format ({exc}): schema ids must be "
                    "0..2**32-1, timestamps 64-bit, header names UTF-8 under 64 KiB"
                ) from None
            seg = self._segments[-1]
            cfg = self.config
            if seg.size and (
                seg.size + len(data) > cfg.segment_bytes or now - seg.first_append >= cfg.segment_ms
            ):
                seg = self._roll()
            header = peek_header(data, 0)
            seg.write(data, header)
            crash_point("partition.append.after_write")
            self._log_end = header.last_offset + 1
            self.producers.record(producer, base, header.last_offset, now)
            self._written += len(data)
            result = AppendResult(Offset(base), Offset(header.last_offset), now)
            mark = self._written
        for listener in self.listeners:
            listener()
        return result, mark

    def _roll(self) -> Segment:
        seg = Segment.create(self.directory, self._log_end, self.config.index_interval_bytes)
        crash_point("partition.roll.after_new_file")
        self._segments.append(seg)
        self._bases.append(seg.base)
        self.roll_pending = True
        return seg

    def roll_if_aged(self, now: int) -> bool:
        """Roll the active segment if it is non-empty and older than segment_ms."""
        with self._lock:
            self._check_open()
            seg = self._segments[-1]
            if seg.size and now - seg.first_append >= self.config.segment_ms:
                self._roll()
                return True
        return False

    def roll(self) -> None:
        """Roll the active segment now if it holds anything (tests, delete_records)."""
        with self._lock:
            self._check_open()
            if self._segments[-1].size:
                self._roll()

    # -- durability ----------------------------------------------------------------------

    def flush(self) -> None:
        """fsync every byte written so far; save indexes of closed, synced segments."""
        with self._flush_lock:
            with self._lock:
                self._check_open()
                target = self._written
                todo = [(s, s.size) for s in self._segments if s.synced_size < s.size]
                todo += [(s, s.size) for s in self._segments[:-1] if not s.index_saved]
            for seg, size in todo:
                if seg.synced_size < size:
                    started = time.perf_counter()
                    try:
                        os.fsync(seg.fd)
                    except OSError as exc:
                        raise storage_error(exc, f"fsync of {seg.path}") from None
                    self.fsync_seconds += time.perf_counter() - started
                    self.fsyncs += 1
                    seg.synced_size = max(seg.synced_size, size)
            crash_point("partition.flush.after_fsync")
            with self._lock:
                self._synced = max(self._synced, target)
                closed = self._segments[:-1]
            for seg in closed:
                if not seg.index_saved and seg.synced_size == seg.size:
                    crash_point("partition.flush.before_index_save")
                    try:
                        seg.save_index()
                    except OSError as exc:
                        log.warning("could not save the index of %s: %s", seg.path, exc)
                    crash_point("partition.flush.after_index_save")

    async def wait_durable(self, mark: int) -> None:
        """Return once every byte up to ``mark`` is fsynced; concurrent callers share fsyncs.

        The fsync runs in a worker thread, so the event loop never blocks on it. Callers
        that arrive while one is running wait for the next, which covers all of them.
        """
        while self._synced < mark:
            self._check_open()
            fut = self._sync_future
            if fut is None or fut.done():
                fut = self._sync_future = asyncio.ensure_future(asyncio.to_thread(self.flush))
            await asyncio.shield(fut)

    # -- read ----------------------------------------------------------------------------

    def read(self, offset: int, max_bytes: int) -> list[Record]:
        """Records from ``offset`` on, whole batches up to about max_bytes (at least one)."""
        with self._lock:
            self._check_open()
            if offset < self._log_start or offset > self._log_end:
                raise self.out_of_range(offset)
            out: list[Record] = []
            used = 0
            i = max(bisect_right(self._bases, offset) - 1, 0)
            for seg in self._segments[i:]:
                try:
                    records, n = seg.read(offset, max_bytes - used)
                except CorruptDataError:
                    if out:  # serve what came before the damage; the next read reports it
                        break
                    raise
                out += records
                used += n
                if out and used >= max_bytes:
                    break
            return out

    def offset_for_time(self, timestamp_ms: int) -> Offset | None:
        """The first offset at or after log start whose timestamp is >= timestamp_ms."""
        with self._lock:
            self._check_open()
            start = self._log_start
            for seg in self._segments:
                if seg.next_offset <= start or seg.max_ts < timestamp_ms:
                    continue
                first = max(seg.base + seg.index.lookup_time(timestamp_ms), start)
                pos = seg.index.lookup(first - seg.base)
                try:
                    for _, h, buf, i in seg.walk(pos, seg.size):
                        if h.last_offset < first or h.max_timestamp < timestamp_ms:
                            continue
                        for r in decode_records(buf, i, h):
                            if r.offset >= first and r.timestamp_ms >= timestamp_ms:
                                return r.offset
                except BatchError as exc:
                    raise seg.corrupt(exc) from None
            return None

    # -- deletion ------------------------------------------------------------------------

    def drop_segments(self, doomed: list[Segment], to_base: bool = True) -> None:
        """Delete closed segments; log start moves to the first remaining segment's base.

        With ``to_base`` False (delete_records) log start stays where the caller put it.
        """
        if not doomed:
            return
        with self._flush_lock:
            with self._lock:
                gone = {id(s) for s in doomed}
                self._segments = [s for s in self._segments if id(s) not in gone]
                self._bases = [s.base for s in self._segments]
                if to_base:
                    self._log_start = max(self._log_start, self._segments[0].base)
                start = self._log_start
            crash_point("segments.drop.before_log_start")
            self._write_log_start(start)
            crash_point("segments.drop.after_log_start")
            for n, seg in enumerate(doomed):
                if n == 1:
                    crash_point("segments.drop.between_deletes")
                seg.delete()
            fsync_dir(self.directory)

    def replace_segment(self, old: Segment, new: Segment, cleaned: Path) -> None:
        """Atomically swap a rewritten (compacted, fsynced) file in for ``old``.

        Readers keep using the old descriptor, which still sees the old file, until the
        segment object is swapped under the lock.
        """
        with self._flush_lock:
            remove_index(old.path)
            crash_point("compaction.after_index_removed")
            os.replace(cleaned, old.path)
            crash_point("compaction.after_rename")
            fsync_dir(self.directory)
            new.path = old.path
            new.synced_size = new.size
            with self._lock:
                self._segments[self._segments.index(old)] = new
            old.close()
        try:
            new.save_index()
        except OSError as exc:
            log.warning("could not save the index of %s: %s", new.path, exc)

    def delete_records(self, before: int) -> Offset:
        """Advance log start to ``before``; delete whole segments below it."""
        with self.cleanup_lock:
            with self._lock:
                self._check_open()
                if before > self._log_end or before < 0:
                    raise self.out_of_range(before)
                if before <= self._log_start:
                    return Offset(self._log_start)
                self._log_start = before
                if self._segments[-1].size and self._segments[-1].next_offset <= before:
                    self._roll()
                doomed = [s for s in self._segments[:-1] if s.next_offset <= before]
            self._write_log_start(before)
            self.drop_segments(doomed, to_base=False)
            return Offset(self._log_start)

    def close(self) -> None:
        """Flush and close every file; later calls raise PartitionNotFoundError."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            with self._flush_lock, self._lock:
                self._closed = True
                for seg in self._segments:
                    seg.close()
