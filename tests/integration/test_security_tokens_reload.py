"""The tokens file is reloaded while the server runs: an added token works, a removed one is
refused within about two seconds, and a malformed file keeps the loaded tokens in service
while the log names the file and line."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from tests.integration.security_fixtures import Start, pki, start, tls_settings, write_tokens
from tests.security_helpers import Pki
from weir.broker.security.tokens import TokenVerifier, hash_line
from weir.core.errors import UnauthenticatedError
from weir.sdk import Admin, Credentials

__all__ = ["pki", "start"]

TOKENS = {"admin": "admin-secret-token", "alice": "alice-secret-token"}
CAROL = "carol-secret-token"


def works(server, pki: Pki, token: str) -> bool:
    """Whether ``token`` is accepted (False on UNAUTHENTICATED)."""
    with Admin(server.address, credentials=Credentials(ca_file=pki.ca.cert, token=token)) as c:
        try:
            c.list_topics()
        except UnauthenticatedError:
            return False
    return True


def wait_until(check, limit_s: float = 4.0) -> float:
    """Seconds until ``check()`` is true (fails after ``limit_s``)."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < limit_s, "the change was not picked up in time"
        time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def served(pki: Pki, start: Start, tmp_path: Path):
    path = write_tokens(tmp_path / "tokens.txt", TOKENS)
    server = start(**tls_settings(pki, client_auth=False), auth_tokens_file=str(path))
    return server, path


def test_an_added_token_works_without_a_restart(pki: Pki, served) -> None:
    server, path = served
    assert not works(server, pki, CAROL)
    write_tokens(path, {**TOKENS, "carol": CAROL})
    assert wait_until(lambda: works(server, pki, CAROL)) < 2.5
    assert works(server, pki, TOKENS["admin"])


def test_a_removed_token_is_refused_within_two_seconds(pki: Pki, served) -> None:
    server, path = served
    assert works(server, pki, TOKENS["alice"])  # and now remembered in the token cache
    write_tokens(path, {"admin": TOKENS["admin"]})
    assert wait_until(lambda: not works(server, pki, TOKENS["alice"])) < 2.5
    assert works(server, pki, TOKENS["admin"])


def test_a_malformed_file_keeps_the_old_tokens(
    pki: Pki, served, caplog: pytest.LogCaptureFixture
) -> None:
    server, path = served
    good = hash_line("carol", CAROL, iterations=1000)
    with caplog.at_level(logging.ERROR, logger="weir.security"):
        path.write_text(f"# edited by hand\n{good}\nalice:not-a-hash\n")
        time.sleep(1.3)  # past the once-a-second check
        assert works(server, pki, TOKENS["alice"])
        assert works(server, pki, TOKENS["admin"])
        assert not works(server, pki, CAROL)  # the whole new version is refused
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"{path}:3" in m and "stay in service" in m for m in errors), errors
    assert len(errors) == 1, errors  # once per version of the file, not once a second
    write_tokens(path, {"carol": CAROL})  # fixed: the next version is loaded
    wait_until(lambda: works(server, pki, CAROL))
    assert not works(server, pki, TOKENS["alice"])


def test_reload_keeps_tokens_for_an_empty_or_missing_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_tokens(tmp_path / "tokens.txt", {"alice": "a-token"})
    verifier = TokenVerifier.from_file(path, check_interval_s=0)
    assert asyncio.run(verifier.principal("a-token")) == "User:alice"
    with caplog.at_level(logging.ERROR, logger="weir.security"):
        path.write_text("")  # as when caught between truncate and write
        assert not verifier.reload()
        path.unlink()
        assert not verifier.reload()
    assert asyncio.run(verifier.principal("a-token")) == "User:alice"
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"{path}:1" in m and "empty" in m for m in messages), messages
    assert any(str(path) in m and "No such file" in m for m in messages), messages
    write_tokens(path, {"bob": "b-token"})
    assert verifier.reload()
    assert verifier.generation == 1
    assert asyncio.run(verifier.principal("a-token")) is None
    assert asyncio.run(verifier.principal("b-token")) == "User:bob"
    assert not verifier.reload()  # unchanged: nothing to do
