"""Load: 50 idempotent producers and 20 consumers in 4 groups against one `weir serve`.

10 s by default, 60 s with WEIR_TEST_LONG=1. Checks: no error but back-pressure, server
memory (RSS from /proc) stays bounded, the log holds every acknowledged record once (exactly
once in the log), and every group consumed every acknowledged record (at least once; the
redeliveries a rebalance causes are counted and deduplicated by partition and offset).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.e2e.fault_helpers import LONG, FixedServe, read_partition
from weir.core.errors import WeirError
from weir.sdk import Admin, Consumer, Producer

SECONDS = 60 if LONG else 10
PRODUCERS = 50
GROUPS = 4
PER_GROUP = 5
PARTITIONS = 10
TOPIC = "load"
BACK_PRESSURE = {"STORAGE_FULL", "UNAVAILABLE", "RESOURCE_EXHAUSTED"}
RSS_LIMIT_KB = 600 * 1024


class Load:
    def __init__(self, address: str) -> None:
        self.address = address
        self.stop_producing = threading.Event()
        self.stop_consuming = threading.Event()
        self.lock = threading.Lock()
        self.acked: set[tuple[int, int]] = set()
        self.values: dict[tuple[int, int], bytes] = {}
        self.errors: Counter[str] = Counter()
        self.first_error: dict[str, str] = {}
        self.consumed: dict[int, list[tuple[int, int, bytes]]] = defaultdict(list)

    def produce(self, index: int) -> None:
        producer = Producer(self.address, linger_ms=5)
        n = 0
        try:
            while not self.stop_producing.is_set():
                sent = []
                for _ in range(50):
                    value = f"p{index}-{n}".encode()
                    sent.append((value, producer.produce(TOPIC, value, key=value)))
                    n += 1
                for value, future in sent:
                    try:
                        meta = future.result(timeout=60)
                    except WeirError as e:
                        self.failed(e.reason, e)
                        continue
                    with self.lock:
                        self.acked.add((meta.partition, meta.offset))
                        self.values[(meta.partition, meta.offset)] = value
        finally:
            producer.close(timeout=60)

    def consume(self, group: int) -> None:
        consumer = Consumer(f"load-{group}", [TOPIC], server=self.address, fetch_max_wait_ms=100)
        try:
            while not self.stop_consuming.is_set():
                try:
                    messages = consumer.consume(500, timeout=0.2)
                except WeirError as e:
                    self.failed(f"consumer {e.reason}", e)
                    continue
                got = [(m.partition, m.offset, m.value) for m in messages]
                with self.lock:  # delivered: counted even when the commit below fails
                    self.consumed[group] += got
                try:
                    if messages:
                        consumer.commit()
                except WeirError as e:
                    self.failed(f"commit {e.reason}", e)
        finally:
            consumer.close()

    def failed(self, kind: str, error: WeirError) -> None:
        """Count an error by kind, keeping the first message of each kind for the report."""
        with self.lock:
            self.errors[kind] += 1
            self.first_error.setdefault(kind, str(error)[:300])

    def caught_up(self) -> bool:
        with self.lock:
            return all(
                self.acked <= {(p, o) for p, o, _ in self.consumed[g]} for g in range(GROUPS)
            )


def describe(server: FixedServe, group: int) -> str:
    """The group's members, assignments and committed offsets, for a failure message."""
    with Admin(server.address) as admin:
        return f"{admin.describe_group(f'load-{group}')}, committed " + str(
            [(c.partition, c.offset) for c in admin.committed_offsets(f"load-{group}")]
        )


@pytest.mark.slow
@pytest.mark.timeout(900 if LONG else 150)
def test_load(tmp_path: Path) -> None:
    server = FixedServe(tmp_path / "data", tmp_path / "serve.log")
    server.start()
    with Admin(server.address) as admin:
        admin.create_topic(TOPIC, PARTITIONS, {"value.schema.validation": "none"})
    load = Load(server.address)
    producers = [threading.Thread(target=load.produce, args=(i,)) for i in range(PRODUCERS)]
    consumers = [
        threading.Thread(target=load.consume, args=(g,))
        for g in range(GROUPS)
        for _ in range(PER_GROUP)
    ]
    for t in consumers + producers:
        t.start()
    rss: list[int] = []
    started = time.monotonic()
    while time.monotonic() - started < SECONDS:
        rss.append(server.rss_kb())
        time.sleep(0.5)
    load.stop_producing.set()
    for t in producers:
        t.join(timeout=120)
    deadline = time.monotonic() + (120 if LONG else 60)
    while not load.caught_up() and time.monotonic() < deadline:
        rss.append(server.rss_kb())
        time.sleep(0.3)
    load.stop_consuming.set()
    for t in consumers:
        t.join(timeout=60)

    acked = load.acked
    log: dict[tuple[int, int], bytes] = {}
    for p in range(PARTITIONS):
        log.update({(p, o): v for o, v in read_partition(server.address, TOPIC, p)})
    assert Counter(log.values()).most_common(1)[0][1] == 1, "a record is in the log twice"
    assert all(log[key] == load.values[key] for key in acked), "an acknowledged record is missing"
    redelivered = {}
    for g in range(GROUPS):
        seen = Counter((p, o) for p, o, _ in load.consumed[g])
        missing = acked - set(seen)
        assert not missing, (
            f"group {g} never consumed {len(missing)} acknowledged records, e.g. "
            f"{sorted(missing)[:3]}; errors {load.first_error}; group: {describe(server, g)}"
        )
        assert all(log[(p, o)] == v for p, o, v in load.consumed[g])
        redelivered[g] = sum(n - 1 for n in seen.values())
    unexpected = {k: n for k, n in load.errors.items() if k.split()[-1] not in BACK_PRESSURE}
    assert not unexpected, f"errors other than back-pressure: {unexpected}"
    peak = max(rss)
    print(
        f"load ({SECONDS} s, {PRODUCERS} producers, {GROUPS}x{PER_GROUP} consumers): "
        f"{len(acked)} acknowledged ({len(acked) / SECONDS:.0f}/s), consumed by each of "
        f"{GROUPS} groups, redelivered {redelivered}, back-pressure {dict(load.errors)} "
        f"{load.first_error}, "
        f"server RSS first {rss[0] // 1024} MiB, peak {peak // 1024} MiB, "
        f"last {rss[-1] // 1024} MiB, threads {server.threads()}"
    )
    assert len(acked) > 1000 * SECONDS / 10
    assert peak < RSS_LIMIT_KB, f"server RSS reached {peak // 1024} MiB"
    server.kill()
