"""The HTTP side of observability: ``GET /metrics`` and a request id on every HTTP request.

``observability_mount`` returns a mount for ``start_http_server``: it puts a middleware in
front of every other one that gives each request an id (the client's ``x-request-id`` when
sane, else a fresh one) in ``weir.core.rpc.REQUEST_ID`` and in the response header, logs slow
requests, and answers ``GET /metrics`` itself, in the Prometheus text format (or OpenMetrics
when the scraper asks for it), before the registry's JSON content negotiation sees it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from weir.core.rpc import REQUEST_ID, REQUEST_ID_HEADER, request_id_from

log = logging.getLogger("weir.http")

METRICS_PATH = "/metrics"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Refresh = Callable[[], Awaitable[None]]


def observability_mount(
    registry: CollectorRegistry, refresh: Refresh, slow_request_ms: int
) -> Callable[[web.Application], None]:
    """A mount adding ``/metrics`` over ``registry`` and the request-id middleware."""
    slow_s = slow_request_ms / 1000

    async def metrics(request: web.Request) -> web.Response:
        await refresh()
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encode(registry), headers={"Content-Type": content_type})

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        status = 500
        try:
            response: web.StreamResponse
            if request.path == METRICS_PATH and request.method in ("GET", "HEAD"):
                response = await metrics(request)
            else:
                response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        except web.HTTPException as e:  # redirects and the like pass through the registry app
            status = e.status
            e.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            seconds = time.perf_counter() - start
            if seconds >= slow_s:
                _log_slow(request, status, seconds, request_id)
            REQUEST_ID.reset(token)

    def mount(app: web.Application) -> None:
        app.middlewares.insert(0, observe)

    return mount


def _log_slow(request: web.Request, status: int, seconds: float, request_id: str) -> None:
    what = f"{request.method} {request.path}"
    log.warning(
        "slow request: %s took %.1f ms (peer %s, request id %s, status %d)",
        what,
        seconds * 1000,
        request.remote,
        request_id,
        status,
        extra={
            "http": what,
            "duration_ms": round(seconds * 1000, 1),
            "peer": request.remote,
            "status": status,
        },
    )
