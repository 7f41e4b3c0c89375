"""A member of the `checkout` group: charge each order exactly once.

    python examples/orders/checkout.py --server localhost:50051 --db checkout.db --name a

Run two of these (`--name a` and `--name b`): the group splits the `orders` partitions between
them, and moves them when one stops. Delivery is at least once — an upstream replay, or a
partition that moves before its last commit, delivers an order again — so charging is made
idempotent: the charge and the order id go into SQLite in one transaction, and an order id
already there is a duplicate, counted and skipped. Offsets are committed only after the batch
is stored, and again when a partition is revoked, so a crash never skips an order.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time

from weir.sdk import AvroDeserializer, Consumer, SchemaRegistryClient, StringDeserializer

GROUP = "checkout"
TOPIC = "orders"


def open_db(path: str) -> sqlite3.Connection:
    """The charges table, shared by every member (SQLite in WAL mode handles the locking)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS charges (order_id TEXT PRIMARY KEY, customer_id TEXT,"
        " amount_cents INTEGER, currency TEXT, member TEXT)"
    )
    return db


def charge(db: sqlite3.Connection, orders: list[dict[str, object]], member: str) -> int:
    """Store a batch of charges in one transaction; the number that were new."""
    db.execute("BEGIN IMMEDIATE")
    before = db.total_changes
    db.executemany(
        "INSERT OR IGNORE INTO charges VALUES (:order_id, :customer_id, :amount_cents,"
        " :currency, :member)",
        [{**order, "member": member} for order in orders],
    )
    new = db.total_changes - before
    db.execute("COMMIT")
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="localhost:50051")
    parser.add_argument("--db", default="checkout.db")
    parser.add_argument("--name", default="a", help="this member's name, for the report")
    parser.add_argument("--idle-exit", type=float, default=5.0, help="stop after N idle seconds")
    args = parser.parse_args()

    db = open_db(args.db)
    stats = {"member": args.name, "charged": 0, "duplicates": 0, "partitions": []}

    def on_assign(consumer: Consumer, partitions: list) -> None:
        if partitions:
            owned = {*stats["partitions"], *(p.partition for p in partitions)}
            stats["partitions"] = sorted(owned)
            print(json.dumps({"member": args.name, "assigned": len(partitions)}), flush=True)

    def on_revoke(consumer: Consumer, partitions: list) -> None:
        consumer.commit()  # everything returned so far is stored: keep the partitions' progress

    registry = SchemaRegistryClient(args.server)
    with Consumer(
        GROUP,
        [TOPIC],
        server=args.server,
        key_deserializer=StringDeserializer(),
        value_deserializer=AvroDeserializer(registry),
        on_assign=on_assign,
        on_revoke=on_revoke,
        session_timeout_ms=6000,
    ) as consumer:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < args.idle_exit:
            messages = consumer.consume(500, timeout=0.5)
            if not messages:
                continue
            idle_since = time.monotonic()
            new = charge(db, [m.value for m in messages], args.name)
            stats["charged"] += new
            stats["duplicates"] += len(messages) - new
            consumer.commit()  # only after the charges are stored
    registry.close()
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
