"""Connecting to the registry from a command: which address, and what to say when it is down."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Sequence

from weir.core.errors import UnavailableError
from weir.sdk import DEFAULT_SERVER, Credentials, RetryPolicy, SchemaRegistryClient
from weir.sdk._channel import UNREACHABLE

CREDENTIAL_FLAGS = {
    "tls_ca": "WEIR_TLS_CA",
    "tls_cert": "WEIR_TLS_CERT",
    "tls_key": "WEIR_TLS_KEY",
    "token": "WEIR_TOKEN",
}
"""Each credential flag's dest and the environment variable it stands for."""


def add_credential_args(parser: argparse.ArgumentParser) -> None:
    """--tls-ca, --tls-cert, --tls-key and --token (each defaults to its WEIR_* variable)."""
    group = parser.add_argument_group("security (TLS, mutual TLS, bearer token)")
    group.add_argument(
        "--tls-ca", metavar="FILE", help="connect over TLS, trusting this CA (or $WEIR_TLS_CA)"
    )
    group.add_argument(
        "--tls-cert", metavar="FILE", help="client certificate for mutual TLS ($WEIR_TLS_CERT)"
    )
    group.add_argument("--tls-key", metavar="FILE", help="its private key ($WEIR_TLS_KEY)")
    group.add_argument(
        "--token",
        metavar="TOKEN",
        help="bearer token; prefer $WEIR_TOKEN, which other users cannot see in `ps`",
    )


def export_credential_flags(args: argparse.Namespace) -> None:
    """Make credential flags win over the environment for every client this process opens."""
    for dest, variable in CREDENTIAL_FLAGS.items():
        value = getattr(args, dest, None)
        if value:
            os.environ[variable] = str(value)


def cli_credentials() -> Credentials | None:
    """The credentials from the flags (exported) or WEIR_TLS_* / WEIR_TOKEN; None: plaintext."""
    return Credentials.from_env()


CLI_RETRY = RetryPolicy(attempts=3, initial_backoff_s=0.05, max_backoff_s=0.2)
"""Commands retry a lost connection briefly (~0.15 s), then exit 3: a person or a CI step is
waiting, and an unreachable server is better reported at once than after seconds of backoff."""


def server_address(flags: Sequence[str | None], config: str | None = None) -> str:
    """The first flag given, else $WEIR_SERVER, else the config's, else the default."""
    for address in (*flags, os.environ.get("WEIR_SERVER"), config):
        if address:
            return address
    return DEFAULT_SERVER


@contextlib.contextmanager
def connect(server: str, timeout_s: float) -> Iterator[SchemaRegistryClient]:
    """A client for ``server``; unreachable becomes an UnavailableError saying what to do."""
    try:
        credentials = cli_credentials()
        with SchemaRegistryClient(
            server, timeout_s=timeout_s, credentials=credentials, retry=CLI_RETRY
        ) as client:
            yield client
    except UnavailableError as e:
        raise unreachable(e, server) from None


def unreachable(error: UnavailableError, server: str) -> UnavailableError:
    """The error naming the server once, with the CLI's advice on where to point it."""
    said = error.message
    if not said.startswith(UNREACHABLE):
        said = f"{UNREACHABLE} {server}: {said}"
    return UnavailableError(
        f"{said}; pass --server HOST:PORT or set WEIR_SERVER", metadata=error.metadata
    )
