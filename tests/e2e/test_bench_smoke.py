"""Benchmarks run in smoke mode (tiny sizes) and write their JSON; no timing is asserted.

Smoke results go to bench/results/smoke/, so this test never overwrites a full run's files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    "registry",
    "log_engine",
    "produce",
    "fetch",
    "latency",
    "e2e",
    "groups",
    "recovery",
    "memory",
    "summary",
)


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
    results = {}
    for name in NAMES:
        assert f"== {name} ==" in done.stdout
        result = json.loads((ROOT / "bench" / "results" / "smoke" / f"{name}.json").read_text())
        assert result["mode"] == "smoke"
        assert result["machine"]["cores"] >= 1
        assert len(result["machine"]["load_average_1_5_15"]) == 3
        assert result["machine"]["versions"]["grpcio"] != "not installed"
        assert result["rows"]
        results[name] = result["rows"]
    # Every throughput figure comes with its ceiling and the ratio between them.
    for row in results["produce"] + results["fetch"]:
        if "TODO" not in row:
            assert row["rec_s"] > 0
            assert row["ceiling_rec_s"] > 0
            assert abs(row["ratio"] - row["rec_s"] / row["ceiling_rec_s"]) < 1e-9
    for row in results["latency"] + results["e2e"]:
        if "TODO" not in row:
            assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["p999_ms"]
    recovery = [r for r in results["recovery"] if "all_partitions_s" in r]
    assert {r["case"] for r in recovery} >= {
        "clean restart, cold cache",
        "after SIGKILL, cold cache",
    }
    assert all(0 < r["first_list_offsets_s"] <= r["all_partitions_s"] for r in recovery)
    assert all(r["rss_MB"] > 0 for r in results["memory"])
    # Smoke figures are never judged against the targets.
    assert all(r.get("met", "n/a (smoke)") == "n/a (smoke)" for r in results["summary"])
