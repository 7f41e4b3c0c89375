"""The same guard on the HTTP listener: the REST registry API, /ui and /metrics.

A middleware (installed by ``mount``, outermost) authenticates every request with a bearer
token (``Authorization: Bearer TOKEN``) or the verified client certificate, authorizes it
with the table below when ACLs are on, and audits registry changes (POST, PUT and DELETE on
subjects, config and mode). Refusals are Confluent-style bodies: 401 with error_code 40101,
403 with error_code 40301.

REST routes map to subject or cluster operations as their gRPC twins do. Routes listing
subjects (GET /subjects, /schemas, /schemas/ids/{id}/subjects and /versions) need only
authentication and list only the subjects the caller may describe (``core.visibility``).
/metrics needs describe on the cluster; /ui needs alter on the cluster, because the console
can browse every topic's records and (with console_allow_writes) reset offsets: whoever opens
it sees everything, so its pages are not filtered.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from weir.broker.security.acl import CLUSTER_NAME, Operation, ResourceType
from weir.broker.security.guard import Guard, bearer_token
from weir.broker.security.interceptor import resources
from weir.broker.security.rules import Need
from weir.core.errors import PermissionDeniedError, UnauthenticatedError, WeirError
from weir.core.rpc import REQUEST_ID_HEADER
from weir.core.visibility import VISIBLE
from weir.registry.rest.server import Mount

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_R, _W, _D, _A = Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.ALTER
_SUBJECT_OPS: dict[tuple[str, str], Operation] = {
    ("POST", "/subjects/{subject}"): _R,
    ("DELETE", "/subjects/{subject}"): Operation.DELETE,
    ("GET", "/subjects/{subject}/versions"): _R,
    ("POST", "/subjects/{subject}/versions"): _W,
    ("GET", "/subjects/{subject}/versions/{version}"): _R,
    ("GET", "/subjects/{subject}/versions/{version}/schema"): _R,
    ("GET", "/subjects/{subject}/versions/{version}/referencedby"): _R,
    ("DELETE", "/subjects/{subject}/versions/{version}"): Operation.DELETE,
    ("GET", "/config/{subject}"): _D,
    ("PUT", "/config/{subject}"): _A,
    ("DELETE", "/config/{subject}"): _A,
    ("GET", "/mode/{subject}"): _D,
    ("PUT", "/mode/{subject}"): _A,
    ("DELETE", "/mode/{subject}"): _A,
    ("POST", "/compatibility/subjects/{subject}/versions"): _R,
    ("POST", "/compatibility/subjects/{subject}/versions/{version}"): _R,
}
"""Routes acting on one subject."""
_CLUSTER_OPS: dict[tuple[str, str], Operation] = {
    ("GET", "/config"): _D,
    ("PUT", "/config"): _A,
    ("DELETE", "/config"): _A,
    ("GET", "/mode"): _D,
    ("PUT", "/mode"): _A,
    ("GET", "/metrics"): _D,
}
"""Routes acting on the registry (cluster) as a whole."""


def _cluster(op: Operation) -> list[Need]:
    return [Need(ResourceType.CLUSTER, CLUSTER_NAME, op)]


def needs_for(method: str, template: str, match: dict[str, str]) -> list[Need]:
    """The checks an HTTP request needs (an empty list: authentication only)."""
    key = (method, template)
    if key in _SUBJECT_OPS:
        return [Need(ResourceType.SUBJECT, match.get("subject", ""), _SUBJECT_OPS[key])]
    if key in _CLUSTER_OPS:
        return _cluster(_CLUSTER_OPS[key])
    if template.startswith("/ui"):
        return _cluster(_A)
    return []  # /, /schemas/..., /openapi.json, /contexts, metadata: any authenticated caller


def _cert_name(request: web.Request) -> str | None:
    transport = request.transport
    cert: Any = transport.get_extra_info("peercert") if transport is not None else None
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def _refusal(status: int, error: WeirError) -> web.Response:
    body = {"error_code": status * 100 + 1, "message": error.message, "reason": error.reason}
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json"
    )


def middleware(guard: Guard) -> Any:
    """The aiohttp middleware for ``guard``."""

    @web.middleware
    async def guard_request(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else request.path
        needs = needs_for(request.method, template, dict(request.match_info))
        mutation = request.method in ("POST", "PUT", "DELETE") and (
            template == "/ui/reset" or not template.startswith(("/ui", "/compatibility"))
        )
        audited = guard.audit is not None and mutation and template != "/subjects/{subject}"
        action = f"{request.method} {template}"
        principal = "-"
        try:
            principal = await guard.principal(
                bearer_token(request.headers.get("Authorization")), _cert_name(request)
            )
            guard.check(principal, needs, action)
        except (UnauthenticatedError, PermissionDeniedError) as error:
            if audited:
                _audit(
                    guard,
                    request=request,
                    principal=principal,
                    action=action,
                    needs=needs,
                    outcome=error.reason,
                )
            code = 401 if isinstance(error, UnauthenticatedError) else 403
            refusal = _refusal(code, error)
            if code == 401:
                refusal.headers["WWW-Authenticate"] = 'Bearer realm="weir"'
            return refusal
        scope = VISIBLE.set(guard.list_filter(principal))
        try:
            response = await handler(request)
        finally:
            VISIBLE.reset(scope)
        if audited:
            outcome = "ok" if response.status < 400 else _failure(response)
            _audit(
                guard,
                request=request,
                principal=principal,
                action=action,
                needs=needs,
                outcome=outcome,
                request_id=response.headers.get(REQUEST_ID_HEADER),
            )
        return response

    return guard_request


def _failure(response: web.StreamResponse) -> str:
    """``HTTP 409 (error_code 409)``: the status and Confluent's error code when readable."""
    body = response.body if isinstance(response, web.Response) else None
    try:
        code = json.loads(body)["error_code"] if isinstance(body, bytes) else None
    except (ValueError, KeyError, TypeError):
        code = None
    return f"HTTP {response.status}" + (f" (error_code {code})" if code is not None else "")


def _audit(
    guard: Guard,
    *,
    request: web.Request,
    principal: str,
    action: str,
    needs: list[Need],
    outcome: str,
    request_id: str | None = None,
) -> None:
    assert guard.audit is not None
    guard.audit.record(
        principal=principal,
        action=action,
        resources=resources(needs),
        outcome=outcome,
        transport="http",
        peer=request.remote or "-",
        request_id=request_id,
    )


def mount(guard: Guard) -> Mount:
    """A mount that installs the middleware outermost (before the app is frozen)."""

    def install(app: web.Application) -> None:
        app.middlewares.insert(0, middleware(guard))

    return install
