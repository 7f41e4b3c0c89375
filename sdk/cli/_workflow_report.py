"""Printing `weir schema check` and `weir schema lint` results: text, json, github, junit.

- text: ``file:line: LEVEL rule path: message`` per problem, then one summary line;
- json: one document with every subject and problem;
- github: ``::error file=F,line=N,title=T::message`` workflow commands, which GitHub
  Actions turns into annotations on the pull request's diff;
- junit: one testcase per subject, a failure per subject with problems.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from weir.sdk.cli._output import INCOMPATIBLE, OK, emit

FORMATS = ("text", "json", "github", "junit")
"""The --output choices of check and lint."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding in one file: an incompatibility or a lint rule broken."""

    file: str
    """The schema file, relative to the working directory."""
    line: int
    """The 1-based line it is about."""
    level: str
    """BACKWARD or FORWARD for incompatibilities, LINT for lint findings."""
    rule: str
    """The stable rule id."""
    path: str
    """Where in the schema, as the engine or linter names it."""
    message: str
    """A sentence a person understands."""
    against: str | None = None
    """What it was compared with ("version 2", "commit 1a2b3c4"), when anything."""


@dataclass(frozen=True, slots=True)
class SubjectResult:
    """The verdict for one subject."""

    subject: str
    """The registry subject."""
    file: str
    """Its schema file, relative to the working directory."""
    level: str
    """The compatibility level applied (LINT for lint)."""
    status: str
    """compatible, incompatible, new, unchanged, clean or findings."""
    problems: tuple[Problem, ...] = ()
    """Every problem found; empty when it passed."""
    compared: tuple[str, ...] = ()
    """What it was checked against, oldest first."""


def render(results: Sequence[SubjectResult], fmt: str, title: str) -> int:
    """Print results in ``fmt``; 0 when no subject has problems, else 1."""
    failed = [r for r in results if r.problems]
    if fmt == "json":
        emit(json.dumps(to_json(results), indent=2))
    elif fmt == "github":
        emit(github(results))
    elif fmt == "junit":
        emit(junit(results, title))
    else:
        emit(text(results, title))
    return INCOMPATIBLE if failed else OK


def text(results: Sequence[SubjectResult], title: str) -> str:
    """``file:line: LEVEL rule path: message`` lines, then a summary."""
    lines = [text_line(p) for r in results for p in r.problems]
    for r in results:
        if not r.problems:
            lines.append(f"{r.file}: {r.subject} {r.status} ({r.level})")
    failed = sum(1 for r in results if r.problems)
    verdict = "failed" if failed else "passed"
    count = len(results)
    lines.append(
        f"{title}: {verdict}: {count} subject{'s' if count != 1 else ''}, "
        f"{failed} with problems, {sum(len(r.problems) for r in results)} problems"
    )
    return "\n".join(lines)


def text_line(p: Problem) -> str:
    """One problem as ``file:line: LEVEL rule path: message``."""
    against = f" (against {p.against})" if p.against else ""
    return f"{p.file}:{p.line}: {p.level} {p.rule} {p.path}: {p.message}{against}"


def to_json(results: Sequence[SubjectResult]) -> dict[str, Any]:
    """Every result as one JSON-ready document."""
    return {
        "ok": not any(r.problems for r in results),
        "subjects": [
            {
                "subject": r.subject,
                "file": r.file,
                "level": r.level,
                "status": r.status,
                "compared": list(r.compared),
                "problems": [
                    {
                        "file": p.file,
                        "line": p.line,
                        "level": p.level,
                        "rule": p.rule,
                        "path": p.path,
                        "message": p.message,
                        "against": p.against,
                    }
                    for p in r.problems
                ],
            }
            for r in results
        ],
    }


def github(results: Sequence[SubjectResult]) -> str:
    """GitHub Actions workflow commands: one ``::error`` per problem, a notice when clean."""
    lines = []
    for r in results:
        for p in r.problems:
            title = f"{p.level} {p.rule}"
            against = f" (against {p.against})" if p.against else ""
            message = f"{r.subject} {p.path}: {p.message}{against}"
            lines.append(
                f"::error file={_property(p.file)},line={p.line},title={_property(title)}"
                f"::{_data(message)}"
            )
    if not lines:
        lines.append(f"::notice::{_data(f'{len(results)} subjects passed')}")
    return "\n".join(lines)


def junit(results: Sequence[SubjectResult], title: str) -> str:
    """A JUnit XML report: a testsuite with one testcase per subject."""
    failed = sum(1 for r in results if r.problems)
    suite = ET.Element(
        "testsuite",
        name=title,
        tests=str(len(results)),
        failures=str(failed),
        errors="0",
        skipped="0",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=r.file, name=f"{r.subject} ({r.level})")
        if r.problems:
            count = len(r.problems)
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{count} problem{'s' if count != 1 else ''}: {r.problems[0].rule}",
                type=r.problems[0].rule,
            )
            failure.text = "\n".join(text_line(p) for p in r.problems)
    root = ET.Element("testsuites", name=title, tests=str(len(results)), failures=str(failed))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")
