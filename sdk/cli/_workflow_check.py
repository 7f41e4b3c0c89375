"""`weir schema check [--config F] (--against-server [ADDR] | --against-git REF)`.

Checks every weir.toml subject in the work tree, under the level weir.toml sets for it:

- against the registry's live versions (the registry's level when weir.toml sets none);
- or offline against the files' git history up to REF (BACKWARD when weir.toml sets no
  level, the registry's default). Non-transitive levels compare with the version at REF,
  transitive ones with every distinct version the file had, renames followed.

Exit codes: 0 all compatible, 1 some incompatible, 2 bad input, 3 unreachable.
"""

from __future__ import annotations

import argparse

from weir.core.types import CompatibilityLevel
from weir.sdk.cli._output import Output
from weir.sdk.cli._workflow_client import connect, server_address
from weir.sdk.cli._workflow_config import WorkflowConfig, load
from weir.sdk.cli._workflow_history import GitHistory
from weir.sdk.cli._workflow_report import SubjectResult, render
from weir.sdk.cli._workflow_schemas import offline, work_tree
from weir.sdk.cli._workflow_server import RegistryView
from weir.sdk.cli._workflow_verdict import Prior, verdict

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD
"""The level offline checks use for a subject weir.toml gives none (the registry's default)."""

TITLE = "weir schema check"


def check(args: argparse.Namespace, out: Output) -> int:
    """Run the config-driven check and print it in --output's format."""
    config = load(args.config)
    if args.against_git is not None:
        results = against_git(config, args.against_git)
    else:
        flag = args.against_server if isinstance(args.against_server, str) else None
        address = server_address([flag, args.server], config.server)
        results = against_server(config, address, args.timeout)
    return render(results, args.output, TITLE)


def against_git(config: WorkflowConfig, ref: str) -> list[SubjectResult]:
    """Every subject in the work tree against its git history up to ``ref``."""
    history = GitHistory(config, ref)
    tree = work_tree(config, offline)
    return [
        verdict(
            entry,
            tree.parse(entry),
            history.priors(entry),
            entry.compatibility or DEFAULT_LEVEL,
        )
        for entry in config.entries
    ]


def against_server(config: WorkflowConfig, address: str, timeout_s: float) -> list[SubjectResult]:
    """Every subject in the work tree against the registry's live versions."""
    with connect(address, timeout_s) as client:
        view = RegistryView(client)
        tree = work_tree(config, view.external)
        results = []
        for entry in config.entries:
            new = tree.parse(entry)
            level = entry.compatibility or view.level_in_force(entry.subject)
            priors = [Prior(f"version {v}", s) for v, s in view.history(entry.subject)]
            results.append(verdict(entry, new, priors, level))
        return results
