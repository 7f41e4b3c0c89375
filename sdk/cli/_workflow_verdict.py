"""One subject's verdict: its new schema against earlier versions, under a level.

The same function judges history from the registry and history from git, which is what
makes `check --against-server` and `check --against-git` agree. A schema equal to any
earlier version is unchanged (the registry would return that version, not add one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from weir.core.types import CompatibilityLevel
from weir.registry.compatibility import check_compatibility
from weir.registry.formats import ParsedSchema
from weir.sdk.cli._workflow_config import SubjectEntry
from weir.sdk.cli._workflow_lines import locate
from weir.sdk.cli._workflow_report import Problem, SubjectResult
from weir.sdk.cli._workflow_schemas import display


@dataclass(frozen=True, slots=True)
class Prior:
    """One earlier version of a subject."""

    label: str
    """How it is named to users: "version 2", "commit 1a2b3c4"."""
    schema: ParsedSchema
    """The version, parsed with the references it had."""


def dedupe(priors: Sequence[Prior]) -> list[Prior]:
    """Keep the first of equal schemas, as registering one again would."""
    seen: set[str] = set()
    kept = []
    for prior in priors:
        if prior.schema.fingerprint not in seen:
            seen.add(prior.schema.fingerprint)
            kept.append(prior)
    return kept


def verdict(
    entry: SubjectEntry,
    new: ParsedSchema,
    history: Sequence[Prior],
    level: CompatibilityLevel,
) -> SubjectResult:
    """Judge ``new`` against ``history`` (oldest first) under ``level``."""
    file = display(entry.file)
    compared = tuple(p.label for p in history)
    if not history:
        return SubjectResult(entry.subject, file, level.value, "new", (), compared)
    same = next((p for p in history if p.schema.fingerprint == new.fingerprint), None)
    if same is not None:
        return SubjectResult(entry.subject, file, level.value, "unchanged", (), (same.label,))
    labels = list(range(1, len(history) + 1))
    result = check_compatibility(level, new, [p.schema for p in history], versions=labels)
    problems = []
    for found in result.incompatibilities:
        prior = history[(found.version or len(history)) - 1]
        direction = found.direction or level
        reader = prior.schema.text if direction is CompatibilityLevel.FORWARD else None
        problems.append(
            Problem(
                file=file,
                line=locate(entry.schema_type, new.text, found.path, reader),
                level=direction.value,
                rule=found.rule,
                path=found.path,
                message=found.message,
                against=prior.label,
            )
        )
    status = "incompatible" if problems else "compatible"
    checked = compared if level.transitive else compared[-1:]
    return SubjectResult(entry.subject, file, level.value, status, tuple(problems), checked)
