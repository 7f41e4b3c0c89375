"""Servers with TLS, tokens and ACLs, for the security tests (certificates made per session)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.security_helpers import Pki, make_pki
from weir.broker.embedded import EmbeddedServer
from weir.broker.security.tokens import hash_line
from weir.sdk import Credentials

ADMIN = "User:admin"
"""The super user of every secured test server."""


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A CA, a server certificate and client certificates for admin, alice and bob."""
    made = make_pki(tmp_path_factory.mktemp("pki"))
    for name in ("admin", "alice", "bob"):
        made.client(name)
    return made


def mtls(pki: Pki, name: str) -> Credentials:
    """Client credentials with ``name``'s certificate."""
    return Credentials(
        ca_file=pki.ca.cert,
        cert_file=pki.folder / f"{name}.crt",
        key_file=pki.folder / f"{name}.key",
    )


def tls_settings(pki: Pki, *, client_auth: bool = True) -> dict[str, str]:
    """ServerConfig fields for TLS (and mTLS)."""
    settings = {"tls_cert_file": str(pki.server.cert), "tls_key_file": str(pki.server.key)}
    if client_auth:
        settings |= {"tls_client_ca_file": str(pki.ca.cert), "tls_client_auth": "require"}
    return settings


def write_tokens(path: Path, tokens: dict[str, str]) -> Path:
    """A tokens file for ``{name: token}`` (few PBKDF2 iterations: tests stay fast)."""
    lines = [hash_line(name, token, iterations=1000) for name, token in tokens.items()]
    path.write_text("# test tokens\n" + "\n".join(lines) + "\n")
    return path


Start = Callable[..., EmbeddedServer]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start servers with extra ServerConfig fields; all are stopped after the test."""
    started: list[EmbeddedServer] = []

    def run(data: str = "data", **settings: object) -> EmbeddedServer:
        server = EmbeddedServer(tmp_path / data, **settings)
        started.append(server)
        return server

    yield run
    for server in started:
        if server.loop.is_running():
            server.stop()
