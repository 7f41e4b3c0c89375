"""Cold start and crash recovery of a `weir serve` process holding 1 GiB in 100 partitions.

1. Fill: a server on a fresh data dir gets a 100-partition topic (``value.schema.validation
   =none``: validation does not change what a restart reads) and 1 GiB of 1 KiB records in
   batches of 1000 (acks=1, 4 threads), then stops with SIGTERM.
2. Restart (clean): time from spawning `weir serve` to (a) its "serving" line, (b) the first
   ``ListOffsets`` answer, (c) every partition answering ``ListOffsets`` with the right end
   offset and serving a ``Fetch`` of its last record. Measured twice: with the data files in
   the page cache (warm) and after evicting them with ``posix_fadvise(DONTNEED)`` (cold).
3. Recovery: more records are produced, the server is SIGKILLed mid-stream, and the restart
   is timed the same way.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc

from bench._load import request_bytes, run_load
from bench._records import create_topic
from bench._report import report
from bench._server import ServerProcess
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

TOPIC = "bulk"
TARGET_S = 5.0
"""Issue 8: restart with 1 GiB in 100 partitions, until ready to serve."""


def fill(server: ServerProcess, partitions: int, total_bytes: int) -> tuple[int, float]:
    """Write ``total_bytes`` of 1 KiB records; (records, seconds)."""
    channel = server.channel()
    create_topic(channel, TOPIC, partitions, **{"value.schema.validation": "none"})
    records = total_bytes // 1024
    batch = max(1, min(1000, records // partitions))
    requests = [
        request_bytes(TOPIC, p, b"v" * 1024, batch, lp.ACKS_LEADER) for p in range(partitions)
    ]
    per_thread = records // batch // 4
    result = run_load(channel, requests, batch, threads=4, seconds=0, min_requests=per_thread)
    channel.close()
    return result.records, result.seconds


def evict(data_dir: Path) -> int:
    """Drop the data dir's files from the page cache (no root needed); bytes evicted."""
    evicted = 0
    for path in data_dir.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                evicted += os.fstat(fd).st_size
            finally:
                os.close(fd)
    return evicted


def timed_start(
    data_dir: Path, partitions: int
) -> tuple[ServerProcess, dict[str, float], list[int]]:
    """Start `weir serve` on ``data_dir``; seconds to each readiness point, and end offsets."""
    server = ServerProcess(data_dir)
    printed = server.printed - server.started
    channel = server.channel()
    stub = ls_grpc.LogServiceStub(channel)
    stub.ListOffsets(ls.ListOffsetsRequest(topic=TOPIC, partition=0, latest=True), timeout=60)
    first = time.perf_counter() - server.started
    ends = []
    for p in range(partitions):
        end = int(
            stub.ListOffsets(ls.ListOffsetsRequest(topic=TOPIC, partition=p, latest=True)).offset
        )
        reply = stub.Fetch(
            ls.FetchRequest(
                partitions=[ls.FetchPartition(topic=TOPIC, partition=p, offset=max(0, end - 1))]
            )
        )
        if end and not reply.partitions[0].records:
            raise RuntimeError(f"partition {p}: no record at offset {end - 1} after restart")
        ends.append(end)
    every = time.perf_counter() - server.started
    channel.close()
    return (
        server,
        {"serving_line_s": printed, "first_list_offsets_s": first, "all_partitions_s": every},
        ends,
    )


def crash_mid_stream(server: ServerProcess, partitions: int) -> None:
    """Produce from a thread and SIGKILL the server while requests are in flight."""
    channel = server.channel()
    requests = [
        request_bytes(TOPIC, p, b"v" * 1024, 100, lp.ACKS_LEADER) for p in range(partitions)
    ]

    def load() -> None:
        with contextlib.suppress(RuntimeError, grpc.RpcError):  # the kill cuts calls off
            run_load(channel, requests, 100, threads=2, seconds=5)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    time.sleep(0.5)
    server.kill()
    thread.join(10)
    channel.close()


def run(total_bytes: int, partitions: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="wb-recovery-") as tmp:
        data_dir = Path(tmp)
        server = ServerProcess(data_dir)
        records, secs = fill(server, partitions, total_bytes)
        print(
            f"  filled {records:,} records ({records * 1024 / 2**30:.2f} GiB) in {secs:.1f} s",
            flush=True,
        )
        server.stop()
        before = None
        for case in (
            "clean restart, warm cache",
            "clean restart, cold cache",
            "after SIGKILL, cold cache",
        ):
            if case.startswith("after"):
                crash_mid_stream(server, partitions)
            if "cold" in case:
                evict(data_dir)
            server, times, ends = timed_start(data_dir, partitions)
            if before is not None and not case.startswith("after") and ends != before:
                raise RuntimeError("end offsets changed across a clean restart")
            before = ends
            row = {
                "case": case,
                "partitions": partitions,
                "data_GiB": sum(ends) * 1024 / 2**30,
                **times,
                "rss_MB": server.rss_kb() / 1024,
                "target_s": TARGET_S,
                "met": "met" if times["all_partitions_s"] <= TARGET_S else "NOT met",
            }
            rows.append(row)
            print(f"  {case}: ready in {times['all_partitions_s']:.2f} s", flush=True)
            if not case.startswith("clean restart, cold"):
                server.stop()
        server.close()
        rows.insert(
            0,
            {
                "case": "fill (acks=1, validation none)",
                "partitions": partitions,
                "data_GiB": records * 1024 / 2**30,
                "fill_MB_s": records * 1024 / 1e6 / secs,
            },
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    total = (4 << 20) if args.smoke else (1 << 30)
    report(
        "recovery",
        run(total, 100),
        notes=[
            "times from spawning `weir serve` (a new Python process, imports included)",
            "all_partitions_s: every partition answered ListOffsets and served its last record",
            "cold cache: data files evicted with posix_fadvise(DONTNEED) before the start",
        ],
    )


if __name__ == "__main__":
    main()
