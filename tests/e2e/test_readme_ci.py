"""The README's "Schemas in CI" section runs as written against a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from weir.broker.embedded import EmbeddedServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Weir Test",
    "GIT_AUTHOR_EMAIL": "test@weir.invalid",
    "GIT_COMMITTER_NAME": "Weir Test",
    "GIT_COMMITTER_EMAIL": "test@weir.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def ci_section() -> str:
    """The text of the "Schemas in CI" section."""
    match = re.search(r"^## Schemas in CI\n(.*?)^## ", README, flags=re.DOTALL | re.MULTILINE)
    assert match, "README has no '## Schemas in CI' section followed by another section"
    return match.group(1)


def test_section_sits_just_before_layout() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert headings[headings.index("Schemas in CI") + 1] == "Layout"


def test_ci_walkthrough_runs(server: EmbeddedServer, tmp_path: Path) -> None:
    (script,) = re.findall(r"```bash\n(.*?)```", ci_section(), flags=re.DOTALL)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WEIR_")},
        **GIT_IDENTITY,
        "WEIR_SERVER": server.address,
        "PATH": f"{BIN}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout

    # lint passed, the dry run planned three new subjects, apply registered references first
    assert "weir schema lint: passed: 3 subjects" in out
    assert "apply: dry run, nothing written: would make 3 new versions, 2 level changes" in out
    registered = [
        line.split(":")[1].strip() for line in done.stderr.splitlines() if "registered" in line
    ]
    assert registered == ["money-value", "orders-value", "customers-value"]
    assert "apply: nothing to do: the registry matches weir.toml" in out

    # the breaking change fails both checks, with the file, the line and the rule
    order = (tmp_path / "shop" / "schemas" / "order.proto").read_text().splitlines()
    line = next(i for i, text in enumerate(order, 1) if "int64 id = 1" in text)
    assert (
        f"::error file=schemas/order.proto,line={line},title=BACKWARD FIELD_SCALAR_KIND_CHANGED::"
        in out
    )
    assert f"schemas/order.proto:{line}: BACKWARD FIELD_SCALAR_KIND_CHANGED #/Order/1" in out
    assert out.count("exit code 1") == 2

    registry = server.server.registry
    assert [registry.list_versions(s) for s in ("money-value", "orders-value")] == [[1], [1]]


def test_section_points_at_files_that_exist() -> None:
    section = ci_section()
    for name in (
        "examples/ci/weir-schemas.yml",
        ".pre-commit-hooks.yaml",
        "scripts/buf_breaking.sh",
    ):
        assert name in section
        assert (ROOT / name).is_file(), name
