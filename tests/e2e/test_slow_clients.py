"""Slow and dead clients must not pin the server's memory, threads, tasks or sockets.

* Deadlines: long-polls whose client deadline passes end at the deadline, and the server's
  tasks for them go away.
* Disconnects: a client that closes its channel mid-request (or is SIGKILLed) frees its
  long-polls at once.
* Frozen clients (SIGSTOP: they stop reading, mid-response or with only long-polls pending)
  slow nobody down and add no threads; the server's keepalive pings go unanswered and their
  connections are closed while they are still frozen (grpc core needs
  ``grpc.http2.ping_timeout_ms`` for that, or it waits a minute for a ping's ack); the memory
  their stuck responses held is reused, not accumulated, wave after wave.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc

from tests.e2e.fault_helpers import FixedServe
from tests.integration.broker_helpers import Broker, record
from weir.broker.embedded import EmbeddedServer
from weir.v1 import log_service_pb2 as ls


def server_tasks(server: EmbeddedServer) -> int:
    async def count() -> int:
        return len(asyncio.all_tasks())

    return server.call(count())


def long_poll(topic: str, wait_ms: int = 30_000, max_bytes: int = 1 << 20) -> ls.FetchRequest:
    return ls.FetchRequest(
        partitions=[ls.FetchPartition(topic=topic, partition=0, offset=0, max_bytes=max_bytes)],
        max_wait_ms=wait_ms,
        max_bytes=max_bytes,
    )


def settle(measure: object, target: int, slack: int, timeout_s: float = 10) -> int:
    """Poll ``measure()`` until it is at most target + slack; return the last value."""
    deadline = time.monotonic() + timeout_s
    value = measure()  # type: ignore[operator]
    while value > target + slack and time.monotonic() < deadline:
        time.sleep(0.1)
        value = measure()  # type: ignore[operator]
    return int(value)


def test_deadlines_and_disconnects_free_long_polls(tmp_path: Path) -> None:
    with EmbeddedServer(tmp_path / "data") as server:
        with grpc.insecure_channel(server.address) as channel:
            Broker(channel).create_topic("idle", 1, value_schema_validation="none")
        baseline = server_tasks(server)
        channel = grpc.insecure_channel(server.address)
        broker = Broker(channel)
        started = time.monotonic()
        polls = [broker.log.Fetch.future(long_poll("idle"), timeout=0.5) for _ in range(100)]
        codes = set()
        for p in polls:
            try:
                p.result()
            except grpc.RpcError as e:
                codes.add(e.code())
        assert codes == {grpc.StatusCode.DEADLINE_EXCEEDED}
        assert time.monotonic() - started < 3.0
        assert settle(lambda: server_tasks(server), baseline, 2) <= baseline + 2

        polls = [broker.log.Fetch.future(long_poll("idle")) for _ in range(100)]
        time.sleep(0.5)
        assert server_tasks(server) >= baseline + 100  # all parked on the server
        channel.close()  # the client goes away mid-request
        assert settle(lambda: server_tasks(server), baseline, 2, 5) <= baseline + 2
        assert all(p.done() for p in polls)


FROZEN_CLIENT = r"""
import os, signal, sys, time, grpc
from weir.v1 import log_service_pb2 as ls, log_service_pb2_grpc as g
address, reads = sys.argv[1], int(sys.argv[2])
channel = grpc.insecure_channel(address)
grpc.channel_ready_future(channel).result(timeout=10)
stub = g.LogServiceStub(channel)
big = ls.FetchRequest(
    partitions=[ls.FetchPartition(topic="big", partition=0, offset=0, max_bytes=4 << 20)],
    max_bytes=4 << 20,
)
polls = [
    stub.Fetch.future(ls.FetchRequest(
        partitions=[ls.FetchPartition(topic="idle", partition=0, offset=0)], max_wait_ms=30000))
    for _ in range(20)
]
pending = [stub.Fetch.future(big) for _ in range(reads)]
time.sleep(0.3)  # the requests reach the server (and its answers start coming back)
print("sent", flush=True)
os.kill(os.getpid(), signal.SIGSTOP)  # stop reading, mid-response when reads > 0
"""
CLIENTS = 6
READS = 3
MIB = 1024


class Frozen:
    """CLIENTS client processes that sent requests and then froze (SIGSTOP)."""

    def __init__(self, address: str, reads: int) -> None:
        self.clients = []
        for _ in range(CLIENTS):
            client = subprocess.Popen(
                [sys.executable, "-c", FROZEN_CLIENT, address, str(reads)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert client.stdout is not None
            assert client.stdout.readline() == "sent\n"
            self.clients.append(client)

    def kill(self) -> None:
        for client in self.clients:
            client.send_signal(signal.SIGKILL)
            client.wait(timeout=10)
            assert client.stdout is not None
            client.stdout.close()


def start_server(tmp_path: Path) -> tuple[FixedServe, grpc.Channel, Broker]:
    server = FixedServe(
        tmp_path / "data",
        tmp_path / "serve.log",
        WEIR_KEEPALIVE_TIME_MS="1000",
        WEIR_KEEPALIVE_TIMEOUT_MS="1000",
    )
    server.start()
    channel = grpc.insecure_channel(server.address)
    broker = Broker(channel)
    broker.create_topic("idle", 1, value_schema_validation="none")
    broker.create_topic("big", 1, value_schema_validation="none")
    for _ in range(4):  # 4 MiB for each frozen client to ask for READS times
        broker.produce("big", [record(b"b" * (64 << 10)) for _ in range(16)])
    return server, channel, broker


def served_promptly(broker: Broker) -> None:
    started = time.monotonic()
    offset = broker.produce("idle", [record(b"still here")]).results[0].offsets[0]
    assert broker.fetch("idle", 0, offset).records[0].value == b"still here"
    assert time.monotonic() - started < 1.0, "frozen clients slowed everyone down"


def test_keepalive_closes_frozen_clients_connections(tmp_path: Path) -> None:
    """Clients frozen with only long-polls pending: the server's pings go unanswered."""
    server, channel, broker = start_server(tmp_path)
    base_fds, base_threads = server.open_fds(), server.threads()
    frozen = Frozen(server.address, reads=0)
    try:
        started = time.monotonic()
        assert server.open_fds() > base_fds  # the first ones may already be cut off
        served_promptly(broker)
        fds = settle(server.open_fds, base_fds, 1, timeout_s=10)
        took = time.monotonic() - started
        assert fds <= base_fds + 1, f"keepalive left frozen connections open: {fds} > {base_fds}"
        print(f"keepalive (1 s + 1 s) closed {CLIENTS} frozen connections in {took:.1f} s")
        assert server.threads() <= base_threads + 2
    finally:
        frozen.kill()
    channel.close()
    server.kill(signal.SIGTERM)


def test_clients_frozen_mid_response_do_not_pin_the_server(tmp_path: Path) -> None:
    """Frozen with 4 MiB responses stuck in their socket, cut off by keepalive. Three waves."""
    server, channel, broker = start_server(tmp_path)
    base_fds, base_threads, base_rss = server.open_fds(), server.threads(), server.rss_kb()
    peaks, after = [], []
    for _ in range(3):
        frozen = Frozen(server.address, reads=READS)
        try:
            time.sleep(0.5)
            served_promptly(broker)
            assert server.threads() <= base_threads + 4
            peaks.append(server.rss_kb())
            fds = settle(server.open_fds, base_fds, 1, timeout_s=10)  # still frozen
            assert fds <= base_fds + 1, f"frozen connections still open: {fds} > {base_fds}"
            after.append(server.rss_kb())
        finally:
            frozen.kill()
    print(
        f"frozen mid-response, 3 waves of {CLIENTS} clients x {READS} x 4 MiB: RSS base "
        f"{base_rss // MIB} MiB, while frozen {[p // MIB for p in peaks]} MiB, after "
        f"{[a // MIB for a in after]} MiB; threads {base_threads} -> {server.threads()}"
    )
    in_flight = CLIENTS * READS * 4 * MIB
    assert max(peaks) < base_rss + 4 * in_flight, "more memory than the responses in flight"
    assert after[2] <= after[0] + 32 * MIB, f"memory grows wave after wave: {after}"
    assert broker.end_offset("idle") == 3
    channel.close()
    server.kill(signal.SIGTERM)
