"""Mount the console on the server's aiohttp app: routes, static files, errors, lag sampler.

Every handler's failure becomes an HTML error page: 4xx with the message for bad input
(unknown topic, partition, group or subject; bad offsets or times), 500 with no details for
a real fault (logged with its traceback on the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources

from aiohttp import web
from multidict import CIMultiDict

from weir.broker.console import (
    pages_dlq,
    pages_groups,
    pages_records,
    pages_reset,
    pages_subjects,
    pages_topics,
)
from weir.broker.console.context import CONSOLE_KEY, Console, console
from weir.broker.console.decode import RecordDecoder
from weir.broker.console.errors import ConsoleError, from_weir_error
from weir.broker.console.lag_history import LagHistory
from weir.broker.console.markup import join, page, tag
from weir.broker.groups.service import GroupManager
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.topics import TopicManager
from weir.core.errors import WeirError
from weir.registry.service import SchemaRegistry

log = logging.getLogger("weir.console")
Page = Callable[[Console, web.Request], Awaitable[str | web.Response]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = {"console.css": "text/css"}
"""Files served from the package's static/ folder, with their content types."""


def make_console(
    *,
    topics: TopicManager,
    log_store: EmbeddedLogStore,
    registry: SchemaRegistry,
    groups: GroupManager,
    allow_writes: bool = False,
    lag_sample_ms: int = 5000,
) -> Console:
    """A console over one server's parts, with a fresh CSRF token."""
    return Console(
        topics,
        log_store,
        registry,
        groups,
        RecordDecoder(registry),
        LagHistory(lag_sample_ms),
        allow_writes,
        secrets.token_urlsafe(32),
    )


def mount(c: Console) -> Callable[[web.Application], None]:
    """A mount for ``start_http_server``: adds /ui and runs the lag sampler with the app."""

    def add(app: web.Application) -> None:
        app[CONSOLE_KEY] = c
        get = (
            ("/ui/topics", pages_topics.topics_page),
            ("/ui/topics/{topic}", pages_topics.topic_page),
            ("/ui/topics/{topic}/{partition}", pages_records.records_page),
            ("/ui/subjects", pages_subjects.subjects_page),
            ("/ui/subjects/{subject:.+}", pages_subjects.subject_page),
            ("/ui/diff/{subject:.+}", pages_subjects.diff_page),
            ("/ui/groups", pages_groups.groups_page),
            ("/ui/groups/{group:.+}", pages_groups.group_page),
            ("/ui/reset", pages_reset.reset_page),
            ("/ui/dlq", pages_dlq.dlq_page),
        )
        for path, handler in get:
            app.router.add_get(path, _html(handler))
        app.router.add_post("/ui/reset", _html(pages_reset.apply_reset))
        app.router.add_get("/ui", _home)
        app.router.add_get("/ui/", _home)
        app.router.add_get("/ui/static/{name}", _static)
        app.router.add_route("*", "/ui/{tail:.*}", _html(_not_found))
        app.cleanup_ctx.append(_sampler)
        app.middlewares.insert(0, _accept_html)

    return add


@web.middleware
async def _accept_html(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Console pages are HTML: the REST API's JSON content negotiation (406 unless the client
    accepts a JSON type) does not apply to them, so their Accept header is neutralised."""
    if request.path == "/ui" or request.path.startswith("/ui/"):
        headers = CIMultiDict(request.headers)
        headers["Accept"] = "*/*"
        request = request.clone(headers=headers)
    return await handler(request)


async def _sampler(app: web.Application) -> AsyncIterator[None]:
    c = app[CONSOLE_KEY]
    task = asyncio.create_task(c.lag.run(c.groups))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _html(handler: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(console(request), request)
        except ConsoleError as e:
            return _error(e)
        except WeirError as e:
            return _error(from_weir_error(e))
        except Exception:
            log.exception("console failed serving %s %s", request.method, request.path_qs)
            return _error(ConsoleError(500, "internal error; the server log has the details"))
        if isinstance(result, web.StreamResponse):
            return result
        return web.Response(text=result, content_type="text/html", charset="utf-8")

    return serve


def _error(e: ConsoleError) -> web.Response:
    body = tag("p", e.message, class_="error", id="error-message")
    back = tag("p", tag("a", "back to topics", href="/ui/topics"))
    text = page(f"Error {e.status}", join((body, back)))
    return web.Response(text=text, status=e.status, content_type="text/html", charset="utf-8")


async def _not_found(c: Console, request: web.Request) -> str:
    raise ConsoleError(404, f"no console page at {request.path}; start from /ui/topics")


async def _home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/ui/topics")


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC:
        return _error(ConsoleError(404, f"no static file {name!r}"))
    data = resources.files("weir.broker.console").joinpath("static", name).read_bytes()
    return web.Response(
        body=data,
        content_type=STATIC[name],
        headers={"Cache-Control": "max-age=300"},
    )
