"""What every console page reads: the server's parts, the lag history and the write switch."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from weir.broker.console.decode import RecordDecoder
from weir.broker.console.lag_history import LagHistory
from weir.broker.groups.service import GroupManager
from weir.broker.log.engine import EmbeddedLogStore
from weir.broker.topics import TopicManager
from weir.registry.service import SchemaRegistry


@dataclass(frozen=True, slots=True)
class Console:
    """The console's view of one server."""

    topics: TopicManager
    """Topic metadata."""
    log: EmbeddedLogStore
    """Every partition's log."""
    registry: SchemaRegistry
    """The server-side schema registry, used to decode records and diff schemas."""
    groups: GroupManager
    """Consumer groups, offsets and lag."""
    decoder: RecordDecoder
    """Decodes framed payloads with the registry's parsed schemas."""
    lag: LagHistory
    """Recent lag samples per group, for the charts."""
    allow_writes: bool
    """True when offset resets may be applied (console_allow_writes)."""
    csrf_token: str
    """The per-server token every POST form must carry."""


CONSOLE_KEY = web.AppKey("weir_console", Console)
"""Where the aiohttp application keeps the Console."""


def console(request: web.Request) -> Console:
    """The Console behind this request."""
    return request.app[CONSOLE_KEY]
