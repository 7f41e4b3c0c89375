"""The base of every synchronous SDK client: one channel, a deadline per call, and errors
translated into the WeirError classes the server sent."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from weir.core.errors import FailedPreconditionError, InvalidArgumentError
from weir.core.status import from_rpc_error

DEFAULT_SERVER = "localhost:50051"
DEFAULT_TIMEOUT_S = 10.0

R = TypeVar("R")


class GrpcClient:
    """A channel to one server. Thread-safe; use as a context manager or call close()."""

    def __init__(
        self, server: str = DEFAULT_SERVER, *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        if not isinstance(server, str) or not server.strip():
            raise InvalidArgumentError("server address is empty; pass HOST:PORT")
        if timeout_s <= 0:
            raise InvalidArgumentError(f"timeout_s must be positive, got {timeout_s}")
        self.server = server
        """The HOST:PORT this client talks to."""
        self.timeout_s = timeout_s
        """The deadline of every call, in seconds."""
        self._channel = grpc.insecure_channel(server)
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

    def _call(self, method: Callable[..., R], request: Any) -> R:
        if self._closed:
            raise FailedPreconditionError(
                f"this {type(self).__name__} is closed; create a new one to make calls"
            )
        try:
            return method(request, timeout=self.timeout_s)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


__all__ = ["DEFAULT_SERVER", "DEFAULT_TIMEOUT_S"]
