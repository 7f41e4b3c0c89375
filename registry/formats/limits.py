"""Limits on validating hostile payloads: nesting depth and a time budget per request.

The produce path sets a ``ValidationBudget`` for each request with ``budget(...)``; the record
validators read it (a ContextVar, so concurrent requests and servers do not share one):

* ``max_payload_depth``: JSON documents, Avro records of recursive schemas and protobuf
  messages of recursive types nested deeper are refused, rule and limit ``max_payload_depth``;
* ``deadline``: the request's validation must end by then (``time.monotonic()``); a JSON
  Schema ``pattern`` match gets the time left, at most ``pattern_timeout_s``, and runs in the
  ``regex`` engine, which honours a timeout (Python's ``re`` cannot be interrupted, and a
  pattern such as ``^(a+)+$`` backtracks for minutes). Refusals name ``validation_timeout_ms``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from weir.core.errors import InvalidRecordError

DEFAULT_MAX_DEPTH = 100
DEFAULT_PATTERN_TIMEOUT_S = 0.1


@dataclass(frozen=True, slots=True)
class ValidationBudget:
    """What one produce request may spend on validation."""

    max_payload_depth: int = DEFAULT_MAX_DEPTH
    """Deepest nesting a payload may have."""
    pattern_timeout_s: float = DEFAULT_PATTERN_TIMEOUT_S
    """Longest one pattern match may run."""
    deadline: float = math.inf
    """time.monotonic() by which the request's validation must end."""
    timeout_ms: int = 0
    """The request's budget in ms, for messages (0 when unbounded)."""


_BUDGET: ContextVar[ValidationBudget] = ContextVar("weir_validation_budget")
_DEFAULT = ValidationBudget()


def current() -> ValidationBudget:
    """The budget of the request being validated (defaults outside a request)."""
    return _BUDGET.get(_DEFAULT)


@contextmanager
def budget(
    max_payload_depth: int, timeout_ms: int, pattern_timeout_ms: int
) -> Iterator[ValidationBudget]:
    """Validate within these limits until the block ends."""
    value = ValidationBudget(
        max_payload_depth,
        pattern_timeout_ms / 1000,
        time.monotonic() + timeout_ms / 1000,
        timeout_ms,
    )
    token = _BUDGET.set(value)
    try:
        yield value
    finally:
        _BUDGET.reset(token)


def out_of_time(what: str) -> InvalidRecordError:
    """The refusal for a record whose validation ran out of the request's time."""
    spent = current()
    limit = f"validation_timeout_ms={spent.timeout_ms}" if spent.timeout_ms else "a time limit"
    return InvalidRecordError(
        f"{what} did not finish within the validation time budget ({limit}, at most "
        f"{spent.pattern_timeout_s * 1000:.0f} ms per pattern match); simplify the schema's "
        "patterns or send fewer records per request",
        metadata={"rule": "validation_timeout_ms", "limit": "validation_timeout_ms"},
    )


def check_deadline(what: str) -> None:
    """Raise out_of_time when the request's validation budget is used up."""
    if time.monotonic() > current().deadline:
        raise out_of_time(what)


def too_deep(depth: int | None, what: str = "payload") -> InvalidRecordError:
    """The refusal for a payload nested deeper than max_payload_depth (None: not counted)."""
    limit = current().max_payload_depth
    levels = "too many levels" if depth is None else f"{depth} levels"
    return InvalidRecordError(
        f"{what} nests {levels} deep, over the limit max_payload_depth={limit}; flatten the record",
        metadata={"rule": "max_payload_depth", "limit": "max_payload_depth"},
    )


def nesting_depth(value: Any, stop: int) -> int:
    """Depth of nested dicts and lists (a scalar is 0); stops counting past ``stop``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list | tuple):
            children = node
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > stop:
                return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def check_depth(value: Any, what: str = "payload") -> None:
    """Raise too_deep when ``value`` nests deeper than the budget allows."""
    limit = current().max_payload_depth
    depth = nesting_depth(value, limit)
    if depth > limit:
        raise too_deep(depth, what)
