"""A regular (non-editable) install works and `import weir.sdk` works from outside the repo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_plain_install_imports_from_outside_the_repo(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        timeout=240,
    )
    assert (target / "weir" / "sdk" / "py.typed").exists()
    assert (target / "weir" / "v1" / "registry_service_pb2.pyi").exists()
    probe = "import weir.sdk, weir.v1.registry_service_pb2, weir.broker.server\n"
    probe += "print(weir.sdk.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip().startswith(str(target))
