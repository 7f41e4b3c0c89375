"""What every route module shares: the registry key and the JSON reply helpers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from weir.registry.rest.negotiate import DEFAULT_TYPE, choose_content_type
from weir.registry.service import SchemaRegistry

REGISTRY_KEY = web.AppKey("registry", SchemaRegistry)
"""Where the application keeps its SchemaRegistry."""


def registry(request: web.Request) -> SchemaRegistry:
    """The SchemaRegistry behind this request."""
    return request.app[REGISTRY_KEY]


def reply(request: web.Request, data: Any, status: int = 200) -> web.Response:
    """A JSON response in the negotiated content type."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), content_type=response_type(request)
    )


def reply_raw(request: web.Request, text: str) -> web.Response:
    """The raw schema text, unescaped, in the negotiated content type (Confluent's /schema)."""
    return web.Response(body=text.encode(), content_type=response_type(request))


def response_type(request: web.Request) -> str:
    """The negotiated response media type (the default when nothing matches)."""
    return choose_content_type(request.headers.get("Accept")) or DEFAULT_TYPE
