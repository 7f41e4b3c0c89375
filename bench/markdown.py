"""``python -m bench.markdown``: bench/results/*.json as Markdown tables, for bench/README.md."""

from __future__ import annotations

import json
from typing import Any

from bench._report import RESULTS

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


def main() -> None:
    """Print every result file found, machine first."""
    shown = False
    for name in ORDER:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        if not shown:
            print(f"machine: `{json.dumps(result['machine'])}`\n")
            shown = True
        load = result["machine"].get("load_average_1_5_15")
        print(f"### {name} ({result.get('mode', '?')} run, load average at end {load})\n")
        print(table(result["rows"]) + "\n")
        for note in result.get("notes", []):
            print(f"- {note}")
        print()


if __name__ == "__main__":
    main()
