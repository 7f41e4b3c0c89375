"""The base of every asyncio SDK client: the sync GrpcClient's behaviour on grpc.aio.

Channel options, retry policy, deadline and error translation are the same objects the sync
client uses (``_channel``, ``_retry``); only the waiting differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
import grpc.aio

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


class AsyncGrpcClient:
    """A grpc.aio channel to one server; use ``async with`` or ``await close()``.

    Create it inside the event loop that uses it.
    """

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
        self._channel = grpc.aio.insecure_channel(server, options=CHANNEL_OPTIONS)
        self._closed = False

    async def close(self) -> None:
        """Close the channel. Calls after this raise FailedPreconditionError."""
        self._closed = True
        await self._channel.close(None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server={self.server!r}, timeout_s={self.timeout_s})"

    async def _call(
        self,
        method: Callable[..., Awaitable[R]],
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
                return await method(request, timeout=timeout_s or self.timeout_s)
            except grpc.RpcError as rpc_error:
                error = explain(from_rpc_error(rpc_error), self.server)
            delay = policy.next_delay(error, attempt)
            if delay is None:
                raise error from None
            await asyncio.sleep(delay)
            attempt += 1


__all__: list[str] = []
