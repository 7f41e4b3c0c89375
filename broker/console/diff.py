"""A side-by-side line diff of two schema texts (difflib), rendered as a table."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from weir.broker.console.markup import Markup, tag
from weir.core.types import SchemaType
from weir.registry.model import StoredSchema


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff; a side is None where the other side has a line alone."""

    kind: str
    """equal, delete, insert or replace."""
    old_no: int | None
    """Line number on the old side."""
    old: str | None
    """The old line."""
    new_no: int | None
    """Line number on the new side."""
    new: str | None
    """The new line."""


def pretty(schema: StoredSchema) -> str:
    """Schema text for reading: JSON formats pretty-printed, .proto text as registered."""
    if schema.schema_type is SchemaType.PROTOBUF:
        return schema.text.strip("\n")
    try:
        return json.dumps(json.loads(schema.text), indent=2, ensure_ascii=False)
    except ValueError:
        return schema.text


def side_by_side(old: str, new: str) -> list[DiffRow]:
    """Pair the lines of two texts, marking what changed."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            left = (i + 1, a[i]) if i < i2 else (None, None)
            right = (j + 1, b[j]) if j < j2 else (None, None)
            rows.append(DiffRow(op, left[0], left[1], right[0], right[1]))
    return rows


def render_diff(rows: list[DiffRow], old_label: str, new_label: str) -> Markup:
    """The rows as a two-sided table; changed lines carry a class per side."""
    body = []
    for row in rows:
        old_class = "del" if row.old is not None and row.kind != "equal" else "eq"
        new_class = "ins" if row.new is not None and row.kind != "equal" else "eq"
        body.append(
            tag(
                "tr",
                tag("td", row.old_no, class_="no"),
                tag("td", tag("code", row.old), class_=old_class),
                tag("td", row.new_no, class_="no"),
                tag("td", tag("code", row.new), class_=new_class),
                class_=row.kind,
            )
        )
    head = tag("tr", tag("th", old_label, colspan=2), tag("th", new_label, colspan=2))
    widths = tag(
        "colgroup",
        tag("col", class_="no"),
        tag("col", class_="text"),
        tag("col", class_="no"),
        tag("col", class_="text"),
    )
    return tag("table", widths, tag("thead", head), tag("tbody", *body), class_="diff")
