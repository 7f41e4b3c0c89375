"""Server-side error handling shared by every servicer.

``@rpc`` wraps an async servicer method: a WeirError becomes a rich status
(google.rpc.Status + ErrorInfo); anything else is logged with its traceback and sent as
INTERNAL without leaking internals. The server keeps running either way.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from weir.core.errors import InternalError, WeirError
from weir.core.status import to_status

log = logging.getLogger("weir.rpc")

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Self = TypeVar("Self")

# grpc-stubs does not describe grpc.aio's ServicerContext.abort_with_status, so the context is Any.
Handler = Callable[[Self, Req, Any], Awaitable[Resp]]


def rpc(method: Handler[Self, Req, Resp]) -> Handler[Self, Req, Resp]:
    """Translate errors raised by a servicer method into gRPC statuses."""

    @functools.wraps(method)
    async def wrapper(self: Self, request: Req, context: Any) -> Resp:
        try:
            return await method(self, request, context)
        except WeirError as error:
            await context.abort_with_status(to_status(error))
        except Exception:
            log.exception("unexpected error in %s", method.__qualname__)
            internal = InternalError(
                f"internal error in {method.__name__}; the server logged the details"
            )
            await context.abort_with_status(to_status(internal))
        raise AssertionError("abort_with_status returned")  # pragma: no cover

    return wrapper
