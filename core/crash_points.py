"""Deterministic crash points: kill the process at a named step of a multi-step durable write.

Random SIGKILLs rarely land inside the rare multi-step operations (a segment roll, a
compaction swap, a topic delete) where crash bugs hide. A crash point names one such step;
``crash_point(name)`` does nothing unless ``WEIR_CRASH_AT`` named it when the process
started. Then, at that step, it writes one line to stderr naming the point and ends the
process at once with ``os._exit(137)``: no cleanup, no flush, like SIGKILL (the kernel's
page cache keeps what was written, as after a real process crash).

``WEIR_CRASH_AT=NAME`` crashes at the first hit, ``NAME:N`` at the Nth. The variable is read
once at import; when it is unset ``crash_point`` costs one global check. Keep calls out of
per-record loops anyway.

The points (name, then the step it stops after; a unit test keeps this list and the calls in
the code equal):

data_lock.after_lock                    the data-dir lock is held, nothing is opened yet
partition.roll.after_new_file           a new active segment file exists, the old one is unsynced
partition.append.after_write            a batch is written to the OS, not fsynced or acked
partition.flush.after_fsync             segments are fsynced, the waiting appends not yet acked
partition.flush.before_index_save       a closed, synced segment's index is about to be written
partition.flush.after_index_save        a closed segment's index files are written
index.save.after_offset_index           .index is written, .timeindex not yet
index.write.after_tmp                   an index's .tmp file is written, not yet renamed
log_start.after_tmp                     log-start-offset.tmp is fsynced, not yet renamed
log_start.after_rename                  log-start-offset is renamed, the directory not fsynced
segments.drop.before_log_start          segments are dropped in memory, log-start-offset unwritten
segments.drop.after_log_start           log-start-offset is written, no segment deleted yet
segments.drop.between_deletes           one of several doomed segments is deleted
compaction.after_cleaned_written        a segment's .cleaned file is written and fsynced
compaction.after_index_removed          the old segment's index is removed, before the rename
compaction.after_rename                 .cleaned is renamed over the old segment, dir unsynced
compaction.between_segments             one closed segment is compacted, the next one not yet
partition.delete.after_close            a deleted partition is closed, its directory in place
partition.delete.after_rename           its directory is renamed to *.deleting, not yet removed
topics.write.after_tmp                  topics.tmp is written and fsynced, not yet renamed
topics.write.after_rename               topics.json is renamed into place, the dir not fsynced
topics.create.after_first_partition     the first of several new partitions exists
topics.create.after_partitions          every partition exists, topics.json does not name them
topics.create.after_save                topics.json names the new topic, the reply is unsent
topics.delete.after_save                topics.json no longer names the topic, dirs remain
topics.delete.after_first_partition     the first of several partitions is removed
topics.add_partitions.after_first       the first of several new partitions exists
topics.add_partitions.after_partitions  the new partitions exist, topics.json has the old count
groups.commit.after_append              an offset commit is fsynced, not yet applied or acked
schemas.append.after_append             a registry record is fsynced on _schemas, not acked
acl.add.after_append                    new ACLs are fsynced on __acls, not applied or acked
acl.remove.after_append                 ACL tombstones are fsynced on __acls, not applied or acked
"""

from __future__ import annotations

import itertools
import os
import re

ENV = "WEIR_CRASH_AT"
"""The environment variable naming the armed point."""
EXIT_CODE = 137
"""The exit status of a crash (the shell's code for SIGKILL)."""

POINTS: frozenset[str] = frozenset(
    re.findall(r"^([a-z_]+(?:\.[a-z_]+)+) {2,}\S", __doc__ or "", flags=re.MULTILINE)
)
"""Every documented point name."""


def parse(spec: str) -> tuple[str, int]:
    """``NAME`` or ``NAME:N`` as (name, hit number); ValueError naming what is wrong."""
    name, sep, count = spec.strip().partition(":")
    if name not in POINTS:
        raise ValueError(
            f"{ENV}={spec!r} names no crash point; known points: {', '.join(sorted(POINTS))}"
        )
    if not sep:
        return name, 1
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"{ENV}={spec!r}: the hit number after ':' must be 1 or more")
    return name, int(count)


def _armed() -> tuple[str, int] | None:
    spec = os.environ.get(ENV, "")
    if not spec:
        return None
    try:
        return parse(spec)
    except ValueError as exc:  # a typo must not pass as "never reached"
        os.write(2, f"weir: {exc}\n".encode())
        os._exit(2)


_TARGET = _armed()
_ARMED = _TARGET is not None
_hits = itertools.count(1)  # next() is atomic under the GIL: each hit gets its own number


def crash_point(name: str) -> None:
    """End the process here (exit 137) when ``WEIR_CRASH_AT`` names this point and hit."""
    if not _ARMED:
        return
    _hit(name)


def _hit(name: str) -> None:
    assert _TARGET is not None
    target, at = _TARGET
    if name != target or next(_hits) != at:
        return
    os.write(2, f"weir: crash point {name} hit ({at}), exiting {EXIT_CODE}\n".encode())
    os._exit(EXIT_CODE)
