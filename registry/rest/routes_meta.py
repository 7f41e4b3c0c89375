"""Server-level routes: root, contexts, metadata, the OpenAPI document, and associations."""

from __future__ import annotations

from importlib import metadata

from aiohttp import web

from weir.registry.rest.bodies import page
from weir.registry.rest.errors import RestError
from weir.registry.rest.openapi import document
from weir.registry.rest.shared import reply

routes = web.RouteTableDef()

DEFAULT_CONTEXT = "."
"""Confluent's name for the default context, the only one Weir has."""
CLUSTER_ID = "weir"
"""The cluster id /v1/metadata/id reports."""


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    """An empty object, as Confluent answers (load balancers probe it)."""
    return reply(request, {})


@routes.get("/contexts")
async def contexts(request: web.Request) -> web.Response:
    """The contexts: only the default one."""
    return reply(request, page(request, [DEFAULT_CONTEXT]))


@routes.get("/v1/metadata/id")
async def metadata_id(request: web.Request) -> web.Response:
    """Confluent's ServerClusterId."""
    clusters = {"kafka-cluster": CLUSTER_ID, "schema-registry-cluster": CLUSTER_ID}
    return reply(request, {"scope": {"path": [], "clusters": clusters}, "id": CLUSTER_ID})


@routes.get("/v1/metadata/version")
async def metadata_version(request: web.Request) -> web.Response:
    """Confluent's SchemaRegistryServerVersion: the Weir version."""
    return reply(request, {"version": _version(), "commitId": ""})


@routes.get("/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of this API."""
    return web.json_response(document())


@routes.route("*", "/associations{tail:.*}")
async def associations(request: web.Request) -> web.Response:
    """Not supported: 404, so newer clients fall back to their naming strategies."""
    raise RestError(404, 404, "HTTP 404 Not Found: associations are not supported")


def _version() -> str:
    try:
        return metadata.version("weir")
    except metadata.PackageNotFoundError:
        return "0.0.0"
