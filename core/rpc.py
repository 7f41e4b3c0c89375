"""Server-side error handling, request ids and timing shared by every servicer.

``@rpc`` wraps an async servicer method: a WeirError becomes a rich status
(google.rpc.Status + ErrorInfo); anything else is logged with its traceback and sent as
INTERNAL without leaking internals. The server keeps running either way.

Each call gets a request id: the client's ``x-request-id`` metadata when it sent a sane one,
otherwise a fresh one. It is set in the ``REQUEST_ID`` context variable for the call (so every
log line can carry it) and returned in the trailing metadata. When the servicer has an
``rpc_observer``, the call's duration and status code go to it once per request, and a call
slower than the observer's threshold is logged with its method, duration, peer and id.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

import grpc

from weir.core.errors import InternalError, WeirError
from weir.core.status import to_status

log = logging.getLogger("weir.rpc")

REQUEST_ID_HEADER = "x-request-id"
"""The metadata key (gRPC) and header (HTTP) carrying the request id."""
REQUEST_ID: ContextVar[str] = ContextVar("weir_request_id", default="-")
"""The current request's id; "-" outside a request."""
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Self = TypeVar("Self")

# grpc-stubs does not describe grpc.aio's ServicerContext.abort_with_status, so the context is Any.
Handler = Callable[[Self, Req, Any], Awaitable[Resp]]


class RpcObserver(Protocol):
    """Receives one observation per finished call (metrics) and sets the slow threshold."""

    slow_request_s: float
    """Calls at least this long are logged as slow."""

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Record one finished call."""


_OBSERVER = "rpc_observer"


def attach_observer(servicer: object, observer: RpcObserver) -> None:
    """Make ``observer`` receive every @rpc call of ``servicer`` (one per server)."""
    setattr(servicer, _OBSERVER, observer)


def new_request_id() -> str:
    """A fresh random request id (16 hex digits)."""
    return os.urandom(8).hex()


def request_id_from(offered: str | None) -> str:
    """The client's id when it is short and plain, otherwise a fresh one."""
    if offered and _SANE_ID.fullmatch(offered):
        return offered
    return new_request_id()


def _offered_id(context: Any) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_HEADER:
            return str(value)
    return None


def _with_id(status: grpc.Status, request_id: str) -> grpc.Status:
    # grpc.Status is an interface; grpc_status builds a namedtuple-like _Status we can copy.
    trailing = (*(status.trailing_metadata or ()), (REQUEST_ID_HEADER, request_id))
    return status._replace(trailing_metadata=trailing)  # type: ignore[attr-defined,no-any-return]


def rpc(method: Handler[Self, Req, Resp]) -> Handler[Self, Req, Resp]:
    """Translate errors into gRPC statuses; give the call a request id; time it."""
    name = method.__name__

    @functools.wraps(method)
    async def wrapper(self: Self, request: Req, context: Any) -> Resp:
        request_id = request_id_from(_offered_id(context))
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        code = "OK"
        try:
            response = await method(self, request, context)
            context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            return response
        except WeirError as error:
            code = error.grpc_code.name
            await context.abort_with_status(_with_id(to_status(error), request_id))
        except Exception:
            code = "INTERNAL"
            log.exception("unexpected error in %s", method.__qualname__)
            internal = InternalError(
                f"internal error in {method.__name__}; the server logged the details"
            )
            await context.abort_with_status(_with_id(to_status(internal), request_id))
        finally:
            finished(getattr(self, _OBSERVER, None), name, code, start, context)
            REQUEST_ID.reset(token)
        raise AssertionError("abort_with_status returned")  # pragma: no cover

    return wrapper


def finished(
    observer: RpcObserver | None, method: str, code: str, start: float, context: Any
) -> None:
    """Report a finished call to the observer and log it when slow."""
    if observer is None:
        return
    seconds = time.perf_counter() - start
    observer.observe(method, code, seconds)
    if seconds >= observer.slow_request_s:
        peer = context.peer() if context is not None else "-"
        log.warning(
            "slow request: %s took %.1f ms (peer %s, request id %s, status %s)",
            method,
            seconds * 1000,
            peer,
            REQUEST_ID.get(),
            code,
            extra={
                "rpc": method,
                "duration_ms": round(seconds * 1000, 1),
                "peer": peer,
                "status": code,
            },
        )
