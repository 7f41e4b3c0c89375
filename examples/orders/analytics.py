"""A member of the `analytics` group: revenue per currency, from the same `orders` topic.

    python examples/orders/analytics.py --server localhost:50051

The group reads every event independently of `checkout`, with auto commit: a report may count
a replayed event twice, which is fine for a dashboard and why billing lives in checkout.py.
"""

from __future__ import annotations

import argparse
import collections
import json
import time

from weir.sdk import AvroDeserializer, Consumer, SchemaRegistryClient

GROUP = "analytics"
TOPIC = "orders"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="localhost:50051")
    parser.add_argument("--idle-exit", type=float, default=5.0, help="stop after N idle seconds")
    args = parser.parse_args()

    revenue: collections.Counter[str] = collections.Counter()
    events = 0
    with (
        SchemaRegistryClient(args.server) as registry,
        Consumer(
            GROUP,
            [TOPIC],
            server=args.server,
            value_deserializer=AvroDeserializer(registry),
            enable_auto_commit=True,
            session_timeout_ms=6000,
        ) as consumer,
    ):
        print(json.dumps({"member": "analytics", "started": True}), flush=True)
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < args.idle_exit:
            messages = consumer.consume(500, timeout=0.5)
            if messages:
                idle_since = time.monotonic()
            for message in messages:
                revenue[message.value["currency"]] += message.value["amount_cents"]
                events += 1
    print(json.dumps({"member": "analytics", "events": events, "revenue": revenue}), flush=True)


if __name__ == "__main__":
    main()
