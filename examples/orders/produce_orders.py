"""Produce keyed OrderCreated events to the `orders` topic.

    python examples/orders/produce_orders.py --server localhost:50051 --count 1000 --replay 50

The value is Avro (the schema in order_created.avsc, registered under `orders-value` on first
use); the key is the order id, so every event of one order lands on one partition. `--replay N`
sends the first N events a second time, as an upstream system retrying after a timeout would:
consumers must treat them as duplicates.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from weir.core.errors import TopicAlreadyExistsError
from weir.sdk import Admin, AvroSerializer, Producer, SchemaRegistryClient, StringSerializer

SCHEMA = (Path(__file__).parent / "order_created.avsc").read_text()
TOPIC = "orders"


@dataclass
class OrderCreated:
    """One placed order (the fields of order_created.avsc)."""

    order_id: str
    customer_id: str
    amount_cents: int
    currency: str
    created_at: int


def make_orders(count: int, seed: int = 7) -> list[OrderCreated]:
    """Deterministic sample orders."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    return [
        OrderCreated(
            order_id=f"o-{n:06d}",
            customer_id=f"c-{rng.randrange(50):03d}",
            amount_cents=rng.randrange(100, 100_000),
            currency=rng.choice(["EUR", "USD", "GBP"]),
            created_at=now + n,
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="localhost:50051")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--replay", type=int, default=0, help="send the first N events twice")
    parser.add_argument("--partitions", type=int, default=3)
    args = parser.parse_args()

    with Admin(args.server) as admin, contextlib.suppress(TopicAlreadyExistsError):
        admin.create_topic(TOPIC, args.partitions)

    orders = make_orders(args.count)
    with (
        SchemaRegistryClient(args.server) as registry,
        Producer(
            args.server,
            key_serializer=StringSerializer(),
            value_serializer=AvroSerializer(registry, SCHEMA),
        ) as producer,
    ):
        futures = [
            producer.produce(TOPIC, order, key=order.order_id)
            for order in orders + orders[: args.replay]
        ]
        producer.flush()
        offsets = [future.result() for future in futures]
    print(json.dumps({"produced": len(offsets), "replayed": args.replay}), flush=True)


if __name__ == "__main__":
    main()
