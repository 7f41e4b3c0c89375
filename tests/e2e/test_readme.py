"""The README is a promise: its snippets run against a real server, and `make run` serves."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from weir.broker.embedded import EmbeddedServer
from weir.sdk import Admin

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def blocks(language: str) -> list[str]:
    """Fenced code blocks of one language, in order."""
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_setup_block_names_the_two_commands() -> None:
    setup = blocks("sh")[0]
    assert setup.startswith("make run")
    assert "make test" in setup
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_shell_walkthrough_runs(server: EmbeddedServer, tmp_path: Path) -> None:
    script = blocks("sh")[1]
    env = {**os.environ, "WEIR_SERVER": server.address, "PATH": f"{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exit code 1" in done.stdout
    assert "email" in done.stdout + done.stderr
    assert server.server.registry.list_versions("orders-value") == [1, 2]


def test_broker_walkthrough_runs(server: EmbeddedServer, tmp_path: Path) -> None:
    registry_script, broker_script = blocks("sh")[1:3]
    env = {**os.environ, "WEIR_SERVER": server.address, "PATH": f"{BIN}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", registry_script + broker_script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "exit code 1" in done.stdout  # the incompatible schema check
    assert "exit code 2" in done.stdout  # the line that does not fit the schema
    assert "line 1" in done.stderr
    consumed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"topic')]
    assert sorted(r["value"]["id"] for r in consumed[:2]) == ["o-1", "o-2"]
    assert len(consumed) == 3  # two from the beginning, then one as a member of 'billing'
    assert re.search(r"orders\s+0\s+1\s+2\s+1\s", done.stdout)  # committed 1, end 2, lag 1
    assert "1 records re-delivered" in done.stdout  # the dry-run reset to earliest
    assert server.server.log_store.offsets  # the server really holds the records
    total = sum(
        server.server.log_store.offsets(server.server.topics.get("orders").partition(p)).log_end
        for p in range(3)
    )
    assert total == 2


def _run_python(snippet: str, server: EmbeddedServer) -> str:
    assert "localhost:50051" in snippet
    code = snippet.replace("localhost:50051", server.address)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_python_snippet_runs(server: EmbeddedServer) -> None:
    registry_snippet = blocks("python")[0]
    assert _run_python(registry_snippet, server).split() == ["1", "1", "True"]


def test_sdk_quickstart_runs(server: EmbeddedServer) -> None:
    """Register, produce, consume with manual commit: exactly as the README shows it."""
    quickstart = blocks("python")[1]
    printed = sorted(_run_python(quickstart, server).splitlines())
    assert printed == ["p-0 0", "p-1 100", "p-2 200"]
    registry = server.server.registry
    assert registry.list_versions("payments-value") == [1]
    with Admin(server.address) as admin:
        committed = admin.committed_offsets("ledger")
    # Each partition's commit is one past its last processed record: 3 records in all.
    assert sum(c.offset or 0 for c in committed if c.topic == "payments") == 3


def test_make_run_serves_until_sigterm() -> None:
    data = ROOT / "weir-data"
    existed = data.exists()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        seen = []
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("weir: serving gRPC on") or time.monotonic() > deadline:
                break
        assert any("serving gRPC on 127.0.0.1:50051" in line for line in seen), seen
        assert data.is_dir()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if not existed:
            shutil.rmtree(data, ignore_errors=True)
