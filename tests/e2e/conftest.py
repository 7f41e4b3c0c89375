"""Helpers for running the `weir` console script as a subprocess."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WEIR = Path(sys.executable).with_name("weir")
"""The console script installed next to this interpreter (.venv/bin/weir)."""

SERVING = "weir: serving gRPC on "


@dataclass(frozen=True)
class Run:
    """One finished CLI invocation."""

    code: int
    """The exit code."""
    stdout: str
    """What it printed on stdout."""
    stderr: str
    """What it printed on stderr."""

    def json(self) -> Any:
        """stdout parsed as JSON (a failure shows the exit code, stdout and stderr)."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"weir printed no JSON (exit {self.code}); stdout {self.stdout[:500]!r}, "
                f"stderr {self.stderr[-2000:]!r}"
            ) from None


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI run: this one without WEIR_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env.update(extra)
    return env


def run_weir(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `weir ARGS...` and wait for it."""
    done = subprocess.run(
        [str(WEIR), *map(str, args)],
        cwd=cwd,
        env=env if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


Weir = Callable[..., Run]


@pytest.fixture
def weir(tmp_path: Path) -> Weir:
    """Run `weir ...` in tmp_path with a clean environment."""

    def call(*args: str | Path, env: dict[str, str] | None = None) -> Run:
        return run_weir(*args, cwd=tmp_path, env=env)

    return call


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a file under tmp_path; returns its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


class ServeProcess:
    """`weir serve` running as a child process, with its stdout read by a thread."""

    def __init__(self, data_dir: Path, cwd: Path, log: Path, extra: tuple[str, ...] = ()) -> None:
        self.log = log
        """Where the server's stderr (its log) goes."""
        with log.open("a") as stderr:
            self.process = subprocess.Popen(
                [
                    str(WEIR),
                    "serve",
                    *(
                        "--data-dir",
                        str(data_dir),
                        "--grpc",
                        "127.0.0.1:0",
                        "--http",
                        "127.0.0.1:0",
                    ),
                    *extra,
                ],
                cwd=cwd,
                env=clean_env(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()
        self.address = self.wait_for(SERVING).removeprefix(SERVING).strip()
        """HOST:PORT parsed from the serving line."""

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, prefix: str, timeout_s: float = 30) -> str:
        """The next stdout line starting with ``prefix``."""
        while True:
            try:
                line = self.lines.get(timeout=timeout_s)
            except queue.Empty:
                self.stop(signal.SIGKILL)
                raise AssertionError(
                    f"no line starting {prefix!r} from weir serve; stdout so far: {self.stdout}"
                ) from None
            self.stdout.append(line)
            if line.startswith(prefix):
                return line

    def stop(self, sig: signal.Signals, timeout_s: float = 30) -> int:
        """Send a signal and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout_s)
        self.pump.join(timeout=10)
        while not self.lines.empty():
            self.stdout.append(self.lines.get())
        return code


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start `weir serve` processes (more flags after the data dir); any still running are
    killed after the test."""
    started: list[ServeProcess] = []

    def start(data_dir: Path, *extra: str) -> ServeProcess:
        log = tmp_path / f"serve-{len(started)}.log"
        process = ServeProcess(data_dir, tmp_path, log, extra)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.stop(signal.SIGKILL)
        if process.process.stdout is not None and not process.pump.is_alive():
            process.process.stdout.close()
