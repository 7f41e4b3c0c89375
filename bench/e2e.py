"""End-to-end latency: from a record's scheduled produce time to a consumer receiving it.

A producer offers Avro 100 B records on an open-loop schedule (bench/_openloop.py, acks=all,
batches <= 100, 5 requests in flight) to one partition of a `weir serve` process while a
consumer in this process reads them:

* raw ``Fetch`` long-poll (``max_wait_ms=500``, ``min_bytes=1``), one call in flight;
* the SDK ``Consumer`` (standalone ``assign()``), ``poll()`` per record.

Latency per record = time the consumer had it - time it was due to be produced (keys carry
the sequence number; producer and consumer share ``time.perf_counter``).
"""

from __future__ import annotations

import argparse
import functools
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc

from bench._openloop import SEQ, Schedule, run_open_loop
from bench._records import create_topic, register, value
from bench._report import percentiles, report
from bench._server import ServerProcess
from weir.v1 import log_service_pb2 as ls

FETCH = "/weir.v1.LogService/Fetch"

Seen = list[tuple[int, float]]
"""(sequence, perf_counter when the consumer had it)."""


def raw_reader(
    channel: grpc.Channel, topic: str, total: int, seen: Seen, stop: threading.Event
) -> None:
    """Long-poll Fetch from offset 0 until ``total`` records arrived."""
    call = channel.unary_unary(FETCH)
    offset = 0
    while len(seen) < total and not stop.is_set():
        request = ls.FetchRequest(
            partitions=[ls.FetchPartition(topic=topic, partition=0, offset=offset)],
            max_wait_ms=500,
            min_bytes=1,
        ).SerializeToString()
        part = ls.FetchResponse.FromString(call(request, timeout=30)).partitions[0]
        now = time.perf_counter()
        seen.extend((SEQ.unpack(r.key)[0], now) for r in part.records)
        if part.records:
            offset = part.records[-1].offset + 1


def sdk_reader(address: str, topic: str, total: int, seen: Seen, stop: threading.Event) -> None:
    """SDK Consumer.poll() from offset 0 until ``total`` records arrived."""
    from weir.sdk import Consumer, TopicPartition  # noqa: PLC0415  (the SDK may be absent)

    with Consumer(None, server=address, auto_offset_reset="earliest") as consumer:
        consumer.assign([TopicPartition(topic, 0)])
        while len(seen) < total and not stop.is_set():
            message = consumer.poll(0.5)
            if message is not None:
                seen.append((SEQ.unpack(message.key)[0], time.perf_counter()))


Reader = Callable[[str, int, Seen, threading.Event], None]
"""reader(topic, total, seen, stop)."""


def measure(
    channel: grpc.Channel, topic: str, data: bytes, reader: Reader, *, rate: int, seconds: float
) -> dict[str, Any]:
    """Run the producer and one reader together; latency figures."""
    total = int(rate * seconds)
    seen: Seen = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            reader(topic, total, seen, stop)
        except BaseException as e:
            errors.append(e)

    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    time.sleep(0.2)  # the reader is waiting before the first record is due
    schedule: Schedule = run_open_loop(channel, topic, data, rate=rate, seconds=seconds)
    thread.join(30)
    stop.set()
    if errors:
        raise RuntimeError(f"reader failed: {errors[0]}") from errors[0]
    if len(seen) < total or schedule.failures:
        raise RuntimeError(f"{topic}: {len(seen)} of {total} records read; {schedule.failures[:1]}")
    p = percentiles([at - schedule.due(seq) for seq, at in seen])
    return {
        "records": len(seen),
        "p50_ms": p["p50_us"] / 1e3,
        "p99_ms": p["p99_us"] / 1e3,
        "p999_ms": p["p999_us"] / 1e3,
    }


def run(rates: list[int], seconds: float) -> list[dict[str, Any]]:
    rows = []
    with ServerProcess() as server:
        channel = server.channel()
        readers: dict[str, Reader] = {
            "raw Fetch long-poll": functools.partial(raw_reader, channel),
            "SDK Consumer.poll()": functools.partial(sdk_reader, server.address),
        }
        for rate in rates:
            for how, reader in readers.items():
                topic = f"e2e-{rate}-{len(rows)}"
                create_topic(channel, topic, 1)
                data = value("AVRO", register(channel, f"{topic}-value", "AVRO"), 100)
                try:
                    got = measure(channel, topic, data, reader, rate=rate, seconds=seconds)
                except ImportError as e:
                    got = {"TODO": f"SDK absent: {e}"}
                rows.append({"consumer": how, "offered_rec_s": rate, **got})
                print(f"  {how:22} {rate:>6} rec/s: {got}", flush=True)
        channel.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--seconds", type=float, default=4.0, help="duration per case")
    args = parser.parse_args(argv)
    rates, seconds = ([500], 0.5) if args.smoke else ([1000, 10_000], args.seconds)
    report(
        "e2e",
        run(rates, seconds),
        notes=[
            "latency = consumer receive time - scheduled produce time (open loop, acks=all)",
            "producer and consumer share this process; the server is `weir serve`",
        ],
    )


if __name__ == "__main__":
    main()
