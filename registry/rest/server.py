"""Run the REST app on the current event loop: bind, report the port, stop.

A request that is not valid HTTP never reaches the app or its middlewares: aiohttp's parser
refuses it and answers in plain text that quotes the offending bytes as a Python value
(``Got more than 8190 bytes when reading: bytearray(b'/subjects/...')``). The runner here
swaps in a connection handler whose error answer is Confluent's JSON error body instead:
414 for a request line over aiohttp's max_line_size (8190 bytes), 431 for a header over
max_field_size, 400 for anything else malformed, naming the limit and never the bytes.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong

from weir.core.errors import UnavailableError
from weir.registry.rest.app import create_app
from weir.registry.rest.errors import STORE_ERROR, RestError
from weir.registry.rest.negotiate import DEFAULT_TYPE
from weir.registry.service import SchemaRegistry

log = logging.getLogger("weir.rest")
_REQUEST_LINE = re.compile(rb"/|[A-Z]+ |[a-z]+://")
"""How the too-long line starts when it is the request line (C parser: the URL; Python
parser: the whole line) rather than a header."""


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
    runner = _JsonErrorRunner(app, access_log=None, handle_signals=False)
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


def parse_error(status: int, exc: BaseException | None, message: str | None) -> RestError:
    """The Confluent-style error for a request aiohttp could not parse (or a fault outside
    the app's middlewares): what was wrong and the limit, without the request's bytes."""
    if status >= 500:
        return RestError(500, STORE_ERROR, "Internal server error; see the server log")
    if isinstance(exc, LineTooLong):
        line, limit = (*exc.args, "", "")[:2]
        text = bytes(line) if isinstance(line, bytes | bytearray) else str(line).encode()
        if _REQUEST_LINE.match(text):
            return RestError(
                414,
                414,
                f"URI Too Long: the request line is over the limit of {limit} bytes; "
                "use a shorter URL (subject names are at most max_name_bytes long)",
            )
        return RestError(
            431,
            431,
            f"Request Header Fields Too Large: a header line is over the limit of {limit} bytes",
        )
    summary = (message or "").split(":", 1)[0].strip().splitlines()
    what = summary[0] if summary and "b'" not in summary[0] else "malformed request"
    return RestError(400, 400, f"Bad Request: not valid HTTP/1.1 ({what})")


class _JsonErrorHandler(web.RequestHandler):
    """aiohttp's connection handler, answering parse errors with Confluent's JSON body."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:  # a client's malformed request: not worth a traceback at ERROR
            log.debug("malformed HTTP request from %s: %s", request.remote, message)
        if request.writer.output_size > 0:  # as aiohttp: the response has started, give up
            raise ConnectionError("the response was already being sent; closing")
        error = parse_error(status, exc, message)
        body = {"error_code": error.error_code, "message": error.message}
        response = web.Response(
            status=error.status, body=json.dumps(body).encode(), content_type=DEFAULT_TYPE
        )
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    """The low-level server, making a _JsonErrorHandler per connection."""

    def __call__(self) -> web.RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class _JsonErrorRunner(web.AppRunner):
    """AppRunner whose connections answer unparsable requests in JSON."""

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return _JsonErrorServer(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            **plain._kwargs,
        )
