"""`weir schema apply [--config F] [--dry-run]`: plan, then register, like terraform.

The plan says, per subject in dependency order (references first): unchanged, new version,
level change, or incompatible with the reasons. It is judged with the level weir.toml
sets (the registry's own when it sets none), against the registry's live versions.
Nothing is written when any subject is incompatible, or with --dry-run. Otherwise each
subject's level is set, then its new version registered, references before the schemas
that use them. A second apply finds everything unchanged and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any

from weir.core.types import CompatibilityLevel
from weir.sdk import SchemaReference, SchemaRegistryClient
from weir.sdk.cli._output import INCOMPATIBLE, OK, Output, emit
from weir.sdk.cli._workflow_client import connect, server_address
from weir.sdk.cli._workflow_config import SubjectEntry, WorkflowConfig, load
from weir.sdk.cli._workflow_report import SubjectResult, text_line, to_json
from weir.sdk.cli._workflow_schemas import work_tree
from weir.sdk.cli._workflow_server import RegistryView
from weir.sdk.cli._workflow_verdict import Prior, verdict


@dataclass(frozen=True, slots=True)
class Step:
    """What apply will do for one subject."""

    entry: SubjectEntry
    """The subject's weir.toml entry."""
    text: str
    """The schema text to register."""
    verdict: SubjectResult
    """new, unchanged, compatible (a new version) or incompatible, with the problems."""
    version: int | None
    """The existing version holding this schema, when unchanged."""
    latest: int | None
    """The subject's latest live version now, if it has any."""
    level_now: CompatibilityLevel | None
    """The subject's own level now (None: it follows the global level)."""
    level_wanted: CompatibilityLevel | None
    """The level weir.toml sets, when it differs from ``level_now``."""

    @property
    def registers(self) -> bool:
        """True when a new version will be registered."""
        return self.verdict.status in ("new", "compatible")

    @property
    def changes(self) -> bool:
        """True when apply writes anything for this subject."""
        return self.registers or self.level_wanted is not None

    def describe(self) -> str:
        """One line for the text plan."""
        status = self.verdict.status
        parts = {
            "unchanged": f"unchanged (version {self.version})",
            "new": "new subject: version 1 will be registered",
            "compatible": f"new version after version {self.latest} ({self.verdict.level})",
            "incompatible": f"INCOMPATIBLE at {self.verdict.level}; nothing will be registered",
        }
        text = parts[status]
        if self.level_wanted is not None:
            now = self.level_now.value if self.level_now else "global default"
            text += f"; level {now} -> {self.level_wanted.value}"
        return text


def apply(args: argparse.Namespace, out: Output) -> int:
    """Print the plan; write it unless --dry-run or anything is incompatible."""
    config = load(args.config)
    address = server_address([args.server], config.server)
    with connect(address, args.timeout) as client:
        steps = plan(config, RegistryView(client))
        blocked = any(s.verdict.status == "incompatible" for s in steps)
        write = not blocked and not args.dry_run and any(s.changes for s in steps)
        if not out.json:
            emit(plan_text(steps, address))
        registered = execute(steps, client) if write else {}
    if out.json:
        out.result(plan_json(steps, registered, args.dry_run, written=write), "")
    else:
        emit(outcome(steps, registered, args.dry_run, blocked))
    return INCOMPATIBLE if blocked else OK


def plan(config: WorkflowConfig, view: RegistryView) -> list[Step]:
    """Judge every entry against the registry; reads only."""
    tree = work_tree(config, view.external)
    steps = []
    for entry in config.entries:
        new = tree.parse(entry)
        history = view.history(entry.subject)
        own = view.own_level(entry.subject)
        level = entry.compatibility or view.level_in_force(entry.subject)
        priors = [Prior(f"version {v}", s) for v, s in history]
        same = [v for v, s in history if s.fingerprint == new.fingerprint]
        wanted = entry.compatibility if entry.compatibility not in (None, own) else None
        steps.append(
            Step(
                entry=entry,
                text=new.text,
                verdict=verdict(entry, new, priors, level),
                version=same[0] if same else None,
                latest=history[-1][0] if history else None,
                level_now=own,
                level_wanted=wanted,
            )
        )
    return steps


def execute(steps: list[Step], client: SchemaRegistryClient) -> dict[str, int]:
    """Set levels and register new versions in order; progress on stderr."""
    versions: dict[str, int] = {s.entry.subject: s.version for s in steps if s.version}
    view = RegistryView(client)
    registered: dict[str, int] = {}
    for step in steps:
        subject = step.entry.subject
        if step.level_wanted is not None:
            client.set_compatibility(step.level_wanted, subject)
            print(f"weir: {subject}: level set to {step.level_wanted.value}", file=sys.stderr)
        if not step.registers:
            continue
        refs = [
            SchemaReference(
                r.name,
                r.entry or r.subject or "",
                versions[r.entry] if r.entry else view.version_of(r),
            )
            for r in step.entry.references
        ]
        found = client.register(subject, step.text, step.entry.schema_type, refs)
        versions[subject] = registered[subject] = found.version
        print(
            f"weir: {subject}: registered version {found.version} (schema id {found.id})",
            file=sys.stderr,
            flush=True,
        )
    return registered


def plan_text(steps: list[Step], address: str) -> str:
    """The plan for people: a line per subject, the problems under incompatible ones."""
    width = max(len(s.entry.subject) for s in steps)
    lines = [f"plan against {address}:"]
    for step in steps:
        lines.append(f"  {step.entry.subject:<{width}}  {step.describe()}")
        lines += [f"    {text_line(p)}" for p in step.verdict.problems]
    return "\n".join(lines)


def outcome(steps: list[Step], registered: dict[str, int], dry_run: bool, blocked: bool) -> str:
    """The last line: what was (or would have been) written."""
    new = sum(1 for s in steps if s.registers)
    levels = sum(1 for s in steps if s.level_wanted is not None)
    summary = f"{new} new version{'s' if new != 1 else ''}, {levels} level change"
    summary += "s" if levels != 1 else ""
    if blocked:
        bad = ", ".join(s.entry.subject for s in steps if s.verdict.status == "incompatible")
        return f"apply: nothing written: incompatible: {bad}"
    if not new and not levels:
        return "apply: nothing to do: the registry matches weir.toml"
    if dry_run:
        return f"apply: dry run, nothing written: would make {summary}"
    return f"apply: done: {len(registered)} registered, {summary}"


def plan_json(
    steps: list[Step], registered: dict[str, int], dry_run: bool, *, written: bool
) -> dict[str, Any]:
    """The plan and what was written, as one JSON document."""
    return {
        "dry_run": dry_run,
        "written": written,
        "subjects": [
            {
                "subject": s.entry.subject,
                "status": s.verdict.status,
                "level": s.verdict.level,
                "version": registered.get(s.entry.subject, s.version),
                "level_change": (
                    {
                        "from": s.level_now.value if s.level_now else None,
                        "to": s.level_wanted.value,
                    }
                    if s.level_wanted
                    else None
                ),
                "problems": to_json([s.verdict])["subjects"][0]["problems"],
            }
            for s in steps
        ],
    }
