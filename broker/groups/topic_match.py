"""Topic-regex subscriptions matched with a time bound, so a regex cannot stall the server.

Groups match every member's ``topic_regex`` against every topic name on the event loop.
Python's ``re`` backtracks without limit and cannot be interrupted: ``(a|a)+`` against a
topic named with 26 ``a`` and a ``-`` blocked every client of the server for 13 s, and each
extra ``a`` doubles that. Here patterns run in the ``regex`` engine with a timeout of
``MATCH_TIMEOUT_S`` per topic name. A pattern that runs out of time once is remembered as
too slow: from then on it matches nothing (so it costs nothing) and a subscription that asks
for it is refused with an error that names it.
"""

from __future__ import annotations

import logging

import regex

from weir.core.errors import InvalidArgumentError
from weir.registry.formats.json_schema_patterns import PatternRefused, compile_pattern

log = logging.getLogger("weir.groups")

MATCH_TIMEOUT_S = 0.01
"""The longest one topic-name match may run."""
MAX_PATTERN_CHARS = 10_000
"""The longest topic_regex accepted (topic names are at most 249 characters)."""
_MAX_REMEMBERED = 10_000
_too_slow: set[str] = set()


def check_pattern(pattern: str) -> None:
    """Raise InvalidArgumentError unless ``pattern`` is a usable topic regex."""
    shown = pattern if len(pattern) <= 200 else pattern[:200] + "..."
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InvalidArgumentError(
            f"topic_regex is {len(pattern)} characters, over the limit of {MAX_PATTERN_CHARS}; "
            "subscribe with a shorter pattern or by topic names",
            metadata={"regex": shown, "limit": "topic_regex_chars"},
        )
    if pattern in _too_slow:
        raise InvalidArgumentError(
            f"topic_regex {shown!r} took over {MATCH_TIMEOUT_S * 1000:.0f} ms to match a topic "
            "name (catastrophic backtracking, as in (a+)+); simplify the pattern",
            metadata={"regex": shown, "limit": "topic_regex_match_time"},
        )
    try:
        compile_pattern(pattern)  # refuses repeat counts that would unfold to gigabytes
    except PatternRefused as exc:
        raise InvalidArgumentError(
            f"topic_regex {shown!r} {exc.reason}; subscribe with a simpler pattern or by "
            "topic names",
            metadata={"regex": shown},
        ) from None


def fullmatch(pattern: str, topic: str) -> bool:
    """True when ``pattern`` matches the whole topic name within the time bound."""
    if pattern in _too_slow:
        return False
    try:
        return compile_pattern(pattern).fullmatch(topic, timeout=MATCH_TIMEOUT_S) is not None
    except PatternRefused:
        return False
    except TimeoutError:
        if len(_too_slow) >= _MAX_REMEMBERED:
            _too_slow.clear()
        _too_slow.add(pattern)
        log.warning(
            "topic_regex %.200r ran out of time matching topic %r; it now matches nothing",
            pattern,
            topic,
        )
        return False
    except (regex.error, ValueError, OverflowError):
        return False
