"""Produce and fetch throughput through the real gRPC server, per format and batch size.

Values are ~100-byte records framed in the Confluent wire format and validated strictly.
One sync client on loopback; acks=all (fsync, group-committed) unless stated.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc

from bench._report import report
from tests.integration.broker_helpers import (
    ORDER_AVSC,
    ORDER_JSON,
    ORDER_PROTO,
    Broker,
    avro_bytes,
    json_bytes,
    proto_class,
)
from weir.broker.embedded import EmbeddedServer
from weir.core.framing import frame
from weir.v1 import log_pb2 as lp
from weir.v1 import log_service_pb2 as ls

PAD = "x" * 80


def payload(broker: Broker, kind: str, topic: str) -> bytes:
    subject = f"{topic}-value"
    if kind == "AVRO":
        sid = broker.register(subject, kind, json.dumps(ORDER_AVSC))
        return avro_bytes(sid, {"id": PAD, "qty": 7})
    if kind == "JSON":
        sid = broker.register(subject, kind, json.dumps(ORDER_JSON))
        return json_bytes(sid, {"id": PAD, "qty": 7})
    sid = broker.register(subject, kind, ORDER_PROTO)
    return frame(sid, proto_class(ORDER_PROTO)(id=PAD, qty=7).SerializeToString(), ())


def run(total: int, batches: list[int]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedServer(Path(tmp)) as server:
        channel = grpc.insecure_channel(server.address)
        broker = Broker(channel)
        for kind in ("AVRO", "PROTOBUF", "JSON"):
            for batch in batches:
                topic = f"{kind.lower()}-{batch}"
                broker.create_topic(topic, 1)
                value = payload(broker, kind, topic)
                request = ls.ProduceRequest(
                    topic=topic,
                    acks=lp.ACKS_ALL,
                    batches=[
                        ls.ProduceBatch(partition=0, records=[lp.Record(value=value)] * batch)
                    ],
                )
                count = max(total // batch, 1)
                start = time.perf_counter()
                for _ in range(count):
                    broker.log.Produce(request)
                produce_s = time.perf_counter() - start
                start = time.perf_counter()
                offset = read = 0
                while read < count * batch:
                    part = broker.fetch(topic, 0, offset)
                    read += len(part.records)
                    offset = part.records[-1].offset + 1
                fetch_s = time.perf_counter() - start
                n = count * batch
                rows.append(
                    {
                        "format": kind,
                        "value_bytes": len(value),
                        "batch": batch,
                        "records": n,
                        "produce_rec_s": n / produce_s,
                        "produce_us_per_rec": produce_s / n * 1e6,
                        "fetch_rec_s": n / fetch_s,
                    }
                )
        channel.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    total, batches = (200, [1, 100]) if args.smoke else (50_000, [1, 100, 1000])
    report("produce", run(total, batches))


if __name__ == "__main__":
    main()
