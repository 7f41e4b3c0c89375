"""Crash loop: SIGKILL `weir serve` at random moments while idempotent acks=all producers
produce and a consumer group commits, restart it on the same port, and check after every
restart:

* no acknowledged record is missing (and it sits at the offset its acknowledgement gave);
* no offset ever holds two different records (earlier scans are compared with later ones);
* no record is in the log twice (every value is unique; retries must not duplicate);
* committed offsets never go backwards, and a commit that returned survives the crash.

At the end every acknowledged record was consumed by the group (at least once).
3 kills by default, 20 with WEIR_TEST_LONG=1 (`make test-long`).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.fault_helpers import LONG, FixedServe, read_partition
from weir.sdk import Admin, Consumer, Producer, RetryPolicy

KILLS = 20 if LONG else 3
TOPIC = "loop"
PARTITIONS = 3
PRODUCERS = 3
CONSUMERS = 2
GROUP = "crash-group"
PATIENT = RetryPolicy(attempts=100, initial_backoff_s=0.05, max_backoff_s=0.5)


class Workload:
    """Producer and consumer threads, and what they saw."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: list[tuple[int, int, bytes]] = []
        self.failed_sends = 0
        self.consumed: list[tuple[int, int, bytes]] = []
        self.commits: list[dict[int, int]] = []
        self.consumer_errors: Counter[str] = Counter()
        self.threads = [
            threading.Thread(target=self._produce, args=(i,), daemon=True) for i in range(PRODUCERS)
        ] + [threading.Thread(target=self._consume, daemon=True) for _ in range(CONSUMERS)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)
            assert not t.is_alive(), "a workload thread hung"

    def acked_now(self) -> list[tuple[int, int, bytes]]:
        with self.lock:
            return list(self.acked)

    def _produce(self, index: int) -> None:
        producer = Producer(self.address, linger_ms=2, delivery_timeout_ms=120_000, retry=PATIENT)
        n = 0
        while not self.stop.is_set():
            sent = []
            for _ in range(25):
                value = f"p{index}-{n}".encode()
                sent.append((value, producer.produce(TOPIC, value, key=f"k{n % 11}".encode())))
                n += 1
            for value, future in sent:
                try:
                    meta = future.result(timeout=150)
                except Exception:  # not acknowledged: allowed, counted
                    with self.lock:
                        self.failed_sends += 1
                    continue
                with self.lock:
                    self.acked.append((meta.partition, meta.offset, value))
        producer.close(timeout=60)

    def _consume(self) -> None:
        consumer = Consumer(
            GROUP,
            [TOPIC],
            server=self.address,
            fetch_max_wait_ms=100,
            session_timeout_ms=6000,
            retry=PATIENT,
        )
        try:
            while not self.stop.is_set():
                try:
                    messages = consumer.consume(200, timeout=0.3)
                    if not messages:
                        continue
                    with self.lock:
                        self.consumed += [(m.partition, m.offset, m.value) for m in messages]
                    stored = consumer.commit()
                    with self.lock:
                        self.commits.append({tp.partition: o for tp, o in stored.items()})
                except Exception as e:  # the server is down: try again, counted
                    self.consumer_errors[type(e).__name__] += 1
                    time.sleep(0.1)
        finally:
            consumer.close()


def committed(address: str) -> dict[int, int]:
    with Admin(address, retry=PATIENT) as admin:
        found = admin.committed_offsets(GROUP, {TOPIC: range(PARTITIONS)})
    return {c.partition: c.offset for c in found if c.offset is not None}


class LogModel:
    """Everything earlier scans saw, to compare every later scan with."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], bytes] = {}
        self.committed: dict[int, int] = {}
        self.records_checked = 0

    def check(self, address: str, acked: list[tuple[int, int, bytes]]) -> None:
        values: Counter[bytes] = Counter()
        log: dict[tuple[int, int], bytes] = {}
        for p in range(PARTITIONS):
            records = read_partition(address, TOPIC, p)
            offsets = [o for o, _ in records]
            assert offsets == list(range(len(records))), f"partition {p}: offsets not dense"
            for offset, value in records:
                log[(p, offset)] = value
                values[value] += 1
        twice = [v for v, n in values.items() if n > 1]
        assert not twice, f"records stored twice: {twice[:5]}"
        for key, value in self.seen.items():
            assert log.get(key, value) == value, f"offset {key} changed from {value!r}"
        for p, offset, value in acked:
            assert log.get((p, offset)) == value, f"acknowledged {value!r} at {p}/{offset} lost"
        self.seen.update(log)
        self.records_checked += len(log)

    def check_commits(self, now: dict[int, int], acked_commits: list[dict[int, int]]) -> None:
        for p, offset in now.items():
            assert offset >= self.committed.get(p, 0), f"partition {p}: commit went backwards"
        for commit in acked_commits:
            for p, offset in commit.items():
                assert now.get(p, -1) >= offset, f"partition {p}: a returned commit was lost"
        self.committed.update(now)


@pytest.mark.slow
@pytest.mark.timeout(1800 if LONG else 120)
def test_crash_loop(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    server = FixedServe(tmp_path / "data", tmp_path / "serve.log")
    server.start()
    with Admin(server.address) as admin:
        admin.create_topic(TOPIC, PARTITIONS, {"value.schema.validation": "none"})
    work = Workload(server.address)
    model = LogModel()
    work.start()
    survived = 0
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.4, 1.6))
            server.kill()
            acked = work.acked_now()  # nothing new can be acknowledged while it is down
            with work.lock:
                commits = list(work.commits)
            time.sleep(rng.uniform(0.0, 0.3))
            server.start()
            model.check(server.address, acked)
            model.check_commits(committed(server.address), commits[-CONSUMERS * 4 :])
            survived += 1
        time.sleep(1.0)
    finally:
        work.join()
    acked = work.acked_now()
    model.check(server.address, acked)
    deadline = time.monotonic() + 30
    consumer = Consumer(GROUP, [TOPIC], server=server.address, fetch_max_wait_ms=100)
    try:  # the group picks up where it committed and reads the rest
        while time.monotonic() < deadline:
            got = consumer.consume(500, timeout=0.5)
            work.consumed += [(m.partition, m.offset, m.value) for m in got]
            if {(p, o) for p, o, _ in acked} <= {(p, o) for p, o, _ in work.consumed}:
                break
    finally:
        consumer.close()
    consumed = {(p, o): v for p, o, v in work.consumed}
    missing = [(p, o) for p, o, _ in acked if (p, o) not in consumed]
    assert not missing, f"{len(missing)} acknowledged records never consumed: {missing[:5]}"
    assert all(consumed[(p, o)] == v for p, o, v in acked)
    redelivered = len(work.consumed) - len(consumed)
    print(
        f"crash loop (seed {seed}): {survived} SIGKILLs survived, {len(acked)} acknowledged "
        f"records, {model.records_checked} record checks, {len(work.consumed)} consumed "
        f"({redelivered} redelivered), {work.failed_sends} unacknowledged sends, consumer "
        f"retries {dict(work.consumer_errors)}"
    )
    assert survived == KILLS
    assert len(acked) > 100 * KILLS
    server.kill()
