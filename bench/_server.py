"""A `weir serve` subprocess for benchmarks: its own process, so it never shares our GIL.

    with ServerProcess() as server:          # temp data dir, ports chosen by the OS
        channel = server.channel()
        server.rss_kb()                      # VmRSS of the server process

``ServerProcess(data_dir)`` reuses a directory (restart and recovery timings); ``kill()``
sends SIGKILL, ``stop()`` SIGTERM and waits for a clean exit.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import grpc

_GRPC_LINE = re.compile(r"weir: serving gRPC on (\S+)")


def weir_command() -> list[str]:
    """The `weir` console script next to this Python, else ``python -m weir.sdk.cli``."""
    script = Path(sys.executable).with_name("weir")
    if script.exists():
        return [str(script)]
    found = shutil.which("weir")
    return [found] if found else [sys.executable, "-m", "weir.sdk.cli"]


class ServerProcess:
    """A running `weir serve` on 127.0.0.1 with --grpc/--http on port 0."""

    def __init__(self, data_dir: Path | None = None, *, start_timeout_s: float = 120) -> None:
        """Start the server and wait until it prints its gRPC address."""
        self._tmp = None if data_dir is not None else tempfile.TemporaryDirectory(prefix="wb-")
        self.data_dir = data_dir if data_dir is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.started = time.perf_counter()
        """perf_counter() just before the process was spawned."""
        self.proc = subprocess.Popen(
            [
                *weir_command(),
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--grpc",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.address = self._wait_address(start_timeout_s)
        """HOST:PORT of the gRPC server."""
        self.printed = time.perf_counter()
        """perf_counter() when the serving line was read."""
        self._stderr: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.proc.pid

    def _wait_address(self, timeout_s: float) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"weir serve exited ({self.proc.wait()}): {err[-2000:]}")
            match = _GRPC_LINE.search(line)
            if match:
                return match.group(1)
        self.kill()
        raise RuntimeError(f"weir serve printed no gRPC address in {timeout_s} s")

    def _drain(self) -> None:
        # Keep the pipes empty so a chatty server never blocks on a full pipe.
        def pump(stream: object, keep: list[str] | None) -> None:
            for line in stream:  # type: ignore[attr-defined]
                if keep is not None:
                    keep.append(line)
                    del keep[:-50]

        if self.proc.stderr is not None:
            threading.Thread(
                target=pump, args=(self.proc.stderr, self._stderr), daemon=True
            ).start()
        if self.proc.stdout is not None:
            pump(self.proc.stdout, None)

    def channel(self) -> grpc.Channel:
        """A new insecure channel to the server (large messages allowed)."""
        return grpc.insecure_channel(
            self.address,
            options=[
                ("grpc.max_send_message_length", 64 << 20),
                ("grpc.max_receive_message_length", 64 << 20),
            ],
        )

    def rss_kb(self) -> int:
        """The server's resident set size (VmRSS), in KiB."""
        return _status_kb(self.pid, "VmRSS")

    def peak_rss_kb(self) -> int:
        """The server's peak resident set size (VmHWM), in KiB."""
        return _status_kb(self.pid, "VmHWM")

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM, wait for the exit code (SIGKILL after ``timeout_s``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: the crash case for recovery timings."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        """Stop the server and remove a temp data dir."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0
