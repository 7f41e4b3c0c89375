"""Parse and fingerprint an offset-reset request from the console's forms."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from weir.broker.console.errors import bad_request, parse_int
from weir.broker.console.formatting import parse_time
from weir.broker.groups.positions import ResetKind, ResetOutcome, ResetSpec

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


@dataclass(frozen=True, slots=True)
class ResetRequest:
    """What the form asks for."""

    group: str
    """The consumer group."""
    topic: str | None
    """One topic, or None for every topic the group has."""
    kind: ResetKind
    """Where to move."""
    value: str
    """The value as typed (offset, time or duration), kept to refill the form."""
    spec: ResetSpec
    """The parsed target."""


def parse_reset(form: Mapping[str, str]) -> ResetRequest:
    """The reset a form or query asks for; 400 naming the field that is wrong."""
    group = form.get("group", "")
    if not group:
        raise bad_request("group is required: name the consumer group to reset")
    topic = form.get("topic", "").strip() or None
    kind_text = form.get("kind", "").strip()
    try:
        kind = ResetKind(kind_text)
    except ValueError:
        allowed = ", ".join(k.value for k in ResetKind)
        raise bad_request(f"kind must be one of {allowed}, got {kind_text!r}") from None
    value = form.get("value", "").strip()
    number = 0
    if kind is ResetKind.OFFSET:
        number = parse_int(value, "value (the offset)")
    elif kind is ResetKind.TIMESTAMP:
        if not value:
            raise bad_request("value is required: give a time (ISO 8601 or epoch ms)")
        number = parse_time(value)
    elif kind is ResetKind.DURATION:
        number = parse_duration(value)
    return ResetRequest(group, topic, kind, value, ResetSpec(kind, number))


def parse_duration(text: str) -> int:
    """'90s', '15m', '2h', '1d' or plain milliseconds, as milliseconds."""
    match = _DURATION.match(text)
    if match is None:
        raise bad_request(
            f"duration {text!r} is not valid: use a whole number with ms, s, m, h or d "
            "(for example 15m)"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2) or "ms"]


def fingerprint(outcomes: Sequence[ResetOutcome]) -> str:
    """What the preview was computed from (the committed offsets it moves from)."""
    digest = hashlib.sha256()
    for o in outcomes:
        digest.update(f"{o.tp.topic}\0{o.tp.partition}\0{o.previous}\n".encode())
    return digest.hexdigest()[:32]
