"""The one place gRPC calls are authenticated, authorized and audited: a server interceptor.

Why an interceptor and not the ``@rpc`` decorator: it sees every service (including
ProduceStream, which has no decorator, and the health and reflection services), it is
installed only by the server's composition, and servicers stay free of security code. It
wraps each method's handler so the check runs with the deserialized request in hand, which
the (resource, name) of a check needs.

When neither authentication nor ACLs are on, only audited methods are wrapped (for the audit
log), so the produce and fetch paths pay nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import grpc.aio
from google.rpc import error_details_pb2, status_pb2

from weir.broker.security.guard import Guard, bearer_token
from weir.broker.security.rules import AUTHENTICATED_SERVICES, OPEN_METHODS, RULES, Need, Rule
from weir.core.errors import PermissionDeniedError, UnauthenticatedError, WeirError
from weir.core.rpc import REQUEST_ID_HEADER
from weir.core.status import to_status
from weir.core.visibility import VISIBLE

_AUTHORIZATION = "authorization"
_DETAILS = "grpc-status-details-bin"


def _metadata(context: Any, key: str) -> str | None:
    for k, value in context.invocation_metadata() or ():
        if k == key:
            return str(value)
    return None


def _cert_name(context: Any) -> str | None:
    names = context.auth_context().get("x509_common_name") or ()
    return next((n.decode() for n in names), None)


def resources(needs: list[Need] | None) -> list[dict[str, str]]:
    """Needs as audit-log resources."""
    return [
        {"type": str(n.resource_type), "name": n.name, "operation": str(n.operation)}
        for n in needs or ()
    ]


class SecurityInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Authenticates, authorizes (per ``rules.RULES``) and audits every call."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method.lstrip("/")
        if handler is None or method in OPEN_METHODS:
            return handler
        rule = RULES.get(method)
        if not self.guard.active and (rule is None or not rule.audit):
            return handler
        if method.split("/")[0] in AUTHENTICATED_SERVICES:
            rule = Rule(lambda _request: [])
        return _wrap(handler, method, rule, self.guard)


async def _principal(guard: Guard, context: Any) -> str:
    token = bearer_token(_metadata(context, _AUTHORIZATION))
    return await guard.principal(token, _cert_name(context))


def _request_id(context: Any) -> str | None:
    """The id @rpc gave the call (it puts it in the trailers, on success and failure)."""
    for key, value in context.trailing_metadata() or ():
        if key == REQUEST_ID_HEADER:
            return str(value)
    return None


def _outcome(context: Any) -> str:
    """The failed call's error reason, from the rich status it was aborted with."""
    for key, value in context.trailing_metadata() or ():
        if key == _DETAILS and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.reason:
                    return str(info.reason)
    code = context.code()
    return str(getattr(code, "name", None) or "CANCELLED")


def _wrap(
    handler: Any, method: str, rule: Rule | None, guard: Guard
) -> grpc.RpcMethodHandler[Any, Any]:
    """The handler with the checks around it (unary or streaming requests)."""

    async def refuse(context: Any, error: WeirError) -> None:
        await context.abort_with_status(to_status(error))

    def audit(principal: str, needs: list[Need] | None, outcome: str, context: Any) -> None:
        if guard.audit is not None and rule is not None and rule.audit:
            guard.audit.record(
                principal=principal,
                action=method,
                resources=resources(needs),
                outcome=outcome,
                transport="grpc",
                peer=context.peer(),
                request_id=_request_id(context),
            )

    if handler.stream_stream is not None:
        inner_stream = handler.stream_stream

        async def checked(requests: AsyncIterator[Any], context: Any, principal: str) -> Any:
            async for request in requests:
                needs = rule.needs(request) if rule is not None else None
                try:
                    guard.check(principal, needs, method)
                except PermissionDeniedError as error:
                    await refuse(context, error)
                yield request

        async def stream_behavior(requests: AsyncIterator[Any], context: Any) -> Any:
            try:
                principal = await _principal(guard, context)
            except UnauthenticatedError as error:
                await refuse(context, error)
            async for reply in inner_stream(checked(requests, context, principal), context):
                yield reply

        return grpc.stream_stream_rpc_method_handler(
            stream_behavior, handler.request_deserializer, handler.response_serializer
        )

    inner = handler.unary_unary
    if inner is None:
        raise TypeError(f"{method}: only unary and bidirectional-streaming calls are guarded")

    async def behavior(request: Any, context: Any) -> Any:
        principal = "-"
        needs = rule.needs(request) if rule is not None else None
        try:
            principal = await _principal(guard, context)
            guard.check(principal, needs, method)
        except (UnauthenticatedError, PermissionDeniedError) as error:
            audit(principal, needs, error.reason, context)
            await refuse(context, error)
        # List results keep only what the caller may describe (see core.visibility).
        scope = VISIBLE.set(guard.list_filter(principal))
        try:
            reply = await inner(request, context)
        except BaseException:
            audit(principal, needs, _outcome(context), context)
            raise
        finally:
            VISIBLE.reset(scope)
        audit(principal, needs, "ok", context)
        return reply

    return grpc.unary_unary_rpc_method_handler(
        behavior, handler.request_deserializer, handler.response_serializer
    )
