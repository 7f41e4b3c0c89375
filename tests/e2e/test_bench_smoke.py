"""Benchmarks run in smoke mode (tiny sizes) and write their JSON; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_writes_results() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("registry", "log_engine", "produce", "groups"):
        assert f"== {name} ==" in done.stdout
        result = json.loads((ROOT / "bench" / "results" / f"{name}.json").read_text())
        assert result["machine"]["cores"] >= 1
        assert result["rows"]
