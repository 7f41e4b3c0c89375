"""Helpers for the fault and load tests: a `weir serve` on a fixed port, its RSS and threads,
reading a whole partition, and the long-mode switch.

``WEIR_TEST_LONG=1`` (set by ``make test-long``) makes the heavy tests run their long versions.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

import grpc

from tests.e2e.conftest import SERVING, WEIR, clean_env
from weir.v1 import log_service_pb2 as ls
from weir.v1 import log_service_pb2_grpc as ls_grpc

LONG = os.environ.get("WEIR_TEST_LONG", "") not in ("", "0")
"""True in `make test-long`."""


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FixedServe:
    """`weir serve` on a fixed gRPC port, restartable on the same port and data dir."""

    def __init__(self, data_dir: Path, log: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = port or free_port()
        self.env = env
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self, timeout_s: float = 30) -> None:
        """Start the server and wait until it serves."""
        code = start_or_exit(self, timeout_s)
        if code is not None:
            raise AssertionError(f"weir serve exited {code} before serving; see {self.log}")

    def _first_line(self) -> str:
        assert self.process is not None
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def _drain(self) -> None:
        process = self.process
        if process is not None and process.stdout is not None:
            for _ in process.stdout:
                pass

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.process is not None
        return self.process.pid

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> int:
        """Signal the server and wait for it to exit; returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def rss_kb(self) -> int:
        """Resident memory from /proc, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    def threads(self) -> int:
        """The server's thread count, from /proc."""
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def open_fds(self) -> int:
        """The server's open file descriptors (sockets included), from /proc."""
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def read_partition(address: str, topic: str, partition: int) -> list[tuple[int, bytes]]:
    """Every (offset, value) of a partition, from its log start."""
    return read_all(address, topic, partition)[1]


def read_all(address: str, topic: str, partition: int) -> tuple[int, list[tuple[int, bytes]]]:
    """(log start, every (offset, value) from it on)."""
    with grpc.insecure_channel(address) as channel:
        stub = ls_grpc.LogServiceStub(channel)
        found: list[tuple[int, bytes]] = []
        offset, start = 0, None
        while True:
            reply = stub.Fetch(
                ls.FetchRequest(
                    partitions=[ls.FetchPartition(topic=topic, partition=partition, offset=offset)]
                ),
                timeout=30,
            )
            part = reply.partitions[0]
            if part.error_message and start is None and "outside" in part.error_message:
                offset = start = part.log_start_offset  # below log start: begin there
                continue
            assert not part.error_message, f"{topic}-{partition}: {part.error_message}"
            start = part.log_start_offset if start is None else start
            if not part.records:
                return start, found
            found += [(r.offset, r.value) for r in part.records]
            offset = part.records[-1].offset + 1


def start_or_exit(server: FixedServe, timeout_s: float = 30) -> int | None:
    """Start ``server``; None once it serves, or its exit code when it ended before serving
    (a crash point armed on the way up)."""
    with server.log.open("a") as stderr:
        server.process = subprocess.Popen(
            [
                str(WEIR),
                "serve",
                "--data-dir",
                str(server.data_dir),
                "--grpc",
                server.address,
                "--http",
                "127.0.0.1:0",
            ],
            env=clean_env(**server.env),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(server._first_line()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    if line and line[0].startswith(SERVING):
        server.starts += 1
        threading.Thread(target=server._drain, daemon=True).start()
        return None
    if line and line[0] == "":  # stdout closed: the process is ending
        return wait_exit(server, timeout_s)
    server.kill()
    raise AssertionError(f"weir serve neither served nor exited: {line}; see {server.log}")


def wait_exit(server: FixedServe, timeout_s: float = 30) -> int:
    """Wait for ``server`` to end by itself; its exit code (AssertionError after timeout_s,
    having killed it)."""
    assert server.process is not None
    try:
        code = server.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.kill()
        raise AssertionError(f"weir serve did not exit within {timeout_s} s") from None
    server.process = None
    return code
