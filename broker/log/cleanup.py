"""Periodic cleanup of one partition: roll by age, compaction, then retention.

Retention deletes whole closed segments from the oldest on, and stops at the first one
it keeps (so the log stays contiguous from its start):

* by time: the segment's newest record timestamp is more than ``retention_ms`` ago;
* by size: deleting it still leaves at least ``retention_bytes`` in the partition (as
  Kafka, the partition may exceed the limit by up to one segment).

``-1`` disables either. The active segment is never deleted; a segment rolls by age on
append and here, so an idle partition's data still expires. Whatever the policy, closed
segments wholly below log start are deleted first. Runs in a worker thread.
"""

from __future__ import annotations

from weir.broker.log.compaction import compact
from weir.broker.log.index import NO_TIMESTAMP
from weir.broker.log.partition import Partition
from weir.broker.log.segment import Segment


def run_cleanup(p: Partition, now: int) -> None:
    """Roll an aged active segment, compact and apply retention as the config says."""
    with p.cleanup_lock:
        p.roll_if_aged(now)
        # Whatever the policy, segments below log start go (as Kafka's
        # deleteLogStartOffsetBreachedSegments): DeleteRecords moved it, then a crash
        # came before it deleted them, or the log-start-offset file says so at open.
        p.drop_segments(p.below_log_start())
        cfg = p.config
        if cfg.cleanup_compact:
            closed = tuple((s.base, s.size) for s in p.segments()[:-1])
            if p.compaction_pending or closed != p.compacted:
                p.compaction_pending = compact(p, now)
                p.compacted = tuple((s.base, s.size) for s in p.segments()[:-1])
        if cfg.cleanup_delete:
            p.drop_segments(expired_segments(p, now))
        p.flush()


def expired_segments(p: Partition, now: int) -> list[Segment]:
    """The oldest closed segments that retention deletes now."""
    cfg = p.config
    segments = p.segments()
    total = sum(s.size for s in segments)
    doomed: list[Segment] = []
    for seg in segments[:-1]:
        by_time = cfg.retention_ms >= 0 and (
            seg.max_ts == NO_TIMESTAMP or now - seg.max_ts > cfg.retention_ms
        )
        by_size = cfg.retention_bytes >= 0 and total - seg.size >= cfg.retention_bytes
        if not (by_time or by_size):
            break
        doomed.append(seg)
        total -= seg.size
    return doomed
