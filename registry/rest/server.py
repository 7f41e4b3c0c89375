"""Run the REST app on the current event loop: bind, report the port, stop."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from weir.core.errors import UnavailableError
from weir.registry.rest.app import create_app
from weir.registry.service import SchemaRegistry


@dataclass(slots=True)
class HttpServer:
    """A started HTTP server and its bound port."""

    runner: web.AppRunner
    """The aiohttp runner that owns the site."""
    port: int
    """The bound TCP port."""

    async def stop(self) -> None:
        """Stop accepting requests and close open connections."""
        await self.runner.cleanup()


Mount = Callable[[web.Application], None]
"""Adds routes (metrics, the console, ...) to the app before it starts."""


async def start_http_server(
    registry: SchemaRegistry,
    address: str,
    mounts: Sequence[Mount] = (),
    ssl_context: ssl.SSLContext | None = None,
) -> HttpServer:
    """Serve the Confluent-compatible REST API on HOST:PORT (port 0 picks a free one), plus
    whatever ``mounts`` add to the same app; over TLS with ``ssl_context``."""
    host, _, port_text = address.rpartition(":")
    try:
        port = int(port_text)
    except ValueError:
        raise UnavailableError(f"HTTP address {address!r} is not HOST:PORT") from None
    host = host.strip("[]") or "127.0.0.1"
    app = create_app(registry)
    for mount in mounts:
        mount(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        sock = socket.create_server((host, port), family=_family(host), reuse_port=False)
    except OSError as e:
        await runner.cleanup()
        raise UnavailableError(f"cannot bind HTTP on {address}: {e}") from None
    site = web.SockSite(runner, sock, ssl_context=ssl_context)
    await site.start()
    return HttpServer(runner, sock.getsockname()[1])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
