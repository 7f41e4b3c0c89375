"""The issue 8 targets, read back from bench/results/*.json: figure, target, met or not."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench._report import report, results_dir


def _rows(name: str) -> list[dict[str, Any]]:
    """A result file's rows; in a smoke run 'met' is not meaningful and says so."""
    path = results_dir() / f"{name}.json"
    if not path.exists():
        return []
    result = json.loads(path.read_text())
    rows: list[dict[str, Any]] = result["rows"]
    if result.get("mode") == "smoke":
        for row in rows:
            if "met" in row:
                row["met"] = "n/a (smoke)"
    return rows


def targets() -> list[dict[str, Any]]:
    """One row per target row found in the results."""
    out: list[dict[str, Any]] = []
    for r in _rows("produce"):
        if "target_rec_s" in r:
            out.append(
                {
                    "what": f"{r['format']} produce, 100 B, batch 1000, acks=all, p{r['parts']}",
                    "figure": f"{r['rec_s']:,.0f} rec/s",
                    "ratio": f"{r['ratio']:.2f} cpu / {r['ratio_fsync']:.2f} fsync ceiling",
                    "target": f">= {r['target_rec_s']:,} rec/s"
                    + (" and >= 0.6 of ceiling" if r["format"] == "AVRO" else ""),
                    "met": r["met"],
                }
            )
    for r in _rows("fetch"):
        if "target_rec_s" in r:
            out.append(
                {
                    "what": f"fetch via {r['client']}, 100 B, p{r['parts']}",
                    "figure": f"{r['rec_s']:,.0f} rec/s",
                    "ratio": f"{r['ratio']:.2f} of file read",
                    "target": f">= {r['target_rec_s']:,} rec/s",
                    "met": r["met"],
                }
            )
        elif "TODO" in r:
            out.append({"what": f"fetch via {r['client']}", "figure": r["TODO"], "met": "TODO"})
    latency = _rows("latency")
    fsync = next((r for r in latency if r.get("offered_rec_s") == "fsync only"), None)
    for r in latency:
        if "target_p99_ms" in r:
            out.append(
                {
                    "what": "produce p99 at 10k rec/s offered, acks=all, batch <= 100",
                    "figure": f"{r['p99_ms']:.1f} ms",
                    "ratio": f"disk fsync alone: p99 {fsync['p99_ms']:.1f} ms" if fsync else "",
                    "target": f"<= {r['target_p99_ms']:.0f} ms",
                    "met": r["met"],
                }
            )
    for r in _rows("recovery"):
        if "target_s" in r:
            out.append(
                {
                    "what": f"restart ({r['case']}), {r['data_GiB']:.2f} GiB, {r['partitions']} p",
                    "figure": f"{r['all_partitions_s']:.2f} s",
                    "target": f"<= {r['target_s']:.0f} s",
                    "met": r["met"],
                }
            )
    for r in _rows("memory"):
        if "target_MB" in r:
            out.append(
                {
                    "what": f"idle RSS with {r['partitions']} partitions",
                    "figure": f"{r['rss_MB']:.0f} MB",
                    "target": f"<= {r['target_MB']:.0f} MB",
                    "met": r["met"],
                }
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="smoke runs are summarized too")
    parser.parse_args(argv)
    report("summary", targets() or [{"what": "no target rows in bench/results"}])


if __name__ == "__main__":
    main()
