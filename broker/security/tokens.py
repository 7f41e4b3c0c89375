"""Bearer tokens: a file of salted PBKDF2 hashes, never the tokens themselves.

One line per token, ``NAME:pbkdf2_sha256$ITERATIONS$SALT$HASH`` (salt and hash in hex), where
NAME is a user name (the principal is ``User:NAME``) or a full ``Type:name`` principal. Blank
lines and lines starting with ``#`` are ignored. ``weir token hash NAME`` makes a line.

Checking a token costs one PBKDF2 per line, so a token that checked out (or did not) is
remembered by its SHA-256 in a bounded in-memory cache; the hashing runs off the event loop.

The file is watched: on the authentication path, at most once a second, its mtime, size and
inode are compared with the loaded version's, and a changed file is loaded again (the cache is
dropped, so a removed token is refused from then on). A new version that does not parse (or
cannot be read, or is empty as when caught between truncate and write) does not replace
the loaded tokens: they stay in service and the error, naming the file and line, is logged
once per change. Replace the file atomically (write a new one, then rename it) to be safe.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from weir.core.errors import InvalidArgumentError

SCHEME = "pbkdf2_sha256"
"""The only hash scheme accepted."""
DEFAULT_ITERATIONS = 200_000
"""PBKDF2 iterations for new lines (OWASP suggests at least 600k for SHA-256 passwords;
tokens are long random strings, so fewer iterations lose nothing against guessing)."""
_CACHE_SIZE = 1024
CHECK_INTERVAL_S = 1.0
"""How often (at most) the tokens file is checked for changes."""

log = logging.getLogger("weir.security")


@dataclass(frozen=True, slots=True)
class TokenHash:
    """One line of the tokens file."""

    principal: str
    """Who presents the token: ``User:NAME``."""
    iterations: int
    """PBKDF2 iterations."""
    salt: bytes
    """The random salt."""
    digest: bytes
    """PBKDF2-HMAC-SHA256 of the token."""

    def check(self, token: str) -> bool:
        """Whether ``token`` hashes to this line (constant-time compare)."""
        found = hashlib.pbkdf2_hmac("sha256", token.encode(), self.salt, self.iterations)
        return hmac.compare_digest(found, self.digest)


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def hash_line(name: str, token: str, iterations: int = DEFAULT_ITERATIONS) -> str:
    """The tokens-file line for ``name`` presenting ``token``."""
    if not name or any(c in name for c in "$\n#") or not token:
        raise InvalidArgumentError("give a name without '$', '#' or newlines, and a token")
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", token.encode(), salt, iterations)
    return f"{name}:{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def parse_line(line: str, where: str) -> TokenHash:
    """One line of the file; ``where`` (file:line) names it in errors."""
    name, sep, hashed = line.rpartition(":")
    parts = hashed.split("$")
    if not sep or not name or len(parts) != 4 or parts[0] != SCHEME:
        raise InvalidArgumentError(
            f"{where}: expected NAME:{SCHEME}$ITERATIONS$SALT$HASH; "
            "make a line with `weir token hash NAME`"
        )
    try:
        iterations, salt, digest = int(parts[1]), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        raise InvalidArgumentError(
            f"{where}: iterations must be a number and salt and hash hex digits"
        ) from None
    if iterations < 1 or len(digest) != 32:
        raise InvalidArgumentError(f"{where}: iterations must be positive and the hash 32 bytes")
    principal = name if ":" in name else f"User:{name}"
    return TokenHash(principal, iterations, salt, digest)


def load_tokens(path: Path) -> list[TokenHash]:
    """Every line of a tokens file."""
    try:
        text = path.read_text()
    except OSError as e:
        raise InvalidArgumentError(f"auth_tokens_file {path}: {e.strerror or e}") from None
    return [
        parse_line(line.strip(), f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#")
    ]


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What identifies one version of the file (None when it cannot be stat'ed)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class TokenVerifier:
    """Finds the principal a bearer token belongs to; reloads its file when it changes."""

    def __init__(
        self,
        hashes: list[TokenHash],
        path: Path | None = None,
        check_interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self._hashes = hashes
        self._cache: OrderedDict[bytes, str | None] = OrderedDict()
        self.path = path
        """The tokens file, watched for changes; None: the hashes never change."""
        self._interval = check_interval_s
        self._seen = _signature(path) if path is not None else None
        self._next_check = time.monotonic() + check_interval_s
        self.generation = 0
        """Grows on every successful reload."""

    @classmethod
    def from_file(cls, path: Path, check_interval_s: float = CHECK_INTERVAL_S) -> TokenVerifier:
        """Load ``path`` (errors name the file and line) and watch it."""
        signature = _signature(path)
        verifier = cls(load_tokens(path), path, check_interval_s)
        verifier._seen = signature  # the version loaded, even if it changed since
        return verifier

    def __len__(self) -> int:
        return len(self._hashes)

    def reload(self) -> bool:
        """Load the file again now if it changed; True when new tokens are in service.

        A file that cannot be read or parsed leaves the loaded tokens in service; the error
        is logged (once per version of the file).
        """
        if self.path is None:
            return False
        signature = _signature(self.path)
        if signature == self._seen:
            return False
        self._seen = signature
        try:
            if signature is not None and signature[1] == 0:
                raise InvalidArgumentError(
                    f"{self.path}:1: the file is empty (caught mid-write?); to revoke every "
                    "token, leave a comment line in it"
                )
            hashes = load_tokens(self.path)
        except InvalidArgumentError as e:
            log.error(
                "tokens file not reloaded, the %d loaded token(s) stay in service: %s",
                len(self._hashes),
                e.message,
            )
            return False
        self._hashes = hashes
        self._cache.clear()
        self.generation += 1
        log.info("reloaded %d token(s) from %s", len(hashes), self.path)
        return True

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if self.path is not None and now >= self._next_check:
            self._next_check = now + self._interval
            self.reload()

    @staticmethod
    def _find(hashes: list[TokenHash], token: str) -> str | None:
        for line in hashes:
            if line.check(token):
                return line.principal
        return None

    async def principal(self, token: str) -> str | None:
        """The principal for ``token``, or None when no line matches."""
        self._maybe_reload()
        key = hashlib.sha256(token.encode()).digest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        generation = self.generation
        found = await asyncio.to_thread(self._find, self._hashes, token)
        if generation == self.generation:  # not an answer from tokens replaced meanwhile
            self._cache[key] = found
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return found
