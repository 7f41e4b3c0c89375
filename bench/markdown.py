"""``python -m bench.markdown``: full-run bench/results/*.json as Markdown, for the README."""

from __future__ import annotations

import json
from typing import Any

from bench._report import results_dir

ORDER = (
    "summary",
    "produce",
    "fetch",
    "latency",
    "e2e",
    "registry",
    "groups",
    "recovery",
    "memory",
    "log_engine",
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) < 10:
            return f"{value:.2f}"
        return f"{value:,.0f}"
    return "" if value is None else str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """One Markdown table with every column any row has."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def produce_pivot(rows: list[dict[str, Any]]) -> str:
    """The produce matrix, one line per (format, size, batch, partitions), acks across.

    Each cell: records/s, then (ratio to the CPU ceiling; for acks=all also to the fsync
    ceiling); batch-1 lines add the gRPC floor ratio (req/s over a no-op server's req/s).
    """
    lines: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        key = (r["format"], r["value_B"], r["batch"], r["parts"])
        line = lines.setdefault(
            key,
            {
                "format": r["format"],
                "value_B": r["value_B"],
                "batch": r["batch"],
                "parts": r["parts"],
            },
        )
        ratio = f"{r['ratio']:.2f}"
        if "ratio_fsync" in r:
            ratio += f" / fsync {r['ratio_fsync']:.2f}"
        line[f"acks {r['acks']}"] = f"{r['rec_s']:,.0f} ({ratio})"
        line["server_cpu (acks all)" if r["acks"] == "all" else "_"] = r.get("server_cpu")
        if "ratio_floor" in r:
            line.setdefault("gRPC floor ratio (acks 0/1/all)", [])
            line["gRPC floor ratio (acks 0/1/all)"].append(f"{r['ratio_floor']:.2f}")
    out = []
    for line in lines.values():
        line.pop("_", None)
        floor = line.get("gRPC floor ratio (acks 0/1/all)")
        if floor:
            line["gRPC floor ratio (acks 0/1/all)"] = "/".join(floor)
        order = ("format", "value_B", "batch", "parts", "acks 0", "acks 1", "acks all")
        out.append({k: line.pop(k, None) for k in order} | line)
    return table(out)


def main() -> None:
    """Print every result file found, machine first."""
    shown = False
    for name in ORDER:
        path = results_dir(smoke=False) / f"{name}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        if not shown:
            print(f"machine: `{json.dumps(result['machine'])}`\n")
            shown = True
        load = result["machine"].get("load_average_1_5_15")
        print(f"### {name} ({result.get('mode', '?')} run, load average at end {load})\n")
        rows = result["rows"]
        print((produce_pivot(rows) if name == "produce" else table(rows)) + "\n")
        for note in result.get("notes", []):
            print(f"- {note}")
        print()


if __name__ == "__main__":
    main()
