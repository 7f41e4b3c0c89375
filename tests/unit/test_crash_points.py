"""Crash points: every name used in the code is documented (and the other way round), the
WEIR_CRASH_AT spec is parsed strictly, and an armed point ends the process with 137."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from weir.core import crash_points
from weir.core.crash_points import POINTS, parse

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"""crash_point\(\s*["']([^"']+)["']""")


def used_names() -> dict[str, list[str]]:
    """Every crash_point("...") name in the product code, with where it is used."""
    found: dict[str, list[str]] = {}
    for folder in ("core", "registry", "broker", "sdk"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "crash_points.py":
                continue
            for name in CALL.findall(path.read_text(encoding="utf-8")):
                found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_used_point_is_documented() -> None:
    used = used_names()
    assert len(used) >= 25, sorted(used)
    undocumented = sorted(set(used) - POINTS)
    assert not undocumented, f"add these to core/crash_points.py's docstring: {undocumented}"


def test_every_documented_point_is_used_once() -> None:
    used = used_names()
    assert sorted(POINTS - set(used)) == [], "documented points that no code calls"
    twice = {n: w for n, w in used.items() if len(w) > 1}
    assert not twice, f"a point name must name one step: {twice}"


def test_docstring_has_one_line_per_point() -> None:
    doc = crash_points.__doc__ or ""
    for name in POINTS:
        lines = [line for line in doc.splitlines() if line.startswith(name + " ")]
        assert len(lines) == 1, name
        assert len(lines[0].split(None, 1)[1]) > 10, f"{name} needs a description"


def test_parse_accepts_a_name_and_a_hit_number() -> None:
    assert parse("topics.write.after_tmp") == ("topics.write.after_tmp", 1)
    assert parse("topics.write.after_tmp:3") == ("topics.write.after_tmp", 3)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("topics.write.nope", "names no crash point"),
        ("topics.write.after_tmp:0", "1 or more"),
        ("topics.write.after_tmp:x", "1 or more"),
        ("topics.write.after_tmp:", "1 or more"),
    ],
)
def test_parse_refuses_bad_specs(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse(spec)


def test_unarmed_crash_point_does_nothing() -> None:
    assert "WEIR_CRASH_AT" not in os.environ
    crash_points.crash_point("topics.write.after_tmp")  # returns: this process is not armed


SCRIPT = """
from weir.core.crash_points import crash_point
import sys
for i in range(1, 6):
    print("before", i, flush=True)
    crash_point("topics.write.after_tmp")
    crash_point("topics.write.after_rename")
print("survived", flush=True)
"""


def run(spec: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WEIR_CRASH_AT"}
    if spec is not None:
        env["WEIR_CRASH_AT"] = spec
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_armed_point_exits_137_at_its_nth_hit_naming_itself() -> None:
    done = run("topics.write.after_rename:3")
    assert done.returncode == 137
    assert done.stdout.split("\n")[:-1] == ["before 1", "before 2", "before 3"]
    assert done.stderr == "weir: crash point topics.write.after_rename hit (3), exiting 137\n"


def test_first_hit_by_default_and_other_points_pass() -> None:
    done = run("topics.write.after_tmp")
    assert done.returncode == 137
    assert done.stdout == "before 1\n"


def test_unreached_hit_and_unarmed_run_to_the_end() -> None:
    for spec in ("topics.write.after_tmp:6", None):
        done = run(spec)
        assert done.returncode == 0, done.stderr
        assert done.stdout.endswith("survived\n")
        assert done.stderr == ""


def test_unknown_point_fails_at_start_naming_it() -> None:
    done = run("topics.wirte.after_tmp")
    assert done.returncode == 2
    assert "names no crash point" in done.stderr
    assert "topics.write.after_tmp" in done.stderr  # the known names are listed
    assert done.stdout == ""
