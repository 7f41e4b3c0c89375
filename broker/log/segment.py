"""One segment: a ``.log`` file of batches plus its in-memory sparse index.

A segment is named by the 20-digit base offset of its first batch. Writes go through one
O_APPEND file descriptor, reads use ``os.pread`` on the same descriptor (thread-safe, no
shared file position). Callers (the partition) serialize writes and decide when to fsync.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from weir.broker.log.api import Record
from weir.broker.log.batch import (
    HEADER_SIZE,
    BatchError,
    BatchHeader,
    batch_size_at,
    check_batch,
    decode_records,
)
from weir.broker.log.index import NO_TIMESTAMP, SegmentIndex, SegmentMeta, remove_index
from weir.core.errors import CorruptDataError, InternalError, StorageFullError

log = logging.getLogger("weir.broker.log")

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""Write errors that mean "no space": the disk, a quota, or RLIMIT_FSIZE."""
READ_CHUNK = 1 << 20
RESYNC_WINDOW = 64 << 20
"""How far past a corrupt batch recovery and reads look for the next whole batch."""
_MAGIC_AT = 12
"""Position of the magic byte in a batch."""
DAMAGED = 1 << 62
"""The bytes-used answer of a read that stopped at a damaged batch."""
_SEGMENT_NAME = re.compile(r"([0-9]{20})\.log")


def segment_path(directory: Path, base_offset: int) -> Path:
    """The .log path of the segment starting at ``base_offset``."""
    return directory / f"{base_offset:020d}.log"


def segment_base(path: Path) -> int | None:
    """The base offset a segment file's name gives, or None when it is no segment's name.

    A segment is named by exactly 20 decimal digits and ``.log``; anything else (an editor's
    ``notanumber.log``, ``x.log.swp``) belongs to someone else.
    """
    m = _SEGMENT_NAME.fullmatch(path.name)
    return None if m is None else int(m[1])


def storage_error(exc: OSError, what: str) -> Exception:
    """Translate an OSError into StorageFullError or InternalError."""
    if exc.errno in FULL_ERRNOS:
        return StorageFullError(
            f"{what}: no space left ({os.strerror(exc.errno or 0)}); free disk space or "
            "lower retention, then retry",
            metadata={"errno": str(exc.errno)},
        )
    return InternalError(f"{what}: {exc.strerror or exc}")


class Segment:
    """A segment file and what is known about it."""

    __slots__ = (
        "base",
        "damaged_tail",
        "dropped",
        "fd",
        "first_append",
        "index",
        "index_saved",
        "max_ts",
        "next_offset",
        "path",
        "size",
        "synced_size",
    )

    def __init__(self, path: Path, base: int, fd: int, index: SegmentIndex) -> None:
        self.path = path
        """The .log file."""
        self.base = base
        """Offset of the first batch (from the file name)."""
        self.fd = fd
        """Open descriptor (read/write, O_APPEND)."""
        self.index = index
        """Sparse offset and time index."""
        self.size = 0
        """Bytes of whole batches in the file."""
        self.next_offset = base
        """Offset after the last batch."""
        self.max_ts = NO_TIMESTAMP
        """Largest record timestamp."""
        self.first_append = 0
        """Broker clock of the first append (for segment.ms), 0 when empty."""
        self.synced_size = 0
        """Bytes known to be fsynced."""
        self.index_saved = False
        """True when the index files on disk describe this segment."""
        self.dropped = 0
        """Bytes recovery truncated from the tail when the segment was opened."""
        self.damaged_tail = False
        """Recovery kept a damaged last batch (of a closed segment), so ``next_offset`` stops
        short of it; the partition moves it up to the next segment's base."""

    @classmethod
    def create(cls, directory: Path, base: int, interval: int) -> Segment:
        """Create an empty segment file."""
        path = segment_path(directory, base)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise storage_error(exc, f"cannot create segment {path}") from None
        return cls(path, base, fd, SegmentIndex(interval))

    @classmethod
    def open(cls, path: Path, interval: int, check: bool) -> Segment:
        """Open an existing segment; scan it (CRC of every batch) when ``check`` or unindexed.

        A bad batch truncates the file there, with a warning saying what was dropped.
        """
        base = segment_base(path)
        if base is None:
            raise InternalError(
                f"{path} is not a segment (a segment is named by a 20-digit base offset and "
                "'.log'); move the file out of the partition directory"
            )
        fd = os.open(path, os.O_RDWR | os.O_APPEND)
        seg = cls(path, base, fd, SegmentIndex(interval))
        size = os.fstat(fd).st_size
        loaded = None if check else SegmentIndex.load(path, size, interval)
        if loaded is not None:
            seg.index, meta = loaded
            seg.size = seg.synced_size = size
            seg.next_offset, seg.max_ts = meta.next_offset, meta.max_timestamp
            seg.first_append = meta.first_append_time
            seg.index_saved = True
            return seg
        seg.recover(size, last=check)
        return seg

    def recover(self, file_size: int, last: bool = True) -> None:
        """Rebuild the index from the batches, keeping damage in the middle, cutting a torn tail.

        A bad batch followed by a whole one (bit rot, a lost page) stays where it is: reads of
        its offsets fail with CORRUPT_DATA naming the file and position, later batches are
        served. A bad batch with nothing whole after it is a torn write, and the file is
        truncated there, unless it is a whole batch closing an older segment (``last``
        False), which is damage too.
        """
        pos = 0
        while True:
            try:
                for at, h, _, _ in self.walk(pos, file_size):
                    self.account(at, h)
                break
            except BatchError as exc:
                found = self.resync(exc.position, file_size, self.next_offset)
                if found is not None:
                    pos = found[0]
                elif not last and self._whole_at(exc.position, file_size):
                    pos = file_size
                    self.damaged_tail = True
                else:
                    self._cut(exc, file_size)
                    break
                log.warning(
                    "log recovery: %s: corrupt batch at byte %d (%s); kept %d bytes that cannot "
                    "be served, the batches after them are",
                    self.path,
                    exc.position,
                    exc,
                    pos - exc.position,
                )
                self.size = pos
                self.index.force_next()
        self.synced_size = self.size

    def _whole_at(self, pos: int, file_size: int) -> bool:
        """True when the batch at ``pos`` claims to end exactly at ``file_size``."""
        head = os.pread(self.fd, HEADER_SIZE, pos)
        return len(head) == HEADER_SIZE and pos + batch_size_at(head, 0) == file_size

    def resync(self, bad: int, end: int, min_offset: int) -> tuple[int, BatchHeader] | None:
        """The next whole, CRC-valid batch after the bad one at ``bad``, or None.

        Only batches from ``min_offset`` on count (a stale copy cannot go back in offsets).
        """
        limit = min(end, bad + RESYNC_WINDOW)
        buf = os.pread(self.fd, limit - bad, bad)
        n = len(buf)
        i = buf.find(b"\x01", 1 + _MAGIC_AT) - _MAGIC_AT
        while 0 < i <= n - HEADER_SIZE:
            try:
                h = check_batch(buf, i, n)
            except BatchError:
                pass
            else:
                if h.base_offset >= min_offset:
                    return bad + i, h
            i = buf.find(b"\x01", i + 1 + _MAGIC_AT) - _MAGIC_AT
        return None

    def _cut(self, exc: BatchError, file_size: int) -> None:
        """Truncate a torn tail at the bad batch."""
        dropped = file_size - exc.position
        log.warning(
            "log recovery: %s: truncated a torn or corrupt tail at byte %d, dropped %d bytes (%s)",
            self.path,
            exc.position,
            dropped,
            exc,
        )
        os.ftruncate(self.fd, exc.position)
        os.fsync(self.fd)
        self.dropped = dropped

    def account(self, pos: int, h: BatchHeader) -> None:
        """Update size, offsets, timestamps and the index for a batch now at ``pos``."""
        self.index.add(h.base_offset - self.base, pos, h.size, self.max_ts)
        if self.size == 0:
            self.first_append = h.append_time
        self.size = pos + h.size
        self.next_offset = h.last_offset + 1
        if h.record_count and h.max_timestamp > self.max_ts:
            self.max_ts = h.max_timestamp

    def write(self, data: bytes, header: BatchHeader) -> None:
        """Append one encoded batch; on a failed write truncate back and raise."""
        pos = self.size
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, pos)
            except OSError as again:
                raise InternalError(
                    f"cannot undo a partial write to {self.path} at byte {pos}: {again}; "
                    "restart the server to recover the log"
                ) from None
            raise storage_error(exc, f"append to {self.path}") from None
        self.account(pos, header)

    def walk(
        self, start: int, end: int, chunk: int = READ_CHUNK
    ) -> Iterator[tuple[int, BatchHeader, bytes, int]]:
        """Checked batches in [start, end): (file position, header, buffer, position in buffer).

        Raises BatchError carrying the file position of the first bad batch.
        """
        pos = start
        while pos < end:
            want = min(end - pos, chunk)
            buf = os.pread(self.fd, want, pos)
            n = len(buf)
            i = 0
            try:
                while n - i >= HEADER_SIZE:
                    if i + batch_size_at(buf, i) > n:
                        break
                    h = check_batch(buf, i, n)
                    yield pos + i, h, buf, i
                    i += h.size
                if i == 0:
                    if n < want or pos + n >= end or n < HEADER_SIZE:
                        check_batch(buf, 0, n)  # raises: the data ends inside this batch
                    size = batch_size_at(buf, 0)
                    if pos + size > end:
                        raise BatchError(f"batch length {size} runs past the end of the data")
                    chunk = size
            except BatchError as exc:
                exc.position = pos + i
                raise
            pos += i

    def intact(
        self, damaged: list[int] | None = None
    ) -> Iterator[tuple[int, BatchHeader, bytes, int]]:
        """Every CRC-valid batch of the segment in order, stepping over damaged ones.

        Like recovery and reads, a bad batch is skipped to the next whole batch after it
        (never one going back in offsets); when nothing whole follows, the walk ends. The
        file position of each bad batch is appended to ``damaged`` when given.
        """
        pos, floor = 0, self.base
        while True:
            try:
                for item in self.walk(pos, self.size):
                    floor = item[1].last_offset + 1
                    yield item
                return
            except BatchError as exc:
                if damaged is not None:
                    damaged.append(exc.position)
                found = self.resync(exc.position, self.size, floor)
                if found is None:
                    return
                pos = found[0]

    def read(self, offset: int, max_bytes: int) -> tuple[list[Record], int]:
        """Records with offset >= ``offset``, whole batches up to about max_bytes.

        Returns the records and the batch bytes used; at least one record when any exists.
        Records that stop short at a damaged batch come with ``DAMAGED`` bytes used, so the
        caller reads no further (the next read, from the damaged offset, reports it).
        """
        start = self.index.lookup(offset - self.base)
        out: list[Record] = []
        used = 0
        while True:
            try:
                for _pos, h, buf, i in self.walk(start, self.size, max(max_bytes, 1 << 16) + 4096):
                    if h.last_offset < offset or h.record_count == 0:
                        continue
                    records = decode_records(buf, i, h)
                    if h.base_offset < offset:
                        records = [r for r in records if r.offset >= offset]
                    out += records
                    used += h.size
                    if out and used >= max_bytes:
                        break
            except BatchError as exc:
                if out:  # serve what came before the damage; the next read reports it
                    return out, DAMAGED
                found = self.resync(exc.position, self.size, self.base)
                if found is None or found[1].base_offset > offset:
                    raise self.corrupt(exc) from None
                start = found[0]  # the damage lies below the offset asked for: skip it
                continue
            return out, used

    def corrupt(self, exc: BatchError) -> CorruptDataError:
        """The error for a bad batch found while serving a request."""
        return CorruptDataError(
            f"corrupt batch in {self.path} at byte {exc.position}: {exc}; the data there "
            "cannot be served (restore the segment or delete records past it)",
            metadata={"file": str(self.path), "position": str(exc.position)},
        )

    def meta(self) -> SegmentMeta:
        """What a saved index records about this segment."""
        return SegmentMeta(self.size, self.next_offset, self.max_ts, self.first_append)

    def save_index(self) -> None:
        """Write the index files for the current contents."""
        self.index.save(self.path, self.meta())
        self.index_saved = True

    def close(self) -> None:
        """Close the descriptor."""
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1

    def delete(self) -> None:
        """Close and remove the segment and its indexes."""
        self.close()
        remove_index(self.path)
        self.path.unlink(missing_ok=True)
