"""Segments: rolling by size and age, reads across segments, indexes, naming, ranges."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from weir.broker.log.api import (
    NewRecord,
    PartitionId,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import (
    InvalidArgumentError,
    InvalidConfigError,
    OffsetOutOfRangeError,
    PartitionNotFoundError,
)

TP = TopicPartition(TopicName("orders.v1-eu_x"), PartitionId(3))


class Clock:
    """A settable broker clock."""

    def __init__(self, now: int = 1_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def rec(i: int, size: int = 10, ts: int | None = None) -> NewRecord:
    return NewRecord(str(i).encode().ljust(size, b"."), b"k%d" % i, timestamp_ms=ts or i)


def seg_files(root: Path, tp: TopicPartition = TP) -> list[str]:
    return sorted(p.name for p in (root / f"{tp.topic}-{tp.partition}").glob("*.log"))


async def fill(store: EmbeddedLogStore, n: int, size: int = 10) -> None:
    for i in range(n):
        await store.append(TP, [rec(i, size)])


def test_roll_by_size_and_read_across_segments(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig(segment_bytes=400))
        await fill(store, 30)
        files = seg_files(tmp_path)
        assert len(files) > 3
        assert files[0] == "00000000000000000000.log"
        assert all(len(f) == len("00000000000000000000.log") for f in files)
        sizes = [(tmp_path / f"{TP.topic}-3" / f).stat().st_size for f in files]
        assert max(sizes) <= 400
        records = await store.read(TP, 0, 1 << 20)
        assert [r.offset for r in records] == list(range(30))
        assert [r.value for r in records] == [rec(i).value for i in range(30)]
        for start in (5, 13, 29):
            assert (await store.read(TP, start, 1 << 20))[0].offset == start
        assert await store.read(TP, 30, 100) == []
        await store.close()

    asyncio.run(main())


def test_roll_by_age_on_append_and_in_cleanup(tmp_path: Path) -> None:
    async def main() -> None:
        clock = Clock()
        store = EmbeddedLogStore(tmp_path, now_ms=clock)
        await store.create_partition(TP, StorageConfig(segment_ms=1_000))
        await store.append(TP, [rec(0)])
        clock.now += 999
        await store.append(TP, [rec(1)])
        assert len(seg_files(tmp_path)) == 1
        clock.now += 1
        await store.append(TP, [rec(2)])
        assert seg_files(tmp_path)[-1] == f"{2:020d}.log"
        clock.now += 5_000
        await store.run_cleanup()
        assert seg_files(tmp_path)[-1] == f"{3:020d}.log"
        await store.run_cleanup()  # an empty active segment does not roll again
        assert len(seg_files(tmp_path)) == 3
        assert [r.offset for r in await store.read(TP, 0, 1 << 20)] == [0, 1, 2]
        await store.close()

    asyncio.run(main())


def test_max_bytes_returns_whole_batches_and_at_least_one(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        await store.append(TP, [rec(i, 1000) for i in range(5)])
        await store.append(TP, [rec(i, 1000) for i in range(5, 10)])
        one = await store.read(TP, 0, 1)
        assert [r.offset for r in one] == [0, 1, 2, 3, 4]
        mid = await store.read(TP, 3, 1)
        assert [r.offset for r in mid] == [3, 4]
        both = await store.read(TP, 3, 6000)
        assert [r.offset for r in both] == list(range(3, 10))
        await store.close()

    asyncio.run(main())


def test_out_of_range_carries_bounds(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        await fill(store, 3)
        for bad in (-1, 4, 100):
            with pytest.raises(OffsetOutOfRangeError) as info:
                await store.read(TP, bad, 100)
            assert info.value.metadata == {"log_start": "0", "log_end": "3"}
        await store.close()

    asyncio.run(main())


def test_reopen_uses_saved_indexes_and_keeps_everything(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        cfg = StorageConfig(segment_bytes=2000, index_interval_bytes=100)
        await store.create_partition(TP, cfg)
        for i in range(0, 200, 4):
            await store.append(TP, [rec(j, 20, ts=10 * j) for j in range(i, i + 4)])
        await store.close()
        directory = tmp_path / f"{TP.topic}-{TP.partition}"
        closed = seg_files(tmp_path)[:-1]
        assert closed
        for name in closed:
            assert (directory / name).with_suffix(".index").stat().st_size > 16
            assert (directory / name).with_suffix(".timeindex").exists()
        store = EmbeddedLogStore(tmp_path)
        assert store.partitions() == [TP]
        store.set_config(TP, cfg)
        assert store.offsets(TP).log_end == 200
        for start in (0, 1, 57, 150, 199):
            got = await store.read(TP, start, 50)
            assert got[0].offset == start
            assert got[0].value == rec(start, 20).value
        for ts, want in ((0, 0), (5, 1), (10, 1), (995, 100), (1990, 199)):
            assert await store.offset_for_time(TP, ts) == want
        assert await store.offset_for_time(TP, 1991) is None
        await store.close()

    asyncio.run(main())


def test_offset_for_time_with_unordered_timestamps(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig(segment_bytes=300, index_interval_bytes=0))
        stamps = [50, 10, 70, 20, 90, 30, 60]
        for i, ts in enumerate(stamps):
            await store.append(TP, [rec(i, ts=ts)])
        for target in (0, 10, 11, 50, 51, 65, 70, 71, 90):
            want = next((i for i, ts in enumerate(stamps) if ts >= target), None)
            assert await store.offset_for_time(TP, target) == want, target
        assert await store.offset_for_time(TP, 91) is None
        await store.close()

    asyncio.run(main())


def test_topic_names_with_dashes_do_not_clash(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        a = TopicPartition(TopicName("a-1"), PartitionId(2))
        b = TopicPartition(TopicName("a"), PartitionId(12))
        c = TopicPartition(TopicName("a-12"), PartitionId(0))
        for tp in (a, b, c):
            await store.create_partition(tp, StorageConfig())
            await store.append(tp, [NewRecord(tp.topic.encode())])
        await store.close()
        store = EmbeddedLogStore(tmp_path)
        assert set(store.partitions()) == {a, b, c}
        for tp in (a, b, c):
            assert (await store.read(tp, 0, 100))[0].value == tp.topic.encode()
        await store.close()

    asyncio.run(main())


def test_bad_names_configs_and_missing_partitions(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        for name in ("", ".", "..", "a/b", "x" * 250, "sp ace"):
            with pytest.raises(InvalidArgumentError, match="topic name"):
                await store.create_partition(
                    TopicPartition(TopicName(name), PartitionId(0)), StorageConfig()
                )
        with pytest.raises(InvalidConfigError, match="segment_bytes") as info:
            await store.create_partition(TP, StorageConfig(segment_bytes=0))
        assert info.value.metadata["key"] == "segment_bytes"
        with pytest.raises(PartitionNotFoundError):
            await store.read(TP, 0, 10)
        await store.create_partition(TP, StorageConfig())
        with pytest.raises(InvalidArgumentError, match="at least one record"):
            await store.append(TP, [])
        await store.delete_partition(TP)
        assert store.partitions() == []
        assert not (tmp_path / f"{TP.topic}-{TP.partition}").exists()
        await store.close()

    asyncio.run(main())
