"""Log compaction: keep the newest record per key in the closed segments.

One pass maps every key in the closed segments to its newest offset; a second pass
rewrites each closed segment that has something to remove. The active segment is never
touched, so appends carry on meanwhile. A record is removed when:

* a newer record with the same key exists in the closed segments, and the record is at
  least ``min_compaction_lag_ms`` old (by its timestamp); or
* it is the newest record of its key, a tombstone (value None), and its own timestamp is
  at least ``delete_retention_ms`` (and ``min_compaction_lag_ms``) in the past, and no older
  record of the key survived this pass (so deleting the tombstone resurrects nothing).

A damaged batch (CRC mismatch, found by the walk) is stepped over as reads and recovery do:
its bytes are copied into the rewritten file unchanged (so reads of it still fail with
CORRUPT_DATA naming the file and byte, and nothing it held is lost), its keys are unknown so
they neither remove nor are removed, and the batches after it are compacted as usual.

Records without a key are never removed. Offsets never change: kept records keep theirs,
and each rewritten batch keeps its base offset and last offset delta, so gaps appear. A
batch left empty is dropped, unless it came from an idempotent producer: its header stays
(with no records) so producer state survives a restart.

A rewrite is crash-safe: the new file ``<base>.log.cleaned`` is written and fsynced, the
old index files are removed, then it is renamed over the old ``.log`` (atomic) and the
directory is fsynced. A crash before the rename leaves the old segment whole (the stray
``.cleaned`` file is deleted on open); a crash after it leaves the new one, whose index is
rebuilt on open.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from weir.broker.log.api import NO_PRODUCER, NewRecord, ProducerState, Record, StorageConfig
from weir.broker.log.batch import (
    BatchHeader,
    decode_keys,
    decode_records,
    encode_batch,
    peek_header,
)
from weir.broker.log.index import SegmentIndex
from weir.broker.log.partition import Partition
from weir.broker.log.segment import Segment, storage_error
from weir.core.crash_points import crash_point

log = logging.getLogger("weir.broker.log")

_COPY_CHUNK = 1 << 20


def _batches(seg: Segment) -> Iterator[tuple[int, BatchHeader, bytes, int]]:
    damaged: list[int] = []
    yield from seg.intact(damaged)
    for position in damaged:
        log.warning(
            "compaction: %s: kept the damaged batch at byte %d as it is", seg.path, position
        )


class _Plan:
    """What the compaction pass knows and decides."""

    def __init__(self, config: StorageConfig, now: int) -> None:
        self.config = config
        self.now = now
        self.latest: dict[bytes, int] = {}
        self.held: set[bytes] = set()
        self.pending = False

    def keep(self, r: Record) -> bool:
        key = r.key
        if key is None:
            return True
        age = self.now - r.timestamp_ms
        young = age < self.config.min_compaction_lag_ms
        if self.latest.get(key, r.offset) != r.offset:
            if young:
                self.held.add(key)
                self.pending = True
                return True
            return False
        if r.value is None:
            if young or age < self.config.delete_retention_ms or key in self.held:
                self.pending = True
                return True
            return False
        return True


def compact(p: Partition, now: int) -> bool:
    """Compact the closed segments of ``p`` once.

    Returns True when something was kept only because of its age (a tombstone or a record
    under the minimum lag), so a later run may remove more.
    """
    p.flush()
    closed = p.segments()[:-1]
    plan = _Plan(p.config, now)
    for seg in closed:
        for _, h, buf, i in seg.intact():  # the rewrite pass reports the damage
            for offset, key in decode_keys(buf, i, h):
                if key is not None:
                    plan.latest[key] = offset
    rewrote = False
    for seg in closed:
        if rewrote:
            crash_point("compaction.between_segments")
        rewrote = _rewrite(p, seg, plan) or rewrote
    return plan.pending


def _rewrite(p: Partition, seg: Segment, plan: _Plan) -> bool:
    """Rewrite ``seg`` without what the plan removes; False when nothing changed."""
    prefix: list[tuple[int, BatchHeader]] = []
    out: _Writer | None = None
    end = 0  # where the last intact batch ended: bytes up to the next one are damaged
    try:
        for pos, h, buf, i in _batches(seg):
            records = decode_records(buf, i, h)
            keep = [r for r in records if plan.keep(r)]
            changed = len(keep) != len(records)
            gap, end = end, pos + h.size
            if out is None:
                if not changed:
                    prefix.append((pos, h))
                    continue
                out = _Writer(seg, prefix, pos, p.config.index_interval_bytes)
            elif gap < pos:
                out.copy_damaged(seg, gap, pos)
            if not changed:
                out.append(buf[i : i + h.size])
            elif keep or h.producer_id != NO_PRODUCER:
                out.append(
                    encode_batch(
                        h.base_offset,
                        [_as_new(r) for r in keep],
                        ProducerState(h.producer_id, h.producer_epoch, h.base_sequence),
                        h.append_time,
                        offset_deltas=[r.offset - h.base_offset for r in keep],
                        last_offset_delta=h.last_offset_delta,
                    )
                )
        if out is None:
            return False
        if end < seg.size:  # damage after the last intact batch
            out.copy_damaged(seg, end, seg.size)
            out.segment.next_offset = max(out.segment.next_offset, seg.next_offset)
        out.finish()
    except BaseException:
        if out is not None:
            out.abandon()
        raise
    p.fsyncs += 1
    crash_point("compaction.after_cleaned_written")
    p.replace_segment(seg, out.segment, out.tmp)
    return True


def _as_new(r: Record) -> NewRecord:
    return NewRecord(
        r.value,
        r.key,
        r.headers,
        r.timestamp_ms,
        r.key_schema_id,
        r.value_schema_id,
        r.value_schema_version,
    )


class _Writer:
    """The ``.cleaned`` file being written for one segment."""

    def __init__(
        self, seg: Segment, prefix: list[tuple[int, BatchHeader]], end: int, interval: int
    ) -> None:
        self.tmp = seg.path.with_name(seg.path.name + ".cleaned")
        try:
            fd = os.open(self.tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        except OSError as exc:
            raise storage_error(exc, f"compaction of {seg.path}") from None
        self.segment = Segment(self.tmp, seg.base, fd, SegmentIndex(interval))
        try:
            self._copy(seg, 0, end)
        except BaseException:
            self.abandon()
            raise
        for at, h in prefix:
            if at != self.segment.size:  # damaged bytes before this batch
                self.segment.index.force_next()
            self.segment.account(at, h)
        if self.segment.size != end:
            self.segment.size = end
            self.segment.index.force_next()

    def _copy(self, seg: Segment, start: int, end: int) -> None:
        """Copy ``seg``'s bytes [start, end) to the end of the new file unchanged."""
        pos = start
        try:
            while pos < end:
                chunk = os.pread(seg.fd, min(_COPY_CHUNK, end - pos), pos)
                if not chunk:
                    raise OSError(0, f"{seg.path} ends at byte {pos}, before {end}")
                view = memoryview(chunk)
                while view:
                    view = view[os.write(self.segment.fd, view) :]
                pos += len(chunk)
        except OSError as exc:
            raise storage_error(exc, f"compaction of {seg.path}") from None

    def copy_damaged(self, seg: Segment, start: int, end: int) -> None:
        """Keep a damaged region of ``seg`` as it is; index the batch after it."""
        self._copy(seg, start, end)
        self.segment.size += end - start
        self.segment.index.force_next()

    def append(self, data: bytes) -> None:
        self.segment.write(data, peek_header(data, 0))

    def finish(self) -> None:
        try:
            os.fsync(self.segment.fd)
        except OSError as exc:
            raise storage_error(exc, f"fsync of {self.tmp}") from None

    def abandon(self) -> None:
        self.segment.close()
        self.tmp.unlink(missing_ok=True)
