"""acks and group commit, the synchronous partition API, long-poll wake-ups, disk full."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from weir.broker.log.api import (
    Acks,
    NewRecord,
    PartitionId,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore

TP = TopicPartition(TopicName("d"), PartitionId(0))


def test_concurrent_acks_all_share_fsyncs(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        part = store.partition(TP)
        n = 300
        results = await asyncio.gather(
            *(store.append(TP, [NewRecord(b"%d" % i)], Acks.ALL) for i in range(n))
        )
        assert sorted(r.base_offset for r in results) == list(range(n))
        assert 1 <= part.fsyncs < n / 3
        assert part.segments()[-1].synced_size == part.segments()[-1].size
        await store.close()

    asyncio.run(main())


def test_acks_all_returns_only_after_fsync_and_off_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fsync = os.fsync
    fsync_threads: list[int] = []

    def slow_fsync(fd: int) -> None:
        fsync_threads.append(threading.get_ident())
        time.sleep(0.2)
        real_fsync(fd)

    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        part = store.partition(TP)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        monkeypatch.setattr(os, "fsync", slow_fsync)
        await store.append(TP, [NewRecord(b"a")], Acks.LEADER)
        assert part.fsyncs == 0
        await store.append(TP, [NewRecord(b"b")], Acks.ALL)
        assert part.fsyncs == 1
        assert part.segments()[-1].synced_size == part.segments()[-1].size
        assert ticks >= 10  # the loop kept running during the 0.2 s fsync
        assert threading.get_ident() not in fsync_threads
        tick_task.cancel()
        monkeypatch.setattr(os, "fsync", real_fsync)
        await store.close()

    asyncio.run(main())


def test_sync_api_from_a_thread(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig(segment_bytes=200))
        part = store.partition(TP)

        def writer() -> list[int]:
            offsets: list[int] = []
            for i in range(20):
                r = part.append([NewRecord(b"sync%d" % i, b"k")], Acks.ALL)
                offsets.append(r.base_offset)
            part.flush()
            return offsets

        async_offsets = [
            (await store.append(TP, [NewRecord(b"async%d" % i)])).base_offset for i in range(5)
        ]
        sync_offsets = await asyncio.to_thread(writer)
        assert sorted(async_offsets + sync_offsets) == list(range(25))
        values = [r.value for r in part.read(0, 1 << 20)]
        assert values[5:] == [b"sync%d" % i for i in range(20)]
        assert part.offsets().log_end == 25
        await store.close()

    asyncio.run(main())


def test_long_poll_wakes_on_append_and_times_out(tmp_path: Path) -> None:
    async def main() -> None:
        store = EmbeddedLogStore(tmp_path)
        await store.create_partition(TP, StorageConfig())
        loop = asyncio.get_running_loop()

        start = loop.time()
        await store.wait_for_append(TP, 0, 0.15)
        assert loop.time() - start >= 0.14

        waiters = [asyncio.create_task(store.wait_for_append(TP, 0, 10)) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert not any(w.done() for w in waiters)
        start = loop.time()
        await store.append(TP, [NewRecord(b"x")], Acks.NONE)
        await asyncio.wait_for(asyncio.gather(*waiters), 2)
        assert loop.time() - start < 1

        # a write through the synchronous API from another thread wakes the loop too
        waiter = asyncio.create_task(store.wait_for_append(TP, 1, 10))
        await asyncio.sleep(0.05)
        threading.Thread(
            target=store.partition(TP).append, args=([NewRecord(b"y")], Acks.LEADER)
        ).start()
        start = loop.time()
        await asyncio.wait_for(waiter, 2)
        assert loop.time() - start < 1

        start = loop.time()
        await store.wait_for_append(TP, 0, 10)  # already there: immediate
        assert loop.time() - start < 0.1
        await store.close()

    asyncio.run(main())


CHILD = r"""
import asyncio, json, resource, signal, sys
from pathlib import Path
from weir.broker.log.api import *
from weir.broker.log.engine import EmbeddedLogStore
from weir.core.errors import StorageFullError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
tp = TopicPartition(TopicName("d"), PartitionId(0))

async def main():
    store = EmbeddedLogStore(Path(sys.argv[1]))
    await store.create_partition(tp, StorageConfig())
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (50_000, hard))
    acked, error = [], None
    for i in range(200):
        try:
            r = await store.append(tp, [NewRecord(b"%04d" % i + b"." * 900)] * 3, Acks.ALL)
            acked.append(r.base_offset)
        except StorageFullError as exc:
            error = {"reason": exc.reason, "message": str(exc), "retriable": exc.retriable}
            break
    size = store.partition(tp).segments()[-1].size
    file_size = Path(store.partition(tp).segments()[-1].path).stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    after = await store.append(tp, [NewRecord(b"after")], Acks.ALL)
    await store.close()
    print(json.dumps({"acked": acked, "error": error, "size": size, "file_size": file_size,
                      "after": after.base_offset}))

asyncio.run(main())
"""


def test_disk_full_truncates_and_recovers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["error"] is not None, out.stderr
    assert result["error"]["reason"] == "STORAGE_FULL"
    assert result["error"]["retriable"] is True
    assert "no space left" in result["error"]["message"]
    acked = result["acked"]
    assert acked == list(range(0, 3 * len(acked), 3))
    assert 0 < len(acked) < 200
    assert result["file_size"] == result["size"] <= 50_000  # the partial write was undone
    assert result["after"] == 3 * len(acked)

    async def check() -> None:
        store = EmbeddedLogStore(tmp_path)
        records = await store.read(TP, 0, 1 << 24)
        assert [r.offset for r in records] == list(range(3 * len(acked) + 1))
        assert records[-1].value == b"after"
        await store.close()

    asyncio.run(check())
    assert not [r for r in caplog.records if "truncated" in r.getMessage()]
