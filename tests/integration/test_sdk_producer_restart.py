"""An idempotent Producer retries through a server restart and the log has no duplicate.

The server is stopped while records are buffered and in flight, then started again on the
same data dir and the same port. The producer keeps retrying the same batches with the same
producer id and sequences; the restarted broker rebuilds its producer state from the log, so
a batch that was appended before the stop (its reply lost) is answered as a duplicate.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from tests.integration.test_sdk_producer import make_topic, read_log
from weir.broker.embedded import EmbeddedServer
from weir.sdk import Producer, RecordMetadata

RECORDS = 6000


class CountingLog:
    """Wraps the producer's LogService stub to count failed calls and duplicate answers.

    The producer calls ``Produce.future(...)`` (several requests may be out at once); here
    each call runs the wrapped, blocking ``produce`` on a small thread pool.
    """

    def __init__(self, stub: Any) -> None:
        self.stub = stub
        self.failed = 0
        self.duplicates = 0
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="counting-log")

    @property
    def Produce(self) -> Any:
        log = self

        class Method:
            def __call__(self, request: Any, timeout: float) -> Any:
                return log.produce(request, timeout)

            def future(self, request: Any, timeout: float) -> Future[Any]:
                return log.pool.submit(log.produce, request, timeout)

        return Method()

    def produce(self, request: Any, timeout: float) -> Any:
        try:
            reply = self.stub.Produce(request, timeout=timeout)
        except Exception:
            self.failed += 1
            raise
        self.duplicates += sum(r.duplicate for r in reply.results)
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stub, name)


KEYS = 4


def test_retries_through_a_restart_leave_every_record_exactly_once_in_order(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = EmbeddedServer(data)
    address = server.address
    make_topic(address, "orders", 3)
    producer = Producer(address, linger_ms=1, max_batch_records=200, delivery_timeout_ms=30_000)
    calls = CountingLog(producer._log)
    producer._log = calls
    futures: list[Future[RecordMetadata]] = []
    stopped = threading.Event()

    def stop_midway() -> None:
        while len(futures) < RECORDS // 3:
            time.sleep(0.001)
        server.stop()
        stopped.set()

    stopper = threading.Thread(target=stop_midway)
    stopper.start()
    for i in range(RECORDS):
        futures.append(producer.produce("orders", f"{i}".encode(), key=f"k{i % KEYS}"))
    stopper.join()
    assert stopped.is_set()
    unresolved = sum(not f.done() for f in futures)
    assert unresolved > 0  # records were buffered or in flight when the server went away
    time.sleep(0.3)
    restarted = EmbeddedServer(data, grpc_address=address)
    try:
        assert producer.flush(40) == 0
        assert calls.failed > 0  # some Produce calls failed and were retried
        print(f"failed calls: {calls.failed}, duplicate batches: {calls.duplicates}")
        metadata = [f.result(0) for f in futures]  # every record acknowledged, none failed
        producer.close()
        seen: dict[bytes, int] = {}
        for p in range(3):
            log = read_log(address, "orders", p)
            assert [offset for offset, _, _ in log] == list(range(len(log)))
            by_key: dict[bytes | None, list[int]] = {}
            for _, key, value in log:
                seen[value] = seen.get(value, 0) + 1
                by_key.setdefault(key, []).append(int(value))
            for values in by_key.values():
                assert values == sorted(values)  # order per key (and partition) survived
        duplicates = {v: n for v, n in seen.items() if n > 1}
        assert duplicates == {}
        assert len(seen) == RECORDS
        for i, md in enumerate(metadata):  # the futures point at the records' real offsets
            if i % 500 == 0:
                log = {o: v for o, _, v in read_log(address, "orders", md.partition)}
                assert log[md.offset] == f"{i}".encode()
    finally:
        restarted.stop()


class LostReply(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """What the producer sees when the server went away after appending: UNAVAILABLE."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection lost before the reply"

    def initial_metadata(self) -> Any:
        return ()

    def trailing_metadata(self) -> Any:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> float | None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


def test_a_batch_appended_just_before_a_restart_is_answered_as_a_duplicate(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    servers = [EmbeddedServer(data)]
    address = servers[0].address
    make_topic(address, "orders", 1)
    producer = Producer(address, linger_ms=20)

    class LoseReplyAcrossRestart(CountingLog):
        lost = False

        def produce(self, request: Any, timeout: float) -> Any:
            reply = super().produce(request, timeout)
            if not self.lost:  # appended and fsynced, then the server goes away
                self.lost = True
                servers[-1].stop()
                time.sleep(0.2)
                servers.append(EmbeddedServer(data, grpc_address=address))
                raise LostReply()
            return reply

    calls = LoseReplyAcrossRestart(producer._log)
    producer._log = calls
    try:
        futures = [producer.produce("orders", f"{i}".encode()) for i in range(50)]
        assert producer.flush(30) == 0
        offsets = [f.result(0).offset for f in futures]
        producer.close()
        assert calls.duplicates == 1  # the retry was recognised, not appended again
        log = read_log(address, "orders", 0)
        assert [v for _, _, v in log] == [f"{i}".encode() for i in range(50)]
        assert offsets == list(range(50))
    finally:
        servers[-1].stop()
