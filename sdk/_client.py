"""The base of every synchronous SDK client: one channel with keepalive, a deadline per call,
retries with backoff for retriable errors, and errors translated into the WeirError classes
the server sent."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from weir.core.status import from_rpc_error
from weir.sdk._channel import (
    CHANNEL_OPTIONS,
    DEFAULT_SERVER,
    DEFAULT_TIMEOUT_S,
    check_address,
    closed_error,
    explain,
)
from weir.sdk._retry import NO_RETRY, RetryPolicy

R = TypeVar("R")


class GrpcClient:
    """A channel to one server. Thread-safe; use as a context manager or call close()."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
    ) -> None:
        check_address(server, timeout_s)
        self.server = server
        """The HOST:PORT this client talks to."""
        self.timeout_s = timeout_s
        """The deadline of every call, in seconds."""
        self.retry = retry or RetryPolicy()
        """How calls that may safely run twice are retried after a retriable error."""
        self._channel = grpc.insecure_channel(server, options=CHANNEL_OPTIONS)
        self._closed = False

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server={self.server!r}, timeout_s={self.timeout_s})"

    def _call(
        self,
        method: Callable[..., R],
        request: Any,
        *,
        idempotent: bool = True,
        timeout_s: float | None = None,
    ) -> R:
        """Send one request; retry it per ``self.retry`` only when running it twice is safe."""
        policy = self.retry if idempotent else NO_RETRY
        attempt = 1
        while True:
            if self._closed:
                raise closed_error(self)
            try:
                return method(request, timeout=timeout_s or self.timeout_s)
            except grpc.RpcError as rpc_error:
                error = explain(from_rpc_error(rpc_error), self.server)
            delay = policy.next_delay(error, attempt)
            if delay is None:
                raise error from None
            time.sleep(delay)
            attempt += 1


__all__: list[str] = []
