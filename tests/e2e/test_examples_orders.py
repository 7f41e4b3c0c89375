"""examples/orders runs end to end: one producer, two `checkout` members, one `analytics`.

Every process is a real `python examples/orders/...` run against a `weir serve` process, as a
user would start them. The producer replays some events on purpose; checkout must charge each
order exactly once and both members must have owned partitions; analytics sees every event.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import ServeProcess, clean_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "orders"
COUNT = 300
REPLAY = 40


def _start(script: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line(process: subprocess.Popen[str], timeout_s: float = 30) -> dict[str, object]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "no output"
    assert time.monotonic() < deadline
    return json.loads(line)


def _last_json(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_orders_example_end_to_end(serve: Callable[[Path], ServeProcess], tmp_path: Path) -> None:
    server = serve(tmp_path / "data")
    address = ("--server", server.address)
    produced = subprocess.run(
        [sys.executable, str(EXAMPLES / "produce_orders.py"), *address, "--count", "0"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # creates the topic and registers nothing yet: members can subscribe to it
    assert produced.returncode == 0, produced.stderr

    db = str(tmp_path / "checkout.db")
    members = [
        _start(
            "checkout.py", *address, "--db", db, "--name", name, "--idle-exit", "6", cwd=tmp_path
        )
        for name in ("a", "b")
    ]
    analytics = _start("analytics.py", *address, "--idle-exit", "6", cwd=tmp_path)
    for member in members:  # each prints a line when the group gives it partitions
        assert _first_line(member)["assigned"]
    assert _first_line(analytics)["started"]

    produced = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "produce_orders.py"),
            *address,
            "--count",
            str(COUNT),
            "--replay",
            str(REPLAY),
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert produced.returncode == 0, produced.stderr
    assert json.loads(produced.stdout) == {"produced": COUNT + REPLAY, "replayed": REPLAY}

    reports = [_last_json(member) for member in members]
    summary = _last_json(analytics)

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT order_id) FROM charges").fetchone()
    assert rows == (COUNT, COUNT)  # every order charged, and only once
    assert sum(r["charged"] for r in reports) == COUNT
    assert sum(r["duplicates"] for r in reports) >= REPLAY  # replays seen and skipped
    assert all(r["partitions"] for r in reports)  # both members owned partitions
    assert summary["events"] == COUNT + REPLAY  # analytics read every event once
