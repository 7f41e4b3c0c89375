"""Subjects: the list, one subject's history with the compatibility of each step, and diffs."""

from __future__ import annotations

from aiohttp import web

from weir.broker.console.context import Console
from weir.broker.console.diff import pretty, render_diff, side_by_side
from weir.broker.console.errors import parse_int
from weir.broker.console.markup import Markup, join, link, page, pre, table, tag, url
from weir.registry.compatibility import CompatibilityResult, check_compatibility
from weir.registry.model import SubjectVersion


async def subjects_page(c: Console, request: web.Request) -> str:
    """Every subject with its latest version, type and compatibility level."""
    rows = []
    for subject in c.registry.list_subjects():
        latest = c.registry.get_version(subject)
        rows.append(
            (
                link(url("subjects", subject), subject),
                latest.version,
                latest.schema.schema_type,
                latest.schema.id,
                c.registry.get_config(subject, default_to_global=True),
            )
        )
    headers = ("Subject", "Latest version", "Type", "Schema id", "Compatibility")
    body = join(
        (
            tag("p", f"global compatibility level: {c.registry.get_config()}"),
            table(headers, rows, class_="subjects"),
        )
    )
    return page("Subjects", body, "subjects")


async def subject_page(c: Console, request: web.Request) -> str:
    """Version history; each version checked against those before it under the level."""
    subject = request.match_info["subject"]
    versions = [c.registry.get_version(subject, v) for v in c.registry.list_versions(subject)]
    level = c.registry.get_config(subject, default_to_global=True)
    rows = []
    for i, sv in enumerate(versions):
        result = _step(c, sv, versions[:i]) if i else None
        diff = (
            link(url("diff", subject, old=versions[i - 1].version, new=sv.version), "diff")
            if i
            else ""
        )
        rows.append((sv.version, sv.schema.id, sv.schema.schema_type, _verdict(result), diff))
    latest = versions[-1]
    body = join(
        (
            tag("p", f"compatibility level: {level}"),
            table(("Version", "Schema id", "Type", "Compatibility step", ""), rows, "history"),
            _diff_form(subject, versions),
            tag("h2", f"Version {latest.version}"),
            pre(pretty(latest.schema), class_="schema-text"),
        )
    )
    return page(f"Subject {subject}", body, "subjects")


async def diff_page(c: Console, request: web.Request) -> str:
    """Two versions side by side, with the compatibility of the newer against the older."""
    subject = request.match_info["subject"]
    available = c.registry.list_versions(subject)
    old_v = parse_int(request.query.get("old"), "old", available[max(0, len(available) - 2)], 1)
    new_v = parse_int(request.query.get("new"), "new", available[-1], 1)
    old, new = c.registry.get_version(subject, old_v), c.registry.get_version(subject, new_v)
    level = c.registry.get_config(subject, default_to_global=True)
    result = check_compatibility(
        level,
        c.registry.parsed(new.schema.id),
        [c.registry.parsed(old.schema.id)],
        versions=[old.version],
    )
    rows = side_by_side(pretty(old.schema), pretty(new.schema))
    changed = sum(1 for r in rows if r.kind != "equal")
    body = join(
        (
            tag("p", link(url("subjects", subject), f"« {subject}")),
            _diff_form(
                subject, [c.registry.get_version(subject, v) for v in available], old_v, new_v
            ),
            tag("h2", f"v{new.version} against v{old.version} under {level}"),
            _verdict(result),
            tag("p", f"{changed} changed line(s)", class_="note"),
            render_diff(
                rows, f"v{old.version} (id {old.schema.id})", f"v{new.version} (id {new.schema.id})"
            ),
        )
    )
    return page(f"Diff {subject} v{old.version} → v{new.version}", body, "subjects")


def _step(c: Console, sv: SubjectVersion, before: list[SubjectVersion]) -> CompatibilityResult:
    level = c.registry.get_config(sv.subject, default_to_global=True)
    return check_compatibility(
        level,
        c.registry.parsed(sv.schema.id),
        [c.registry.parsed(old.schema.id) for old in before],
        versions=[old.version for old in before],
    )


def _verdict(result: CompatibilityResult | None) -> Markup:
    if result is None:
        return tag("span", "first version", class_="muted")
    if not result.level.backward and not result.level.forward:
        return tag("span", "not checked (NONE)", class_="muted")
    if result.compatible:
        return tag("span", f"compatible ({result.level})", class_="ok")
    items = [
        tag(
            "li",
            tag("code", i.rule),
            " at ",
            tag("code", i.path),
            f" ({i.direction}, against v{i.version}): " if i.direction else ": ",
            i.message,
        )
        for i in result.incompatibilities
    ]
    return join(
        (
            tag("span", f"incompatible ({result.level})", class_="bad"),
            tag("ul", *items, class_="incompatibilities"),
        )
    )


def _diff_form(
    subject: str, versions: list[SubjectVersion], old: int | None = None, new: int | None = None
) -> Markup:
    def choose(name: str, selected: int) -> Markup:
        options = [
            tag("option", f"v{sv.version}", value=sv.version, selected=sv.version == selected)
            for sv in versions
        ]
        return tag("select", *options, name=name, id=f"diff-{name}")

    newest: int = versions[-1].version if new is None else new
    older: int = versions[-2].version if len(versions) > 1 else versions[-1].version
    if old is not None:
        older = old
    return tag(
        "form",
        "Compare ",
        choose("old", older),
        " with ",
        choose("new", newest),
        " ",
        tag("button", "Diff", type="submit", id="diff-submit"),
        method="get",
        action=url("diff", subject),
        class_="diff-form",
    )
