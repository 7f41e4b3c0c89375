"""Retention and compaction run in the server's background loop with topic configs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.broker.embedded import EmbeddedServer


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with (
        EmbeddedServer(tmp_path / "data", log_cleanup_interval_ms=100) as server,
        grpc.insecure_channel(server.address) as channel,
    ):
        yield Broker(channel)


def wait_for(check, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_retention_by_time_deletes_old_closed_segments(broker: Broker) -> None:
    broker.create_topic(
        "old", 1, value_schema_validation="none", retention_ms="60000", segment_bytes="1024"
    )
    for i in range(20):
        broker.produce("old", [record(b"x" * 200, timestamp_ms=1000 + i)])  # long ago
    assert broker.fetch("old").log_start_offset == 0
    wait_for(lambda: broker.fetch("old", offset=19).log_start_offset > 0)
    part = broker.fetch("old", offset=19)
    assert part.log_end_offset == 20  # the active segment stays; offsets never change
    assert [r.offset for r in part.records] == [19]


def test_compaction_keeps_the_newest_value_per_key(broker: Broker) -> None:
    broker.create_topic(
        "state", 1, value_schema_validation="none", cleanup_policy="compact", segment_bytes="1024"
    )
    for i in range(30):
        broker.produce("state", [record(f"v{i}".encode() + b"." * 100, key=f"k{i % 3}".encode())])

    def compacted() -> bool:
        return len(broker.fetch("state", offset=0, max_bytes=1 << 20).records) < 30

    wait_for(compacted)
    records = []
    offset = 0
    while True:
        batch = broker.fetch("state", offset=offset).records
        if not batch:
            break
        records += batch
        offset = batch[-1].offset + 1
    newest = {}
    for r in records:
        newest[r.key] = r.value
    assert {k: v[:3] for k, v in newest.items()} == {b"k0": b"v27", b"k1": b"v28", b"k2": b"v29"}
    offsets = [r.offset for r in records]
    assert offsets == sorted(offsets)
    assert offsets[-1] == 29


def test_partitions_of_a_topic_deleted_mid_crash_are_removed_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with EmbeddedServer(data) as server, grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("gone", 2, value_schema_validation="none")
        broker.produce("gone", [record(b"old")], partition=0)
    topics = data / "topics.json"
    doc = json.loads(topics.read_text())
    del doc["gone"]  # as if the delete wrote topics.json and crashed before removing files
    topics.write_text(json.dumps(doc))
    with EmbeddedServer(data) as server, grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("gone", 1, value_schema_validation="none")
        part = broker.fetch("gone", 0, 0)
        assert part.log_end_offset == 0
        assert not part.records  # the old record did not come back
