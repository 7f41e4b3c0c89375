"""The aiohttp application: Confluent Schema Registry's routes over one SchemaRegistry.

A middleware negotiates the response content type (Confluent's three JSON media types, in
its order of preference) and turns every failure into Confluent's error body. Registry
calls are synchronous and cheap, except register and check, which parse schemas; handlers
call them directly, as the gRPC servicer does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from weir.core.errors import WeirError
from weir.registry.rest import routes_config, routes_meta, routes_schemas, routes_subjects
from weir.registry.rest.errors import STORE_ERROR, RestError, from_weir_error
from weir.registry.rest.negotiate import choose_content_type
from weir.registry.rest.shared import REGISTRY_KEY, response_type
from weir.registry.service import SchemaRegistry

log = logging.getLogger("weir.rest")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(registry: SchemaRegistry) -> web.Application:
    """Build the application over one SchemaRegistry."""
    app = web.Application(middlewares=[_errors], client_max_size=16 * 1024 * 1024)
    app[REGISTRY_KEY] = registry
    for module in (routes_meta, routes_schemas, routes_subjects, routes_config):
        app.router.add_routes(module.routes)
    return app


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if choose_content_type(request.headers.get("Accept")) is None:
            raise RestError(406, 406, "HTTP 406 Not Acceptable")
        return await handler(request)
    except RestError as e:
        return _error_response(request, e)
    except WeirError as e:
        return _error_response(request, from_weir_error(e))
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _error_response(
            request, RestError(e.status, e.status, f"HTTP {e.status} {e.reason}")
        )
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        return _error_response(
            request, RestError(500, STORE_ERROR, "Internal server error; see the server log")
        )


def _error_response(request: web.Request, error: RestError) -> web.Response:
    body: dict[str, Any] = {"error_code": error.error_code, "message": error.message}
    return web.Response(
        status=error.status,
        body=json.dumps(body).encode(),
        content_type=response_type(request),
    )
