"""SDK clients and the server's max_concurrent_streams: each client has its own connection, and
a call the server refused unread (HTTP/2 REFUSED_STREAM) is sent again even when it must not
run twice, because the server never saw it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from weir.broker.embedded import EmbeddedServer
from weir.sdk import Admin, Consumer, TopicPartition


def test_each_client_has_its_own_connection(tmp_path: Path) -> None:
    """With one stream per connection, a consumer's long-poll would hold up every other client
    of the process if grpc put them all on one connection (its default)."""
    with EmbeddedServer(tmp_path / "data", max_concurrent_streams=1) as server:
        with Admin(server.address) as admin:
            admin.create_topic("t", 1, {"value.schema.validation": "none"})
        consumer = Consumer(None, server=server.address, fetch_max_wait_ms=3000)
        consumer.assign([TopicPartition("t", 0)])
        polling = threading.Thread(target=consumer.poll, args=(3.0,))
        polling.start()
        time.sleep(0.5)  # the long-poll is on the consumer's connection now
        try:
            with Admin(server.address) as other:
                started = time.monotonic()
                names = [t.name for t in other.list_topics()]
                waited = time.monotonic() - started
        finally:
            polling.join()
            consumer.close()
        assert names == ["t"]
        assert waited < 1.0, f"the admin call waited {waited:.2f} s behind the consumer's poll"


def test_calls_refused_past_the_stream_limit_are_sent_again(tmp_path: Path) -> None:
    """create_topic must not run twice, yet a REFUSED_STREAM is safe to resend: 160 creations
    from 8 threads on one client against a 2-stream limit all succeed, each exactly once."""
    with (
        EmbeddedServer(tmp_path / "data", max_concurrent_streams=2) as server,
        Admin(server.address) as admin,
        ThreadPoolExecutor(8) as pool,
    ):
        names = [f"t{i}" for i in range(160)]
        list(pool.map(lambda name: admin.create_topic(name, 1), names))
        assert sorted(t.name for t in admin.list_topics()) == sorted(names)
