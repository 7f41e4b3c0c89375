"""What every `weir` command prints around its work: help text, and a reader that goes away."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import WEIR, clean_env
from weir.sdk.cli import build_parser

OLD = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]})
NEW = json.dumps({"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]})


def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("weir",)
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every runnable command's parser, named by its command line."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield " ".join(path), parser
    for group in groups:
        for name, child in group.choices.items():
            yield from leaf_parsers(child, (*path, name))


LEAVES = dict(leaf_parsers(build_parser()))


def test_the_command_tree_is_walked() -> None:
    assert {"weir serve", "weir produce", "weir consume", "weir schema check"} <= set(LEAVES)
    assert "weir topic add-partitions" in LEAVES


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_every_command_help_has_examples_and_exit_codes(name: str) -> None:
    text = LEAVES[name].format_help()
    assert "examples" in text, name
    assert name in text.split("examples", 1)[1], f"{name}: no example runs the command itself"
    assert "exit codes" in text, name
    assert "0 " in text.split("exit codes", 1)[1], f"{name}: exit code 0 is not described"


def run_with_closed_stdout(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `weir ARGS` with stdout a pipe whose reader has already gone (`weir ... | head`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [str(WEIR), *args],
            cwd=cwd,
            env=clean_env(WEIR_SERVER="127.0.0.1:1"),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--help"], 0),
        (["schema", "check", "--help"], 0),
        (["schema", "compat", "--type", "AVRO", "old.avsc"], 0),
        (["schema", "compat", "--type", "AVRO", "--output", "json", "old.avsc"], 0),
        (["schema", "compat", "--type", "AVRO", "new.avsc", "old.avsc"], 1),
        (["schema", "compat", "--type", "AVRO", "--output", "json", "new.avsc", "old.avsc"], 1),
        (["schema", "compat", "--type", "AVRO", "--output", "json", "missing.avsc"], 2),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else str(v),
)
def test_a_closed_stdout_is_quiet_and_keeps_the_exit_code(
    tmp_path: Path, args: list[str], code: int
) -> None:
    (tmp_path / "old.avsc").write_text(OLD)
    (tmp_path / "new.avsc").write_text(NEW)
    done = run_with_closed_stdout(*args, cwd=tmp_path)
    assert "Traceback" not in done.stderr
    assert "Broken pipe" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == code, done.stderr
