"""Shared setup for the SDK consumer tests: topics filled through the raw Produce RPC."""

from __future__ import annotations

from tests.integration.broker_helpers import Broker, record

FAST = {"session_timeout_ms": 3000, "fetch_max_wait_ms": 100}
"""Group timing for tests: the server heartbeats members at a third of the session timeout."""


def fill(
    broker: Broker,
    topic: str,
    partitions: int,
    per_partition: int,
    *,
    keyed: bool = False,
    timed: bool = False,
) -> None:
    """Create ``topic`` (no value validation) and produce ``per_partition`` records to each
    partition: value ``b"<partition>:<i>"``, with ``keyed`` key ``b"k<i>"``, with ``timed``
    timestamp ``1000 * (i + 1)`` ms."""
    broker.create_topic(topic, partitions, value_schema_validation="none")
    for p in range(partitions):
        records = [
            record(
                f"{p}:{i}".encode(),
                key=f"k{i}".encode() if keyed else None,
                **({"timestamp_ms": 1000 * (i + 1)} if timed else {}),
            )
            for i in range(per_partition)
        ]
        broker.produce(topic, records, partition=p)
