"""One RPC described as data, free of I/O: which method, what request, how to read the reply.

The shared request builders (``_registry_shared``, ``_admin_shared``, ``_admin_groups``)
return a Call; the sync and asyncio clients only send it and hand the reply to ``parse``.
Whether a call may run twice (and so be retried) is decided here, once, for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """An RPC ready to send: the stub, the method, the request and the reply parser."""

    stub: str
    """Which stub of the client sends it (for example ``"registry"`` or ``"topics"``)."""
    method: str
    """The RPC name on that stub, for example ``"RegisterSchema"``."""
    request: Any
    """The request message, already checked."""
    parse: Callable[[Any], T]
    """Turns the reply message into the value the client returns."""
    idempotent: bool = True
    """False for calls that must not run twice: they are never retried."""


__all__: list[str] = []  # plumbing for the clients only
