"""`weir acl` and `weir token` as subprocesses: JSON output, exit codes, help with examples,
and the credential flags and WEIR_* variables (tokens over TLS)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Weir, clean_env, weir
from tests.security_helpers import make_pki
from weir.broker.embedded import EmbeddedServer

__all__ = ["weir"]


@pytest.fixture
def secured(tmp_path: Path, weir: Weir) -> Iterator[tuple[EmbeddedServer, dict[str, str]]]:
    pki = make_pki(tmp_path / "pki")
    made = weir("token", "hash", "root", "--iterations", "1000", "--output", "json").json()
    assert made["principal"] == "User:root"
    assert made["token"] not in made["line"]
    (tmp_path / "tokens.txt").write_text(made["line"] + "\n")
    server = EmbeddedServer(
        tmp_path / "data",
        tls_cert_file=str(pki.server.cert),
        tls_key_file=str(pki.server.key),
        auth_tokens_file=str(tmp_path / "tokens.txt"),
        acl_enabled=True,
        super_users="User:root",
    )
    env = clean_env(
        WEIR_SERVER=f"localhost:{server.server.port}",
        WEIR_TLS_CA=str(pki.ca.cert),
        WEIR_TOKEN=made["token"],
    )
    yield server, env
    server.stop()


def test_acl_add_list_remove(secured, weir: Weir) -> None:
    _, env = secured
    added = weir(
        "acl", "add", "--allow-principal", "User:alice", "--operation", "read",
        "--operation", "write", "--topic", "pay.", "--prefixed", "--output", "json", env=env,
    )  # fmt: skip
    assert added.code == 0, added.stderr
    assert {(a["operation"], a["pattern_type"]) for a in added.json()["created"]} == {
        ("read", "prefixed"),
        ("write", "prefixed"),
    }
    denied = weir("acl", "add", "--deny-principal", "User:bob", "--operation", "all",
                  "--cluster", env=env)  # fmt: skip
    assert denied.code == 0
    assert "added: deny  User:bob all cluster weir-cluster (literal)" in denied.stdout
    listed = weir("acl", "list", "--principal", "User:alice", "--output", "json", env=env)
    assert [a["name"] for a in listed.json()["acls"]] == ["pay.", "pay."]
    removed = weir("acl", "remove", "--allow-principal", "User:alice", "--topic", "pay.",
                   "--prefixed", "--output", "json", env=env)  # fmt: skip
    assert len(removed.json()["deleted"]) == 2
    assert weir("acl", "list", "--output", "json", env=env).json()["acls"][0]["principal"] == (
        "User:bob"
    )


def test_exit_codes_for_refusals_and_bad_input(secured, weir: Weir, tmp_path: Path) -> None:
    _, env = secured
    anonymous = {k: v for k, v in env.items() if k != "WEIR_TOKEN"}
    refused = weir("topic", "list", "--output", "json", env=anonymous)
    assert refused.code == 2
    assert refused.json()["error"]["reason"] == "UNAUTHENTICATED"
    wrong = weir("acl", "list", "--token", "not-the-token", env=env)  # the flag beats the env
    assert wrong.code == 2
    assert "bearer token is not valid" in wrong.stderr
    plaintext = weir("topic", "list", env={**anonymous, "WEIR_TLS_CA": ""})
    assert plaintext.code == 3
    usage = weir("acl", "add", "--allow-principal", "User:alice", "--topic", "t", env=env)
    assert usage.code == 2
    assert "--operation" in usage.stderr
    bad_principal = weir("acl", "add", "--allow-principal", "alice", "--operation", "read",
                         "--topic", "t", env=env)  # fmt: skip
    assert bad_principal.code == 2
    assert "User:alice" in bad_principal.stderr
    (tmp_path / "tokens2.txt").write_text(
        weir("token", "hash", "alice", "--iterations", "1000").stdout
    )
    assert (tmp_path / "tokens2.txt").read_text().startswith("alice:pbkdf2_sha256$1000$")


def test_help_shows_examples_and_flags(weir: Weir) -> None:
    for args in (("acl", "--help"), ("acl", "add", "--help"), ("acl", "list", "--help")):
        shown = weir(*args)
        assert shown.code == 0
        assert "examples:" in shown.stdout
        assert "weir acl" in shown.stdout
    add = weir("acl", "add", "--help").stdout
    for flag in ("--allow-principal", "--deny-principal", "--prefixed", "--tls-ca", "--token"):
        assert flag in add
    serve = weir("serve", "--help").stdout
    for flag in ("--tls-cert", "--tls-client-auth", "--auth-tokens", "--acl-enabled"):
        assert flag in serve
    assert "weir token hash" in weir("token", "--help").stdout


def test_sighup_reloads_the_tokens_file_at_once(tmp_path: Path, weir: Weir, serve) -> None:
    """SIGHUP (which would otherwise end the process) makes `weir serve` re-read its tokens
    file at once, before any client presents a token."""
    pki = make_pki(tmp_path / "pki")
    root = weir("token", "hash", "root", "--iterations", "1000", "--output", "json").json()
    bob = weir("token", "hash", "bob", "--iterations", "1000", "--output", "json").json()
    tokens = tmp_path / "tokens.txt"
    tokens.write_text(root["line"] + "\n")
    server = serve(
        tmp_path / "data",
        *("--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key)),
        *("--auth-tokens", str(tokens)),
    )
    port = server.address.rsplit(":", 1)[1]
    env = clean_env(WEIR_SERVER=f"localhost:{port}", WEIR_TLS_CA=str(pki.ca.cert))
    assert weir("topic", "list", "--token", bob["token"], env=env).code == 2
    tokens.write_text(root["line"] + "\n" + bob["line"] + "\n")
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "reloaded 2 token(s)" not in server.log.read_text():
        assert time.monotonic() < deadline, server.log.read_text()[-2000:]
        time.sleep(0.05)
    assert server.process.poll() is None
    listed = weir("topic", "list", "--token", bob["token"], "--output", "json", env=env)
    assert listed.code == 0, listed.stderr
