"""JSON Schema patterns matched with a time bound, so a backtracking pattern cannot hang us.

``jsonschema`` matches ``pattern``, ``patternProperties`` (and, through them,
``additionalProperties`` and ``unevaluatedProperties``) with ``re.search`` from its own
modules. Python's ``re`` backtracks without limit and cannot be interrupted: ``^(a+)+$``
against 30 ``a`` and a ``!`` runs for a minute with the event loop blocked. ``install()``
gives those modules a ``re`` whose ``search`` runs in the ``regex`` engine with a timeout (the
time left in the request's validation budget, at most ``pattern_timeout_ms``); a match that
runs out raises ``PatternTimeout``, which the record validator turns into a refusal naming
``validation_timeout_ms``. A pattern ``regex`` cannot compile (or only at a cost that
cannot be bounded, see ``json_schema_patterns``) raises ``PatternRefused``, which refuses the
record naming the pattern: there is no fallback to ``re``. Registration refuses such schemas,
so this happens only for schemas registered before that check. Everything else in those
modules' ``re`` is Python's.

The fast path (``jsonschema_rs``) needs none of this: its regex engine runs in linear time,
and its backtracking fallback (for backreferences and lookaround) stops at a step limit
(measured: ``^(a+)+$`` and ``^(a*)*\\1$`` against hostile strings return in microseconds).
"""

from __future__ import annotations

import re
import time
from types import ModuleType
from typing import Any

import jsonschema._keywords
import jsonschema._legacy_keywords
import jsonschema._utils

from weir.registry.formats.json_schema_patterns import compile_pattern
from weir.registry.formats.limits import current

_PATCHED = (jsonschema._keywords, jsonschema._legacy_keywords, jsonschema._utils)
_MIN_TIMEOUT_S = 0.001


class PatternTimeout(Exception):
    """A pattern match ran out of time."""

    def __init__(self, pattern: str) -> None:
        super().__init__(f"pattern {pattern!r} ran out of time")
        self.pattern = pattern
        """The pattern that was being matched."""


def bounded_search(pattern: str, string: str, flags: int = 0) -> Any:
    """``re.search`` with a time bound; raises PatternTimeout when it runs out."""
    spent = current()
    timeout = min(spent.pattern_timeout_s, spent.deadline - time.monotonic())
    if timeout < _MIN_TIMEOUT_S:
        raise PatternTimeout(pattern)
    compiled = compile_pattern(pattern, flags)  # raises PatternRefused, never falls back
    try:
        return compiled.search(string, timeout=timeout)
    except TimeoutError:
        raise PatternTimeout(pattern) from None


class _BoundedRe(ModuleType):
    """Python's ``re`` with ``search`` bounded in time."""

    def __init__(self) -> None:
        super().__init__("re")
        self.search = bounded_search

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


BOUNDED_RE = _BoundedRe()


def install() -> None:
    """Make jsonschema's keyword modules match patterns through ``bounded_search``."""
    for module in _PATCHED:
        module.re = BOUNDED_RE  # type: ignore[attr-defined]


def installed() -> bool:
    """True when every patched module uses the bounded search."""
    return all(getattr(m, "re", None) is BOUNDED_RE for m in _PATCHED)


install()
