"""The base of every asyncio SDK client: the sync GrpcClient's behaviour on grpc.aio.

Address, deadline, retry policy and error translation come from the same ClientBase the sync
client uses (``_channel``); only the channel and the waiting differ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
import grpc.aio

from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S, ClientBase
from weir.sdk._credentials import Credentials
from weir.sdk._retry import RetryPolicy

R = TypeVar("R")


class AsyncGrpcClient(ClientBase):
    """A grpc.aio channel to one server; use ``async with`` or ``await close()``.

    Create it inside the event loop that uses it.
    """

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
            grpc.aio.secure_channel(server, secure, options=options)
            if secure is not None
            else grpc.aio.insecure_channel(server, options=options)
        )

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

    async def _call(
        self,
        method: Callable[..., Awaitable[R]],
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
                return await method(request, timeout=timeout_s or self.timeout_s)
            except grpc.RpcError as rpc_error:
                delay = self._retry_delay(rpc_error, attempt, idempotent)
            await asyncio.sleep(delay)
            attempt += 1


__all__: list[str] = []
