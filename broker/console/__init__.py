"""The web console at ``/ui``: server-rendered HTML over the server's topics, records,
schemas, consumer groups and dead letters. Read-only unless console_allow_writes is set."""

from weir.broker.console.app import make_console, mount
from weir.broker.console.context import Console

__all__ = ["Console", "make_console", "mount"]
