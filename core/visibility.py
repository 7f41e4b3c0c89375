"""Which names the caller may see: the hook list results go through.

Listing topics, groups or subjects returns only what the caller may describe (Kafka's
Metadata and ListGroups, Confluent RBAC's GET /subjects). The security layer knows who is
calling; the servicers and REST routes that list names do not, and the registry must not
import the broker. So the security layer sets ``VISIBLE`` for the duration of a call to a
function deciding which names the caller may see, and listing code passes its names through
``visible``. With no function set (security off, ACLs off, or a caller who may see
everything) names pass through untouched and no per-name work happens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Literal, TypeVar

Kind = Literal["topic", "group", "subject"]
"""The kind of the names being listed (an ACL resource type)."""
Filter = Callable[[Kind, Sequence[str]], list[str]]
"""Keeps the names of one kind the caller may see, in their order."""

T = TypeVar("T")

VISIBLE: ContextVar[Filter | None] = ContextVar("weir_visible", default=None)
"""The current call's filter; None: the caller sees everything."""


def visible(kind: Kind, names: Sequence[str]) -> Sequence[str]:
    """The names of ``kind`` the current caller may see (all of them without a filter)."""
    keep = VISIBLE.get()
    return names if keep is None else keep(kind, names)


def visible_by(kind: Kind, items: Sequence[T], name: Callable[[T], str]) -> Sequence[T]:
    """The items whose ``name`` the current caller may see, in their order."""
    keep = VISIBLE.get()
    if keep is None:
        return items
    allowed = set(keep(kind, [name(item) for item in items]))
    return [item for item in items if name(item) in allowed]
