"""Retention by time and size, delete_records, and compaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from weir.broker.log.api import (
    NewRecord,
    PartitionId,
    ProducerState,
    Record,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import OffsetOutOfRangeError

TP = TopicPartition(TopicName("c"), PartitionId(1))
HOUR = 3_600_000


class Clock:
    def __init__(self, now: int = 10 * HOUR) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def seg_bases(store: EmbeddedLogStore) -> list[int]:
    return [s.base for s in store.partition(TP).segments()]


async def read_all(store: EmbeddedLogStore) -> list[Record]:
    return await store.read(TP, store.offsets(TP).log_start, 1 << 24)


def test_retention_by_time_deletes_whole_closed_segments(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        cfg = StorageConfig(segment_bytes=400, retention_ms=HOUR)
        await store.create_partition(TP, cfg)
        for i in range(40):
            ts = clock.now - 3 * HOUR if i < 20 else clock.now
            await store.append(TP, [NewRecord(b"v" * 20, timestamp_ms=ts)])
        before = seg_bases(store)
        await store.run_cleanup()
        after = seg_bases(store)
        start = store.offsets(TP).log_start
        assert after == [b for b in before if b >= start]
        assert 0 < start <= 20
        # everything older than retention is gone unless it shares a segment with newer data
        records = await read_all(store)
        assert [r.offset for r in records] == list(range(start, 40))
        old_left = [r for r in records if r.timestamp_ms < clock.now - HOUR]
        assert all(r.offset >= after[0] for r in old_left)
        with pytest.raises(OffsetOutOfRangeError) as info:
            await store.read(TP, 0, 100)
        assert info.value.metadata["log_start"] == str(start)
        # the active segment is never deleted, even when everything expired
        clock.now += 10 * HOUR
        await store.run_cleanup()
        assert store.offsets(TP).log_end == 40
        assert len(seg_bases(store)) == 1
        await store.close()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        assert store.offsets(TP).log_start == seg_bases(store)[0]
        assert store.offsets(TP).log_end == 40
        await store.close()

    asyncio.run(main())


def test_retention_by_size(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        cfg = StorageConfig(segment_bytes=500, retention_bytes=1200, retention_ms=-1)
        await store.create_partition(TP, cfg)
        for _ in range(50):
            await store.append(TP, [NewRecord(b"v" * 50, timestamp_ms=1)])
        await store.run_cleanup()
        sizes = [s.size for s in store.partition(TP).segments()]
        assert sum(sizes) >= 1200
        assert sum(sizes) - sizes[0] < 1200
        start = store.offsets(TP).log_start
        assert start > 0
        assert [r.offset for r in await read_all(store)] == list(range(start, 50))
        await store.close()

    asyncio.run(main())


def test_delete_records(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig(segment_bytes=300))
        for i in range(30):
            await store.append(TP, [NewRecord(b"%d" % i)])
        segs_before = len(seg_bases(store))
        assert await store.delete_records(TP, 17) == 17
        assert store.offsets(TP).log_start == 17
        assert all(s.next_offset > 17 for s in store.partition(TP).segments())
        assert len(seg_bases(store)) < segs_before
        assert [r.offset for r in await store.read(TP, 17, 1 << 20)] == list(range(17, 30))
        with pytest.raises(OffsetOutOfRangeError):
            await store.read(TP, 16, 100)
        assert await store.delete_records(TP, 5) == 17  # never moves back
        with pytest.raises(OffsetOutOfRangeError):
            await store.delete_records(TP, 31)
        assert await store.offset_for_time(TP, 0) == 17
        await store.close()

        store = EmbeddedLogStore(tmp_path)
        assert store.offsets(TP).log_start == 17
        assert await store.delete_records(TP, 30) == 30
        assert await store.read(TP, 30, 100) == []
        assert (await store.append(TP, [NewRecord(b"x")])).base_offset == 30
        await store.close()
        store = EmbeddedLogStore(tmp_path)
        assert store.offsets(TP).log_start == 30
        assert [r.value for r in await store.read(TP, 30, 100)] == [b"x"]
        await store.close()

    asyncio.run(main())


def compact_cfg(**kw: int) -> StorageConfig:
    base = {
        "segment_bytes": 350,
        "cleanup_compact": True,
        "cleanup_delete": False,
        "delete_retention_ms": HOUR,
        "min_compaction_lag_ms": 0,
    }
    return StorageConfig(**{**base, **kw})  # type: ignore[arg-type]


def test_compaction_keeps_newest_per_key_and_offsets(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        await store.create_partition(TP, compact_cfg())
        written: list[tuple[int, bytes | None, bytes | None]] = []
        for i in range(60):
            key = None if i % 10 == 9 else b"k%d" % (i % 4)
            r = await store.append(TP, [NewRecord(b"v%d" % i, key, timestamp_ms=clock.now)])
            written.append((r.base_offset, key, b"v%d" % i))
        clock.now += 2 * HOUR
        closed_end = store.partition(TP).segments()[-1].base
        await store.run_cleanup()
        got: dict[int, tuple[bytes | None, bytes | None]] = {
            r.offset: (r.key, r.value) for r in await read_all(store)
        }
        newest_closed: dict[bytes, int] = {}
        for off, key, _ in written:
            if key is not None and off < closed_end:
                newest_closed[key] = off
        for off, key, value in written:
            keep = off >= closed_end or key is None or newest_closed[key] == off
            assert (off in got) == keep, off
            if keep:
                assert got[off] == (key, value)
        assert store.offsets(TP).log_end == 60
        assert len(got) < 60
        # a later read from a removed offset starts at the next kept one
        first_gap = next(o for o in range(60) if o not in got)
        assert (await store.read(TP, first_gap, 10))[0].offset > first_gap
        await store.close()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        assert {r.offset: (r.key, r.value) for r in await read_all(store)} == got
        await store.close()

    asyncio.run(main())


def test_tombstones_live_for_delete_retention(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        await store.create_partition(TP, compact_cfg())
        await store.append(TP, [NewRecord(b"old", b"gone", timestamp_ms=clock.now)])
        await store.append(TP, [NewRecord(b"stay", b"kept", timestamp_ms=clock.now)])
        await store.append(TP, [NewRecord(None, b"gone", timestamp_ms=clock.now)])
        store.partition(TP).roll()
        await store.append(TP, [NewRecord(b"active", b"other", timestamp_ms=clock.now)])
        clock.now += HOUR // 2
        await store.run_cleanup()
        got = [(r.offset, r.key, r.value) for r in await read_all(store)]
        assert got == [(1, b"kept", b"stay"), (2, b"gone", None), (3, b"other", b"active")]
        clock.now += HOUR
        await store.run_cleanup()
        got = [(r.offset, r.key, r.value) for r in await read_all(store)]
        assert got == [(1, b"kept", b"stay"), (3, b"other", b"active")]
        await store.close()

    asyncio.run(main())


def test_min_compaction_lag_protects_young_records(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        await store.create_partition(TP, compact_cfg(min_compaction_lag_ms=HOUR))
        for i in range(4):
            await store.append(TP, [NewRecord(b"a%d" % i, b"a", timestamp_ms=clock.now - 2 * HOUR)])
        for i in range(4):
            await store.append(TP, [NewRecord(b"b%d" % i, b"a", timestamp_ms=clock.now)])
        await store.append(TP, [NewRecord(None, b"a", timestamp_ms=clock.now - 3 * HOUR)])
        store.partition(TP).roll()
        await store.run_cleanup()
        values = [r.value for r in await read_all(store)]
        # old superseded records go; young ones stay; the old tombstone stays because
        # younger values of its key survived (deleting it would resurrect them)
        assert values == [b"b0", b"b1", b"b2", b"b3", None]
        clock.now += 2 * HOUR
        await store.run_cleanup()
        assert [r.value for r in await read_all(store)] == []
        assert store.offsets(TP).log_end == 9
        await store.close()

    asyncio.run(main())


def test_compact_and_delete_and_idempotent_headers(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        cfg = compact_cfg(segment_bytes=300)
        await store.create_partition(TP, cfg)
        for i in range(12):
            await store.append(
                TP,
                [NewRecord(b"x%d" % i, b"same", timestamp_ms=clock.now - 5 * HOUR)],
                producer=ProducerState(producer_id=5, epoch=0, base_sequence=i),
            )
        store.partition(TP).roll()
        await store.run_cleanup()
        assert [r.value for r in await read_all(store)] == [b"x11"]
        await store.close()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        # producer state survived compaction and reopen: retry of the last batch is a dup
        dup = await store.append(TP, [NewRecord(b"x11", b"same")], producer=ProducerState(5, 0, 11))
        assert dup.duplicate
        assert dup.base_offset == 11
        store.set_config(TP, compact_cfg(segment_bytes=300, cleanup_delete=True, retention_ms=HOUR))
        await store.run_cleanup()
        assert store.offsets(TP).log_start == 12
        assert await read_all(store) == []
        await store.close()

    asyncio.run(main())


def test_expired_tombstone_stays_while_an_older_value_is_held_by_lag(tmp_path: Path) -> None:
    """CreateTime may go backwards: an old-stamped tombstone must not resurrect a value."""

    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        await store.create_partition(
            TP, compact_cfg(min_compaction_lag_ms=HOUR, delete_retention_ms=HOUR)
        )
        await store.append(TP, [NewRecord(b"young", b"k", timestamp_ms=clock.now)])
        await store.append(TP, [NewRecord(None, b"k", timestamp_ms=clock.now - 5 * HOUR)])
        store.partition(TP).roll()
        await store.run_cleanup()
        assert [(r.offset, r.value) for r in await read_all(store)] == [(0, b"young"), (1, None)]
        clock.now += 2 * HOUR
        await store.run_cleanup()
        assert await read_all(store) == []
        await store.close()

    asyncio.run(main())
