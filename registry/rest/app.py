"""The aiohttp application: routes of the Confluent Schema Registry REST API."""

from __future__ import annotations

from aiohttp import web

from weir.registry.service import SchemaRegistry

REGISTRY_KEY = web.AppKey("registry", SchemaRegistry)


def create_app(registry: SchemaRegistry) -> web.Application:
    """Build the application over one SchemaRegistry."""
    app = web.Application()
    app[REGISTRY_KEY] = registry
    return app
