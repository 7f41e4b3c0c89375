"""Sparse offset and time indexes of one segment.

Both live in memory while the segment is open and are saved when it closes: after the
segment's log is fsynced (so an index on disk always describes synced data) and on a clean
shutdown. Each file ends with a trailer holding the log size it describes and a CRC-32C, so
a missing, torn or stale index is detected on open and rebuilt by scanning the log.

``.index``      entries ``<II`` (offset - segment base, file position), then
                trailer ``<4sQqqqII`` (b"WIX1", log size, next offset, max timestamp,
                first append time, entry count, CRC-32C of everything before the CRC)
``.timeindex``  entries ``<qI`` (largest timestamp of the segment's records *before* the
                batch, offset - segment base), strictly increasing in timestamp, then
                trailer ``<4sQII`` (b"WTI1", log size, entry count, CRC-32C)

A time entry (T0, o) means every record of the segment before offset o has a timestamp
below or equal to T0, so the first record at or after any T > T0 is at offset o or later.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

import crc32c

from weir.core.crash_points import crash_point

log = logging.getLogger("weir.broker.log")
_ENTRY = struct.Struct("<II")
_TENTRY = struct.Struct("<qI")
_TRAILER = struct.Struct("<4sQqqqII")
_TTRAILER = struct.Struct("<4sQII")
NO_TIMESTAMP = -(1 << 63)
"""Max timestamp of an empty segment."""


@dataclass(frozen=True, slots=True)
class SegmentMeta:
    """What a saved index records about its segment."""

    log_size: int
    """Size of the .log file the index describes."""
    next_offset: int
    """Offset after the segment's last batch."""
    max_timestamp: int
    """Largest record timestamp, NO_TIMESTAMP when empty."""
    first_append_time: int
    """Broker clock of the first append (segment age), 0 when empty."""


class SegmentIndex:
    """The in-memory sparse index of a segment."""

    __slots__ = ("_since", "interval", "positions", "rel_offsets", "time_offsets", "times")

    def __init__(self, interval: int) -> None:
        self.interval = interval
        """Bytes between entries."""
        self.rel_offsets: list[int] = []
        """Indexed batch offsets, relative to the segment base."""
        self.positions: list[int] = []
        """File positions of those batches."""
        self.times: list[int] = []
        """Time entries: max timestamp before the batch, strictly increasing."""
        self.time_offsets: list[int] = []
        """Relative offsets of the time entries."""
        self._since = interval

    def add(self, rel_offset: int, position: int, size: int, ts_before: int) -> None:
        """Account for a batch appended at ``position``; index it if the interval passed."""
        if self._since >= self.interval:
            self.rel_offsets.append(rel_offset)
            self.positions.append(position)
            if ts_before != NO_TIMESTAMP and (not self.times or ts_before > self.times[-1]):
                self.times.append(ts_before)
                self.time_offsets.append(rel_offset)
            self._since = 0
        self._since += size

    def force_next(self) -> None:
        """Index the next batch whatever the interval (the one after a damaged region)."""
        self._since = self.interval

    def lookup(self, rel_offset: int) -> int:
        """File position of the last indexed batch starting at or before ``rel_offset``."""
        i = bisect_right(self.rel_offsets, rel_offset) - 1
        return self.positions[i] if i >= 0 else 0

    def lookup_time(self, timestamp_ms: int) -> int:
        """A relative offset at or before the first record with timestamp >= timestamp_ms."""
        i = bisect_left(self.times, timestamp_ms) - 1
        return self.time_offsets[i] if i >= 0 else 0

    def save(self, log_path: Path, meta: SegmentMeta) -> None:
        """Write .index and .timeindex next to ``log_path`` (tmp file, then rename)."""
        body = b"".join(
            _ENTRY.pack(o, p) for o, p in zip(self.rel_offsets, self.positions, strict=True)
        )
        body += _TRAILER.pack(
            b"WIX1",
            meta.log_size,
            meta.next_offset,
            meta.max_timestamp,
            meta.first_append_time,
            len(self.positions),
            0,
        )[:-4]
        _write_atomic(log_path.with_suffix(".index"), body + struct.pack("<I", crc32c.crc32c(body)))
        crash_point("index.save.after_offset_index")
        tbody = b"".join(
            _TENTRY.pack(t, o) for t, o in zip(self.times, self.time_offsets, strict=True)
        )
        tbody += _TTRAILER.pack(b"WTI1", meta.log_size, len(self.times), 0)[:-4]
        _write_atomic(
            log_path.with_suffix(".timeindex"), tbody + struct.pack("<I", crc32c.crc32c(tbody))
        )

    @classmethod
    def load(
        cls, log_path: Path, log_size: int, interval: int
    ) -> tuple[SegmentIndex, SegmentMeta] | None:
        """Read a saved index; None when missing, torn or describing another log size."""
        try:
            raw = log_path.with_suffix(".index").read_bytes()
            traw = log_path.with_suffix(".timeindex").read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("index: cannot read the index of %s (%s); rebuilding it", log_path, exc)
            return None
        if len(raw) < _TRAILER.size or len(traw) < _TTRAILER.size:
            return None
        magic, size, next_off, max_ts, first_append, count, crc = _TRAILER.unpack_from(
            raw, len(raw) - _TRAILER.size
        )
        tmagic, tsize, tcount, tcrc = _TTRAILER.unpack_from(traw, len(traw) - _TTRAILER.size)
        if (
            magic != b"WIX1"
            or tmagic != b"WTI1"
            or size != log_size
            or tsize != log_size
            or crc != crc32c.crc32c(raw[:-4])
            or tcrc != crc32c.crc32c(traw[:-4])
            or len(raw) != _TRAILER.size + count * _ENTRY.size
            or len(traw) != _TTRAILER.size + tcount * _TENTRY.size
        ):
            return None
        index = cls(interval)
        for o, p in _ENTRY.iter_unpack(raw[: count * _ENTRY.size]):
            index.rel_offsets.append(o)
            index.positions.append(p)
        for t, o in _TENTRY.iter_unpack(traw[: tcount * _TENTRY.size]):
            index.times.append(t)
            index.time_offsets.append(o)
        if index.positions and index.positions[-1] >= log_size:
            return None
        return index, SegmentMeta(size, next_off, max_ts, first_append)


def remove_index(log_path: Path) -> None:
    """Delete the index files of a segment (missing files are fine, directories go too)."""
    for suffix in (".index", ".timeindex"):
        _remove_cache(log_path.with_suffix(suffix))


def _remove_cache(path: Path) -> None:
    """Delete an index file; a directory in its place (damage) is logged and removed."""
    if path.is_dir() and not path.is_symlink():
        log.warning("index: removing %s, a directory where an index file belongs", path)
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    if path.is_dir():  # the index is a cache: rebuilt, and written where the damage was
        _remove_cache(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    crash_point("index.write.after_tmp")
    os.replace(tmp, path)
