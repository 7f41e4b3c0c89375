"""Shared fixtures: a real Weir server in-process on port 0 with a temp data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from weir.broker.embedded import EmbeddedServer, LoopThread

ServerThread = EmbeddedServer
__all__ = ["LoopThread", "ServerThread"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A running server with a fresh data dir; stopped after the test."""
    running = EmbeddedServer(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture
def channel(server: EmbeddedServer) -> Iterator[grpc.Channel]:
    """A real gRPC channel to the server."""
    with grpc.insecure_channel(server.address) as ch:
        yield ch
