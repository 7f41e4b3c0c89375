"""Shared fixtures: a real Weir server in-process on port 0 with a temp data dir."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
import pytest

from weir.broker.server import WeirServer, create_server
from weir.core.config import ServerConfig


class LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any) -> Any:
        """Run a coroutine on the loop and wait for it."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class ServerThread(LoopThread):
    """Runs create_server on its own event loop in a daemon thread."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        config = ServerConfig(data_dir=data_dir, grpc_address="127.0.0.1:0")
        self.server: WeirServer = self.call(create_server(config))
        self.address = f"127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.call(self.server.stop(0))
        self.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """A running server with a fresh data dir; stopped after the test."""
    running = ServerThread(tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture
def channel(server: ServerThread) -> Iterator[grpc.Channel]:
    """A real gRPC channel to the server."""
    with grpc.insecure_channel(server.address) as ch:
        yield ch
