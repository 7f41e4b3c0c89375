"""The shipped GitHub Actions workflow and pre-commit hooks call real `weir` commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from weir.sdk.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = yaml.safe_load((ROOT / "examples" / "ci" / "weir-schemas.yml").read_text())
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())


def weir_commands(text: str) -> list[list[str]]:
    """`weir ...` command lines in a run script, with $VARS and ${{ }} filled in."""
    text = re.sub(r"\$\{\{[^}]*\}\}", "x:1", text)
    text = re.sub(r"\$\{?(\w+)\}?", "x", text)
    commands = []
    for line in text.splitlines():
        command = re.split(r"\s(?:>|\|\|)\s", line)[0]  # drop redirections and fallbacks
        words = shlex.split(command)
        if words and words[0] == "weir":
            commands.append(words[1:])
    return commands


def steps() -> list[dict[str, Any]]:
    return [step for job in WORKFLOW["jobs"].values() for step in job["steps"]]


def workflow_commands() -> list[list[str]]:
    return [c for step in steps() if "run" in step for c in weir_commands(step["run"])]


def test_workflow_runs_lint_check_and_apply() -> None:
    commands = workflow_commands()
    assert [c[:2] for c in commands] == [
        ["schema", "lint"],
        ["schema", "check"],
        ["schema", "check"],
        ["schema", "apply"],
        ["schema", "apply"],
    ]
    assert {c[c.index("--output") + 1] for c in commands if "--output" in c} == {"github", "junit"}
    checkout = next(s for s in WORKFLOW["jobs"]["check"]["steps"] if "checkout" in s["uses"])
    assert checkout["with"]["fetch-depth"] == 0


@pytest.mark.parametrize("argv", workflow_commands(), ids=" ".join)
def test_workflow_commands_parse(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert callable(args.run)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda h: h["id"])
def test_pre_commit_hooks(hook: dict[str, Any]) -> None:
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    (argv,) = weir_commands(hook["entry"])
    assert callable(build_parser().parse_args(argv).run)
    files = re.compile(hook["files"])
    assert files.search("weir.toml")
    assert files.search("schemas/order.proto")
    assert files.search("services/api/schemas/user.avsc")
    assert not files.search("src/app.py")
