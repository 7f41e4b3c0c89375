"""Connecting to the registry from a command: which address, and what to say when it is down."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence

from weir.core.errors import UnavailableError
from weir.sdk import DEFAULT_SERVER, SchemaRegistryClient


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
        with SchemaRegistryClient(server, timeout_s=timeout_s) as client:
            yield client
    except UnavailableError as e:
        raise UnavailableError(
            f"cannot reach the registry at {server}: {e.message}; is `weir serve` running? "
            "pass --server HOST:PORT or set WEIR_SERVER",
            metadata=e.metadata,
        ) from None
