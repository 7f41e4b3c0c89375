"""Channel settings and call plumbing shared by the sync and asyncio clients, free of I/O."""

from __future__ import annotations

import grpc

from weir.core.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    UnavailableError,
    WeirError,
)
from weir.core.status import from_rpc_error
from weir.sdk._credentials import Credentials
from weir.sdk._retry import NO_RETRY, RetryPolicy

DEFAULT_SERVER = "localhost:50051"
"""The address clients use when none is given: `weir serve`'s default."""
DEFAULT_TIMEOUT_S = 10.0
"""The deadline of each call (each attempt, when a call is retried), in seconds."""

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.enable_retries", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.use_local_subchannel_pool", 1),
)
"""Keepalive pings find a dead connection within ~40 s even when idle; messages up to 64 MiB.
Retries are ours (RetryPolicy), so grpc's own are off; a dropped connection is retried after
0.1 s, backing off to 2 s at most (grpc's default starts at 1 s and grows to 120 s, which makes
a client miss a server that restarted in under a second). Each client has its own connection,
as Kafka's clients do: grpc would otherwise put every client of a process on one connection,
where 50 producers and 20 consumers exceed the server's ``max_concurrent_streams``."""

_REFUSED_STREAM = "RST_STREAM with error code 7"
"""How grpc words an HTTP/2 REFUSED_STREAM: the server refused the call before reading it."""


def refused_unprocessed(rpc_error: grpc.RpcError) -> bool:
    """True when the server refused the call unread (HTTP/2 REFUSED_STREAM, e.g. past its
    ``max_concurrent_streams``), so even a call that must not run twice can be sent again."""
    details = rpc_error.details() if isinstance(rpc_error, grpc.Call | grpc.aio.AioRpcError) else ""
    return _REFUSED_STREAM in (details or "")


def check_address(server: str, timeout_s: float) -> None:
    """Refuse an empty address or a non-positive deadline before a channel is made."""
    if not isinstance(server, str) or not server.strip():
        raise InvalidArgumentError("server address is empty; pass HOST:PORT")
    port = server.rpartition(":")[2]
    if port.isdigit() and int(port) > 65535:  # grpc would quietly wrap it around
        raise InvalidArgumentError(
            f"server address {server!r} has port {port}; ports go from 1 to 65535"
        )
    if timeout_s <= 0:
        raise InvalidArgumentError(f"timeout_s must be positive, got {timeout_s}")


def closed_error(client: object) -> FailedPreconditionError:
    """The error for a call on a closed client."""
    return FailedPreconditionError(
        f"this {type(client).__name__} is closed; create a new one to make calls"
    )


UNREACHABLE = "cannot reach the Weir server at"
"""How an unreachable-server error starts (once it names the server)."""


def explain(error: WeirError, server: str) -> WeirError:
    """Name the server in an UnavailableError, and say what to check (once: idempotent)."""
    # grpc's own text may already contain the address ("ipv4:127.0.0.1:PORT: Connection
    # refused"), so whether the advice is there is decided by its own marker.
    if isinstance(error, UnavailableError) and not error.message.startswith(UNREACHABLE):
        return UnavailableError(
            f"{UNREACHABLE} {server}: {error.message}. Check that "
            "`weir serve` is running there and the address is right",
            metadata=error.metadata,
        )
    return error


class ClientBase:
    """What the sync and asyncio clients share: address, deadline, retry policy, credentials,
    closed flag, and the decision after a failed attempt. Subclasses own the channel (made
    from ``_channel_settings``) and the waiting."""

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        check_address(server, timeout_s)
        if credentials is not None and not isinstance(credentials, Credentials):
            raise InvalidArgumentError(
                f"credentials must be a weir.sdk.Credentials, not {type(credentials).__name__}"
            )
        self.server = server
        """The HOST:PORT this client talks to."""
        self.timeout_s = timeout_s
        """The deadline of every call, in seconds."""
        self.retry = retry or RetryPolicy()
        """How calls that may safely run twice are retried after a retriable error."""
        self.credentials = credentials
        """TLS and token settings; None: plaintext, no credentials."""
        self._closed = False

    def _channel_settings(
        self, extra: tuple[tuple[str, int], ...] = ()
    ) -> tuple[grpc.ChannelCredentials | None, list[tuple[str, int | str]]]:
        """The channel credentials (None: an insecure channel) and options."""
        options: list[tuple[str, int | str]] = [*CHANNEL_OPTIONS, *extra]
        if self.credentials is None:
            return None, options
        options.extend(self.credentials.options())
        return self.credentials.channel_credentials(), options

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server={self.server!r}, timeout_s={self.timeout_s})"

    def _check_open(self) -> None:
        if self._closed:
            raise closed_error(self)

    def _retry_delay(self, rpc_error: grpc.RpcError, attempt: int, idempotent: bool) -> float:
        """The pause before retrying a failed attempt; raises the WeirError when giving up."""
        error = explain(from_rpc_error(rpc_error), self.server)
        safe = idempotent or refused_unprocessed(rpc_error)
        delay = (self.retry if safe else NO_RETRY).next_delay(error, attempt)
        if delay is None:
            raise error from None
        return delay


__all__ = ["DEFAULT_SERVER", "DEFAULT_TIMEOUT_S"]
