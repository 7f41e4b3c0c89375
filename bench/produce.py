"""Produce throughput through a `weir serve` process, against the in-process ceiling.

Matrix: Avro, Protobuf, JSON Schema x 100 B and 1 KiB values x batches of 1, 100, 1000 x
acks 0 (ACKS_NONE), 1 (ACKS_LEADER), all (ACKS_ALL, fsync with group commit) x 1 and 12
partitions; value validation ``strict`` (decoded with the compiled validator). The client is
this process: ``--threads`` threads each keep one raw ``Produce`` call in flight, sending
pre-serialized requests, rotating over the partitions. Each cell runs ``--seconds``; records
counted are those the replies acknowledge, cross-checked against the log end offsets.

The ceiling for each cell validates the same bytes in-process and appends them to a file
with length and CRC-32C, fsyncing every batch for acks=all (bench/ceiling.py).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from bench import ceiling
from bench._load import end_offsets, request_bytes, run_load
from bench._records import FORMATS, SIZES, create_topic, register, value
from bench._report import report
from bench._server import ServerProcess
from weir.v1 import log_pb2 as lp

ACKS = {"0": lp.ACKS_NONE, "1": lp.ACKS_LEADER, "all": lp.ACKS_ALL}
TARGETS = {"AVRO": 150_000, "PROTOBUF": 400_000, "JSON": 100_000}
"""Issue 8 targets, records/s, for 100 B values, batch 1000, acks=all."""


def cell(
    server: ServerProcess,
    channel: grpc.Channel,
    topic: str,
    partitions: int,
    data: bytes,
    *,
    batch: int,
    acks: str,
    threads: int,
    seconds: float,
) -> dict[str, Any]:
    """One matrix cell against the server."""
    requests = [request_bytes(topic, p, data, batch, ACKS[acks]) for p in range(partitions)]
    run_load(channel, requests[:1], batch, threads=1, seconds=0, min_requests=1)  # warm route
    before = end_offsets(channel, topic, partitions)
    used = server.cpu_s()
    result = run_load(channel, requests, batch, threads=threads, seconds=seconds)
    used = server.cpu_s() - used
    written = end_offsets(channel, topic, partitions) - before
    for _ in range(50):  # acks=0 appends may land after the reply
        if written >= result.records:
            break
        time.sleep(0.05)
        written = end_offsets(channel, topic, partitions) - before
    if written != result.records:
        raise RuntimeError(f"{topic}: {result.records} records acknowledged, {written} appended")
    return {
        "records": result.records,
        "rec_s": result.rec_s,
        "MB_s": result.rec_s * len(data) / 1e6,
        "server_cpu": used / result.seconds,
    }


def rpc_floor(data: bytes, *, threads: int, seconds: float) -> float:
    """Requests/s of the same batch-1 Produce bytes against a no-op grpc.aio server process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench._noop_server"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        channel = grpc.insecure_channel(f"127.0.0.1:{proc.stdout.readline().strip()}")
        requests = [request_bytes("noop", 0, data, 1, lp.ACKS_LEADER)]
        run_load(channel, requests, 1, threads=threads, seconds=0.2)
        result = run_load(channel, requests, 1, threads=threads, seconds=seconds)
        channel.close()
        return result.requests / result.seconds
    finally:
        proc.kill()
        proc.wait()


def ceilings(
    tmp: Path, kinds: list[str], sizes: list[int], batches: list[int], seconds: float
) -> dict[tuple[str, int, int, bool], ceiling.Ceiling]:
    """The produce ceiling of every (format, size, batch, fsync) the matrix needs."""
    out = {}
    for kind, size, batch, fsync in itertools.product(kinds, sizes, batches, (False, True)):
        path = tmp / f"ceiling-{kind}-{size}-{batch}-{fsync}.log"
        values = [value(kind, 1, size)] * batch
        out[(kind, size, batch, fsync)] = ceiling.produce(
            path, kind, values, fsync=fsync, seconds=seconds
        )
        path.unlink()
    return out


def run(
    kinds: list[str],
    sizes: list[int],
    batches: list[int],
    acks_list: list[str],
    partition_counts: list[int],
    *,
    threads: int,
    seconds: float,
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="wb-ceil-") as tmp:
        ceil = ceilings(Path(tmp), kinds, sizes, batches, seconds / 2)
    floor = rpc_floor(value("AVRO", 1, 100), threads=threads, seconds=seconds)
    print(f"  gRPC floor (no-op grpc.aio server, {threads} threads): {floor:,.0f} req/s")
    with ServerProcess() as server:
        channel = server.channel()
        for kind, partitions in itertools.product(kinds, partition_counts):
            topic = f"{kind.lower()}-p{partitions}"
            create_topic(channel, topic, partitions)
            schema_id = register(channel, f"{topic}-value", kind)
            for size, batch, acks in itertools.product(sizes, batches, acks_list):
                data = value(kind, schema_id, size)
                got = cell(
                    server,
                    channel,
                    topic,
                    partitions,
                    data,
                    batch=batch,
                    acks=acks,
                    threads=threads,
                    seconds=seconds,
                )
                cpu = ceil[(kind, size, batch, False)].rec_s
                row = {
                    "format": kind,
                    "value_B": size,
                    "batch": batch,
                    "acks": acks,
                    "parts": partitions,
                    **got,
                    "ceiling_rec_s": cpu,
                    "ratio": got["rec_s"] / cpu,
                }
                row["req_s"] = got["rec_s"] / batch
                if batch == 1:
                    row["rpc_floor_req_s"] = floor
                    row["ratio_floor"] = row["req_s"] / floor
                if acks == "all":
                    synced = ceil[(kind, size, batch, True)].rec_s
                    row["ceiling_fsync_rec_s"] = synced
                    row["ratio_fsync"] = got["rec_s"] / synced
                if size == 100 and batch == 1000 and acks == "all" and kind in TARGETS:
                    row["target_rec_s"] = TARGETS[kind]
                    row["met"] = _met(kind, got["rec_s"], row["ratio_fsync"])
                rows.append(row)
                print(_line(row), flush=True)
        channel.close()
    return rows


def _met(kind: str, rec_s: float, ratio: float) -> str:
    ok = rec_s >= TARGETS[kind] and (kind != "AVRO" or ratio >= 0.6)
    return "met" if ok else "NOT met"


def _line(row: dict[str, Any]) -> str:
    return (
        f"  {row['format']:8} {row['value_B']:5} B batch {row['batch']:5} acks {row['acks']:3} "
        f"p{row['parts']:<3} {row['rec_s']:>11,.0f} rec/s  ceiling {row['ceiling_rec_s']:>11,.0f}"
        f"  ratio {row['ratio']:.2f}"
        + (f" (fsync {row['ratio_fsync']:.2f})" if "ratio_fsync" in row else "")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--seconds", type=float, default=1.5, help="duration of each cell")
    parser.add_argument("--threads", type=int, default=8, help="Produce calls in flight")
    args = parser.parse_args(argv)
    threads = 2 if args.smoke else args.threads
    if args.smoke:
        rows = run(list(FORMATS), [100], [100], ["all"], [1], threads=2, seconds=0.2)
    else:
        rows = run(
            list(FORMATS),
            list(SIZES),
            [1, 100, 1000],
            list(ACKS),
            [1, 12],
            threads=args.threads,
            seconds=args.seconds,
        )
    report(
        "produce",
        rows,
        notes=[
            f"client: raw LogService.Produce, {threads} threads with one "
            "call in flight each (pre-serialized requests), in the bench process; server: "
            "`weir serve` in its own process",
            "ceiling: in-process validate (registry's compiled validator) + append with "
            "length and CRC-32C, no gRPC; ceiling_fsync also fsyncs every batch (acks=all)",
            "ratio = server rec/s / ceiling rec/s (no fsync); ratio_fsync against the fsync "
            "ceiling, which the server can beat by group-committing concurrent requests",
            "server_cpu: CPU seconds the server used per second (1.0 = one core busy)",
            "Avro target uses ratio_fsync (same durability as acks=all)",
            "batch 1: ratio_floor = Produce req/s / req/s of a no-op grpc.aio server process "
            "given the same requests by the same client (the gRPC round-trip floor)",
        ],
        client=f"raw LogService.Produce, {threads} threads x 1 call in flight",
    )


if __name__ == "__main__":
    main()
