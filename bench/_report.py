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
"""Full runs write here; smoke runs write to RESULTS / "smoke" so CI never clobbers them."""
PACKAGES = (
    "weir",
    "grpcio",
    "protobuf",
    "fastavro",
    "jsonschema",
    "jsonschema-rs",
    "crc32c",
)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _proc_field(path: str, prefix: str) -> str:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(prefix)), "")


def smoke_mode() -> bool:
    """True under ``--smoke`` (``python -m bench --smoke``, ``python -m bench.<name> --smoke``)."""
    return "--smoke" in sys.argv


def results_dir(smoke: bool | None = None) -> Path:
    """Where this run's JSON files go: bench/results, or bench/results/smoke."""
    return RESULTS / "smoke" if (smoke_mode() if smoke is None else smoke) else RESULTS


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was."""
    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor()
    ram_kb = _proc_field("/proc/meminfo", "MemTotal").split()[:1]
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(int(ram_kb[0]) / (1 << 20), 1) if ram_kb else None,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_1_5_15": load,
        "versions": {p: _version(p) for p in PACKAGES},
    }


def percentiles(samples_s: list[float]) -> dict[str, float]:
    """p50/p99/p99.9 and mean of samples, in microseconds."""
    ordered = sorted(samples_s)
    if not ordered:
        return {"mean_us": 0.0, "p50_us": 0.0, "p99_us": 0.0, "p999_us": 0.0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6

    return {
        "mean_us": statistics.fmean(ordered) * 1e6,
        "p50_us": at(0.50),
        "p99_us": at(0.99),
        "p999_us": at(0.999),
    }


def report(
    name: str, rows: list[dict[str, Any]], *, notes: list[str] | None = None, **extra: Any
) -> None:
    """Print rows as a table (and notes) and write bench/results/<name>.json.

    The load average is read when the benchmark ends, so it covers the run.
    """
    columns = list(dict.fromkeys(k for row in rows for k in row))
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print(f"\n== {name} ==")
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))
    for note in notes or []:
        print(f"  note: {note}")
    out_dir = results_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = "smoke" if smoke_mode() else "full"
    out = {
        "benchmark": name,
        "mode": mode,
        "machine": machine(),
        "notes": notes or [],
        **extra,
        "rows": rows,
    }
    (out_dir / f"{name}.json").write_text(json.dumps(out, indent=2) + "\n")
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:,.2f}"
        return f"{value:,.0f}"
    return "" if value is None else str(value)
