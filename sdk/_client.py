"""The base of every synchronous SDK client: one channel with keepalive, a deadline per call,
retries with backoff for retriable errors, and errors translated into the WeirError classes
the server sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, ClientBase
from weir.sdk._credentials import Credentials
from weir.sdk._retry import RetryPolicy

R = TypeVar("R")


class GrpcClient(ClientBase):
    """A channel to one server. Thread-safe; use as a context manager or call close()."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__(server, timeout_s=timeout_s, retry=retry, credentials=credentials)
        secure, options = self._channel_settings()
        self._channel = (
            grpc.secure_channel(server, secure, options=options)
            if secure is not None
            else grpc.insecure_channel(server, options=options)
        )

    def close(self) -> None:
        """Close the channel. Calls after this raise FailedPreconditionError."""
        self._closed = True
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(
        self,
        method: Callable[..., R],
        request: Any,
        *,
        idempotent: bool = True,
        timeout_s: float | None = None,
    ) -> R:
        """Send one request; retry it per ``self.retry`` only when running it twice is safe."""
        attempt = 1
        while True:
            self._check_open()
            try:
                return method(request, timeout=timeout_s or self.timeout_s)
            except grpc.RpcError as rpc_error:
                delay = self._retry_delay(rpc_error, attempt, idempotent)
            time.sleep(delay)
            attempt += 1


__all__: list[str] = []
