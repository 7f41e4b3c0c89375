"""The README's Security walkthrough runs as written: openssl makes a CA and certificates,
`weir serve` starts with mutual TLS and ACLs, alice's produce is allowed and bob's refused."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MARKER = "<!-- security-example -->"


def security_block() -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)```", text, flags=re.DOTALL)
    assert found, f"README.md has no sh block after {MARKER}"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_security_walkthrough_runs(tmp_path: Path) -> None:
    grpc_port, http_port = free_port(), free_port()
    script = security_block().replace("50051", str(grpc_port)).replace("8081", str(http_port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEIR_")}
    env["PATH"] = f"{BIN}:{env['PATH']}"
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=50)
    finally:  # the script's own session: its server too, should the script fail midway
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr
    assert "allow User:alice write topic payments (literal)" in stdout
    assert "produced 1 record" in stdout + stderr
    assert "bob refused: exit code 2" in stdout
    assert "User:bob is not allowed to describe topic 'payments'" in stderr
    audit = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert [a["action"] for a in audit] == ["weir.v1.AclService/CreateAcls"] * 2
    assert {a["principal"] for a in audit} == {"User:admin"}
    assert {a["outcome"] for a in audit} == {"ok"}
