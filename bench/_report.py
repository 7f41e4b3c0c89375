"""Shared reporting: machine facts, a printed table, and a JSON file per benchmark."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("grpcio", "protobuf", "fastavro", "jsonschema")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": {p: metadata.version(p) for p in PACKAGES},
    }


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p99/p99.9 and mean of samples, in microseconds."""
    ordered = sorted(samples_s)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6

    return {
        "mean_us": statistics.fmean(ordered) * 1e6,
        "p50_us": at(0.50),
        "p99_us": at(0.99),
        "p999_us": at(0.999),
    }


def report(name: str, rows: list[dict[str, Any]]) -> None:
    """Print rows as a table and write bench/results/<name>.json."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print(f"\n== {name} ==")
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))
    RESULTS.mkdir(exist_ok=True)
    out = {"benchmark": name, "machine": machine(), "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return "" if value is None else str(value)
