"""Log engine benchmark: append and read throughput of the embedded store.

Appends go through ``EmbeddedLogStore.append`` on one partition: 100 B and 1 KiB values,
batches of 1, 100 and 1000 records, acks LEADER and ALL. For acks ALL, ``--concurrency``
appends are in flight at once (group commit shares their fsyncs). Reads walk the whole
partition from offset 0 with 1 MiB fetches. Data lives in a temp dir on the default disk.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._report import report
from weir.broker.log.api import (
    Acks,
    NewRecord,
    PartitionId,
    StorageConfig,
    TopicName,
    TopicPartition,
)
from weir.broker.log.engine import EmbeddedLogStore

TP = TopicPartition(TopicName("bench"), PartitionId(0))


async def one_case(
    root: Path, value_size: int, batch: int, acks: Acks, *, total: int, concurrency: int
) -> dict[str, Any]:
    store = EmbeddedLogStore(root)
    await store.create_partition(TP, StorageConfig(segment_bytes=256 << 20))
    records = [NewRecord(b"v" * value_size, b"key-%06d" % i) for i in range(batch)]
    batches = max(1, total // batch)
    lanes = min(concurrency, batches) if acks == Acks.ALL else 1

    async def lane(count: int) -> None:
        for _ in range(count):
            await store.append(TP, records, acks)

    start = time.perf_counter()
    await asyncio.gather(*(lane(batches // lanes) for _ in range(lanes)))
    elapsed = time.perf_counter() - start
    written = (batches // lanes) * lanes * batch
    fsyncs = store.partition(TP).fsyncs

    start = time.perf_counter()
    offset, read = 0, 0
    end = store.offsets(TP).log_end
    while offset < end:
        got = await store.read(TP, offset, 1 << 20)
        read += len(got)
        offset = got[-1].offset + 1
    read_elapsed = time.perf_counter() - start
    await store.close()
    mb = written * (value_size + 10) / 1e6
    return {
        "value_bytes": value_size,
        "batch": batch,
        "acks": acks.name,
        "in_flight": lanes,
        "records": written,
        "append_rec_s": written / elapsed,
        "append_MB_s": mb / elapsed,
        "fsyncs": fsyncs,
        "read_rec_s": read / read_elapsed,
        "read_MB_s": read * (value_size + 10) / 1e6 / read_elapsed,
    }


def run(total: int, concurrency: int) -> list[dict[str, Any]]:
    rows = []
    for value_size in (100, 1024):
        for batch in (1, 100, 1000):
            for acks in (Acks.LEADER, Acks.ALL):
                n = total if batch > 1 else total // 10
                with tempfile.TemporaryDirectory() as tmp:
                    rows.append(
                        asyncio.run(
                            one_case(
                                Path(tmp), value_size, batch, acks, total=n, concurrency=concurrency
                            )
                        )
                    )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--records", type=int, default=200_000, help="records per case")
    parser.add_argument("--concurrency", type=int, default=16, help="acks=all appends in flight")
    args = parser.parse_args(argv)
    total = 2_000 if args.smoke else args.records
    report("log_engine", run(total, args.concurrency))


if __name__ == "__main__":
    main()
