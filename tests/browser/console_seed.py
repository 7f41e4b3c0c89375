"""Data for the console tests: Avro, JSON and Protobuf topics, a schema history with an
incompatible step, a consumer group with lag and a live member, and a dead letter."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import grpc

from tests.integration.broker_helpers import (
    ORDER_AVSC,
    ORDER_JSON,
    ORDER_PROTO,
    Broker,
    avro_bytes,
    json_bytes,
    proto_class,
    record,
)
from weir.broker.embedded import EmbeddedServer
from weir.broker.groups.model import HeartbeatInput, MemberId, Subscription
from weir.broker.groups.service import OffsetCommitInput
from weir.core.framing import frame
from weir.core.types import CompatibilityLevel

ORDER_V2 = {
    **ORDER_AVSC,
    "fields": [*ORDER_AVSC["fields"], {"name": "note", "type": "string", "default": ""}],
}
ORDER_V3 = {  # qty becomes a string: not BACKWARD compatible with v2
    **ORDER_AVSC,
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "qty", "type": "string"},
        {"name": "note", "type": "string", "default": ""},
    ],
}
HOUR_MS = 3_600_000


@dataclass
class Seeded:
    """What the seed created, for assertions."""

    orders_ids: list[int]
    """Schema ids of orders-value v1..v3."""
    payments_id: int
    """The JSON schema id."""
    shipments_id: int
    """The Protobuf schema id."""
    group: str
    """The consumer group with lag."""
    member_id: str
    """The group's live member."""
    base_ms: int
    """The orders records' first timestamp."""


def seed(server: EmbeddedServer) -> Seeded:
    """Fill a running server with everything the console shows."""
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("orders", 2, on_invalid="dead_letter")
        broker.create_topic("payments")
        broker.create_topic("shipments")
        v1 = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
        v2 = broker.register("orders-value", "AVRO", json.dumps(ORDER_V2))
        registry = server.server.registry
        registry.set_config(CompatibilityLevel.NONE, "orders-value")
        v3 = broker.register("orders-value", "AVRO", json.dumps(ORDER_V3))
        registry.set_config(CompatibilityLevel.BACKWARD, "orders-value")
        base = int(time.time() * 1000) - HOUR_MS
        for p in (0, 1):
            batch = [
                record(
                    avro_bytes(v1, {"id": f"o-{p}-{i}", "qty": i}),
                    key=f"k{i}".encode(),
                    timestamp_ms=base + i * 60_000,
                )
                for i in range(12)
            ]
            broker.produce("orders", batch, partition=p)
        bad = record(b"\x00\x00\x00\x00" + bytes([v1]) + b"\xff\xff", key=b"bad")
        broker.produce("orders", [bad], partition=0)
        pay = broker.register("payments-value", "JSON", json.dumps(ORDER_JSON))
        payments = [record(json_bytes(pay, {"id": f"p-{i}", "qty": i * 10})) for i in range(5)]
        broker.produce("payments", payments)
        ship = broker.register("shipments-value", "PROTOBUF", ORDER_PROTO)
        order = proto_class(ORDER_PROTO)
        shipments = [
            record(frame(ship, order(id=f"s-{i}", qty=i).SerializeToString(), ())) for i in range(4)
        ]
        broker.produce("shipments", shipments)
    groups = server.server.groups
    orders = server.server.topics.get("orders")
    commits = [OffsetCommitInput(orders.partition(p), 4) for p in (0, 1)]
    server.call(groups.commit("billing", None, commits))
    joined = server.call(
        groups.heartbeat(
            HeartbeatInput(
                groups.coordinator.get("billing").group_id,
                MemberId(""),
                0,
                frozenset(),
                subscription=Subscription(topics=frozenset({"orders"})),
                session_timeout_ms=120_000,
            )
        )
    )
    return Seeded([v1, v2, v3], pay, ship, "billing", joined.member_id, base)


def grow_lag(server: EmbeddedServer, rounds: int, pause_s: float) -> None:
    """Produce to orders a few records at a time, so the lag chart has a trend to draw."""
    v1 = server.server.registry.get_version("orders-value", 1).schema.id
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        for n in range(rounds):
            batch = [record(avro_bytes(v1, {"id": f"late-{n}-{i}", "qty": i})) for i in range(3)]
            broker.produce("orders", batch, partition=n % 2)
            time.sleep(pause_s)
