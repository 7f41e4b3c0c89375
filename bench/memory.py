"""Server memory: VmRSS of the `weir serve` process, idle and under load.

* started: a fresh server with no user topics;
* idle with N partitions: after creating topics totalling N partitions (1,000 by default,
  10 topics of 100), then two idle seconds;
* under load: while 4 threads produce Avro 100 B records (strict validation, batches of
  1000, acks=all) over one 100-partition topic and a raw Fetch reader reads them back;
  peak and mean of VmRSS sampled every 50 ms, and VmHWM (the kernel's peak) afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

from bench._load import request_bytes, run_load
from bench._records import create_topic, register, value
from bench._report import report
from bench._server import ServerProcess
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

TARGET_IDLE_MB = 150.0
"""Issue 8: idle RSS with 1,000 partitions."""


def reader(channel: Any, topic: str, partitions: int, stop: threading.Event) -> int:
    """Fetch every partition round-robin from offset 0 until stopped; records read."""
    call = channel.unary_unary("/weir.v1.LogService/Fetch")
    offsets = [0] * partitions
    read = 0
    while not stop.is_set():
        for p in range(partitions):
            request = ls.FetchRequest(
                partitions=[ls.FetchPartition(topic=topic, partition=p, offset=offsets[p])]
            ).SerializeToString()
            part = ls.FetchResponse.FromString(call(request, timeout=30)).partitions[0]
            if part.records:
                offsets[p] = part.records[-1].offset + 1
                read += len(part.records)
    return read


def run(partitions: int, load_s: float, settle_s: float) -> list[dict[str, Any]]:
    with ServerProcess() as server:
        channel = server.channel()
        time.sleep(settle_s / 2)
        started = server.rss_kb() / 1024
        topics = max(1, partitions // 100)
        for t in range(topics):
            create_topic(channel, f"idle-{t}", partitions // topics)
        time.sleep(settle_s)
        idle = server.rss_kb() / 1024
        print(f"  idle with {partitions} partitions: {idle:.0f} MB", flush=True)

        topic = "idle-0"
        data = value("AVRO", register(channel, f"{topic}-value", "AVRO"), 100)
        per_topic = partitions // topics
        requests = [request_bytes(topic, p, data, 1000, lp.ACKS_ALL) for p in range(per_topic)]
        samples: list[float] = []
        stop = threading.Event()
        read = [0]

        def sample() -> None:
            while not stop.is_set():
                samples.append(server.rss_kb() / 1024)
                stop.wait(0.05)

        threads = [
            threading.Thread(target=sample, daemon=True),
            threading.Thread(
                target=lambda: read.__setitem__(0, reader(channel, topic, per_topic, stop)),
                daemon=True,
            ),
        ]
        for t in threads:
            t.start()
        result = run_load(channel, requests, 1000, threads=4, seconds=load_s)
        stop.set()
        for t in threads:
            t.join(30)
        peak_hwm = server.peak_rss_kb() / 1024
        time.sleep(settle_s)
        after = server.rss_kb() / 1024
        channel.close()
    return [
        {"state": "started, no user topics", "partitions": 0, "rss_MB": started},
        {
            "state": f"idle, {topics} topics",
            "partitions": partitions,
            "rss_MB": idle,
            "target_MB": TARGET_IDLE_MB,
            "met": "met" if idle <= TARGET_IDLE_MB else "NOT met",
        },
        {
            "state": f"under load ({result.rec_s:,.0f} rec/s in, {read[0]:,} read)",
            "partitions": partitions,
            "rss_MB": statistics.fmean(samples) if samples else 0.0,
            "rss_peak_MB": max(samples, default=0.0),
            "vmhwm_MB": peak_hwm,
        },
        {"state": f"{settle_s:g} s after load", "partitions": partitions, "rss_MB": after},
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    partitions, load_s, settle_s = (100, 0.5, 0.2) if args.smoke else (1000, 8.0, 2.0)
    report(
        "memory",
        run(partitions, load_s, settle_s),
        notes=["VmRSS of the `weir serve` process from /proc/<pid>/status; MB = MiB"],
    )


if __name__ == "__main__":
    main()
