"""Requests that are not valid protobuf get INVALID_ARGUMENT, not grpc's UNKNOWN.

grpc.aio deserializes a request before any servicer code runs. When the bytes are not a valid
message, the deserializer's ``DecodeError`` escapes into grpc's own handler, which answers
``UNKNOWN: Unexpected <class 'google.protobuf.message.DecodeError'>: ...`` (a Python class
name, no ErrorInfo) and logs a traceback per call. This interceptor, installed outermost,
gives every method an identity deserializer and decodes the bytes itself, so a bad request is
refused with a rich INVALID_ARGUMENT status that names the message type and what to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.protobuf.message import DecodeError

from weir.core.errors import InvalidArgumentError
from weir.core.status import to_status

Decode = Callable[[bytes], Any]
_MAX_CACHED = 1000


def _refusal(method: str, decode: Decode) -> InvalidArgumentError:
    kind = getattr(getattr(decode, "__self__", None), "DESCRIPTOR", None)
    what = f"a valid {kind.full_name} message" if kind is not None else "a valid request"
    return InvalidArgumentError(
        f"the request to {method} is not {what} (its protobuf bytes do not parse); "
        "send a message built from the weir.v1 protos",
        metadata={"method": method},
    )


class DecodeInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Decodes each request itself and refuses undecodable ones with INVALID_ARGUMENT."""

    def __init__(self) -> None:
        self._wrapped: dict[str, tuple[Any, grpc.RpcMethodHandler[Any, Any]]] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler: Any = await continuation(handler_call_details)
        decode = None if handler is None else handler.request_deserializer
        if decode is None:
            return handler  # type: ignore[no-any-return]
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:  # the same handler: wrap it once
            return cached[1]
        wrapped = _wrap(handler, method.lstrip("/"), decode)
        if len(self._wrapped) < _MAX_CACHED:  # method names come from clients: bounded
            self._wrapped[method] = (handler, wrapped)
        return wrapped


def _wrap(handler: Any, method: str, decode: Decode) -> grpc.RpcMethodHandler[Any, Any]:
    async def parse(raw: bytes, context: Any) -> Any:
        try:
            return decode(raw)
        except (DecodeError, ValueError, TypeError):
            await context.abort_with_status(to_status(_refusal(method, decode)))

    def identity(raw: bytes) -> bytes:
        return raw

    serialize = handler.response_serializer
    if handler.unary_unary is not None:
        inner_unary = handler.unary_unary

        async def unary(raw: bytes, context: Any) -> Any:
            return await inner_unary(await parse(raw, context), context)

        return grpc.unary_unary_rpc_method_handler(unary, identity, serialize)
    if handler.unary_stream is not None:
        inner_unary_stream = handler.unary_stream

        async def unary_stream(raw: bytes, context: Any) -> Any:
            async for reply in inner_unary_stream(await parse(raw, context), context):
                yield reply

        return grpc.unary_stream_rpc_method_handler(unary_stream, identity, serialize)

    async def decoded(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[Any]:
        async for raw in requests:
            yield await parse(raw, context)

    if handler.stream_unary is not None:
        inner_stream_unary = handler.stream_unary

        async def stream_unary(requests: AsyncIterator[bytes], context: Any) -> Any:
            return await inner_stream_unary(decoded(requests, context), context)

        return grpc.stream_unary_rpc_method_handler(stream_unary, identity, serialize)
    inner_stream = handler.stream_stream

    async def stream_stream(requests: AsyncIterator[bytes], context: Any) -> Any:
        async for reply in inner_stream(decoded(requests, context), context):
            yield reply

    return grpc.stream_stream_rpc_method_handler(stream_stream, identity, serialize)
