"""An in-process server on a background event loop, for tests, benchmarks and notebooks.

with EmbeddedServer(tmp_path) as server:
    client = SchemaRegistryClient(server.address)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from weir.broker.server import WeirServer, create_server
from weir.core.config import ServerConfig
from weir.core.data_lock import DataDirLock

T = TypeVar("T")


class LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 30) -> T:
        """Run a coroutine on the loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=timeout_s)

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class EmbeddedServer(LoopThread):
    """A started Weir server on 127.0.0.1, port 0 unless given."""

    def __init__(self, data_dir: Path, grpc_address: str = "127.0.0.1:0", **settings: Any) -> None:
        """Start on ``data_dir``; ``settings`` override other ServerConfig fields."""
        self._lock = DataDirLock(data_dir)  # one server per data dir, as `weir serve`
        super().__init__()
        self.data_dir = data_dir
        try:
            fields = {"http_address": "127.0.0.1:0", **settings}
            config = ServerConfig(data_dir=data_dir, grpc_address=grpc_address, **fields)
            self.server: WeirServer = self.call(create_server(config))
        except BaseException:
            self.close()
            self._lock.release()
            raise
        self.address = f"127.0.0.1:{self.server.port}"
        """HOST:PORT to connect to."""
        self.http_url = f"http://127.0.0.1:{self.server.http_port}"
        """Base URL of the Confluent-compatible REST API."""

    def stop(self) -> None:
        """Stop the server and its loop."""
        try:
            self.call(self.server.stop(0))
            self.close()
        finally:
            self._lock.release()

    def __enter__(self) -> EmbeddedServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
