"""Fetch and consume throughput from a `weir serve` process, against the file-read ceiling.

A topic is filled with Avro records (100 B and 1 KiB values, batches of 1000), then read from
offset 0 to the end by:

* raw ``Fetch``: one call in flight per partition (1 partition: one thread; 4 partitions: four
  threads), 1 MiB per partition per call; replies parsed, records counted;
* the SDK ``Consumer`` (standalone, ``assign()``): ``poll()`` per record and ``consume(10000)``.

The ceiling reads the same records back from a produce-ceiling file (CRC checked, one bytes
object per record; bench/ceiling.py).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc

from bench import ceiling
from bench._load import request_bytes, run_load
from bench._records import create_topic, register, value
from bench._report import report
from bench._server import ServerProcess
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

FETCH = "/weir.v1.LogService/Fetch"
FULL_CASES = [(100, 400_000), (1024, 100_000)]
"""(value bytes, records) read in a full run."""
TARGET_SDK = 500_000
"""Issue 8: SDK Consumer fetch of 100 B records, records/s."""


def fill(channel: grpc.Channel, topic: str, partitions: int, data: bytes, total: int) -> None:
    """Produce ``total`` records (batches of 1000, spread over the partitions)."""
    batch = min(1000, total)
    requests = [request_bytes(topic, p, data, batch, lp.ACKS_LEADER) for p in range(partitions)]
    per_thread = max(1, total // batch // partitions)
    run_load(channel, requests, batch, threads=partitions, seconds=0, min_requests=per_thread)


def raw_fetch(channel: grpc.Channel, topic: str, partitions: int) -> tuple[int, float]:
    """Read every partition to its end with raw Fetch; (records, seconds)."""
    call = channel.unary_unary(FETCH)
    ends = [_end(channel, topic, p) for p in range(partitions)]
    counts = [0] * partitions

    def reader(p: int) -> None:
        offset = 0
        while offset < ends[p]:
            req = ls.FetchRequest(
                partitions=[ls.FetchPartition(topic=topic, partition=p, offset=offset)]
            ).SerializeToString()
            part = ls.FetchResponse.FromString(call(req, timeout=60)).partitions[0]
            if part.error_message:
                raise RuntimeError(part.error_message)
            n = len(part.records)
            counts[p] += n
            offset = part.records[n - 1].offset + 1

    threads = [threading.Thread(target=reader, args=(p,)) for p in range(partitions)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - start


def _end(channel: grpc.Channel, topic: str, partition: int) -> int:
    stub = channel.unary_unary(
        "/weir.v1.LogService/ListOffsets",
        request_serializer=ls.ListOffsetsRequest.SerializeToString,
        response_deserializer=ls.ListOffsetsResponse.FromString,
    )
    reply = stub(ls.ListOffsetsRequest(topic=topic, partition=partition, latest=True))
    return int(reply.offset)


def sdk_consume(address: str, topic: str, partitions: int, total: int, mode: str) -> float:
    """Seconds for the SDK Consumer to read ``total`` records (``poll`` or ``consume``)."""
    from weir.sdk import Consumer, TopicPartition  # noqa: PLC0415  (the SDK may be absent)

    consumer = Consumer(None, server=address, auto_offset_reset="earliest")
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        got = 0
        start = time.perf_counter()
        if mode == "poll":
            while got < total:
                if consumer.poll(10) is None:
                    raise RuntimeError(f"poll() timed out after {got} of {total} records")
                got += 1
        else:
            while got < total:
                batch = consumer.consume(10_000, 10)
                if not batch:
                    raise RuntimeError(f"consume() timed out after {got} of {total} records")
                got += len(batch)
        return time.perf_counter() - start
    finally:
        consumer.close()


def run(cases: list[tuple[int, int]], partition_counts: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ServerProcess() as server, tempfile.TemporaryDirectory(prefix="wb-fetch-") as tmp:
        channel = server.channel()
        for size, total in cases:
            path = Path(tmp) / f"ceiling-{size}.log"
            data = value("AVRO", 1, size)
            batches = max(1, total // 1000)
            ceiling.produce(
                path, "AVRO", [data] * min(1000, total), fsync=False, seconds=0, min_batches=batches
            )
            top = ceiling.fetch(path)
            for partitions in partition_counts:
                topic = f"fetch-{size}-p{partitions}"
                create_topic(channel, topic, partitions)
                sid = register(channel, f"{topic}-value", "AVRO")
                fill(channel, topic, partitions, value("AVRO", sid, size), total)
                n, secs = raw_fetch(channel, topic, partitions)
                rows.append(
                    _row(
                        "raw Fetch",
                        size=size,
                        partitions=partitions,
                        in_flight=partitions,
                        n=n,
                        secs=secs,
                        top=top,
                    )
                )
                for mode in ("poll", "consume"):
                    rows.append(
                        _sdk_row(
                            server.address,
                            topic,
                            size=size,
                            partitions=partitions,
                            n=n,
                            mode=mode,
                            top=top,
                        )
                    )
        channel.close()
    return rows


def _sdk_row(
    address: str, topic: str, *, size: int, partitions: int, n: int, mode: str, top: ceiling.Ceiling
) -> dict[str, Any]:
    how = f"SDK Consumer.{mode}()"
    try:
        secs = sdk_consume(address, topic, partitions, n, mode)
    except ImportError as e:
        return {"client": how, "value_B": size, "parts": partitions, "TODO": f"SDK absent: {e}"}
    row = _row(how, size=size, partitions=partitions, in_flight=1, n=n, secs=secs, top=top)
    if size == 100 and mode == "consume":
        row["target_rec_s"] = TARGET_SDK
        row["met"] = "met" if row["rec_s"] >= TARGET_SDK else "NOT met"
    return row


def _row(
    how: str,
    *,
    size: int,
    partitions: int,
    in_flight: int,
    n: int,
    secs: float,
    top: ceiling.Ceiling,
) -> dict[str, Any]:
    rate = n / secs
    row = {
        "client": how,
        "value_B": size,
        "parts": partitions,
        "in_flight": in_flight,
        "records": n,
        "rec_s": rate,
        "MB_s": rate * size / 1e6,
        "ceiling_rec_s": top.rec_s,
        "ratio": rate / top.rec_s,
    }
    print(f"  {how:22} {size:5} B p{partitions}  {rate:>11,.0f} rec/s  ratio {row['ratio']:.2f}")
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    cases, partition_counts = ([(100, 4000)], [1]) if args.smoke else (FULL_CASES, [1, 4])
    rows = run(cases, partition_counts)
    report(
        "fetch",
        rows,
        notes=[
            "server: `weir serve` process; client: this process (raw Fetch threads, or the "
            "SDK Consumer in standalone assign() mode, one fetch in flight)",
            "ceiling: read the same records back from a length+CRC-32C file, CRC checked, "
            "one bytes object per record; ratio = rec/s / ceiling rec/s",
        ],
    )


if __name__ == "__main__":
    main()
