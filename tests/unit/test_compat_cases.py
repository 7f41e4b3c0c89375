"""Runs every row in tests/compat_cases/*.toml through the compatibility engine.

A row: format (AVRO|PROTOBUF|JSON), level, history (oldest first, or `old` for one),
new, expected (true = compatible), reason (why, for people), and optionally `rule`:
a rule id that must be among the incompatibilities found. Optional `references`
maps a reference name to schema text shared by every schema in the row.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from weir.core.types import CompatibilityLevel, SchemaType
from weir.registry.compatibility import check_compatibility
from weir.registry.formats import ResolvedReference, get_format

CASES_DIR = Path(__file__).resolve().parent.parent / "compat_cases"


def load_cases() -> list[Any]:
    rows = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        for i, case in enumerate(tomllib.loads(path.read_text())["case"]):
            rows.append(pytest.param(case, id=f"{path.stem}[{i}]-{case.get('name', '')}"))
    return rows


def parse_all(case: dict[str, Any]) -> tuple[Any, list[Any]]:
    fmt = get_format(SchemaType(case["format"]))
    refs = [
        ResolvedReference(name, fmt.parse(text))
        for name, text in case.get("references", {}).items()
    ]
    history = case["history"] if "history" in case else [case["old"]]
    return fmt.parse(case["new"], refs), [fmt.parse(h, refs) for h in history]


@pytest.mark.parametrize("case", load_cases())
def test_compat_case(case: dict[str, Any]) -> None:
    new, history = parse_all(case)
    result = check_compatibility(CompatibilityLevel(case["level"]), new, history)
    found = [f"{i.rule} {i.path}: {i.message}" for i in result.incompatibilities]
    assert result.compatible == case["expected"], (case["reason"], found)
    if not case["expected"]:
        assert all(i.message and i.rule for i in result.incompatibilities)
    if "rule" in case:
        assert case["rule"] in {i.rule for i in result.incompatibilities}, found


def test_there_are_enough_cases() -> None:
    cases = [p.values[0] for p in load_cases()]
    assert len(cases) >= 150
    for fmt in ("AVRO", "PROTOBUF", "JSON"):
        levels = {c["level"] for c in cases if c["format"] == fmt}
        assert levels == {level.value for level in CompatibilityLevel}, fmt
