"""Content negotiation over Confluent's three JSON media types."""

from __future__ import annotations

V1_JSON = "application/vnd.schemaregistry.v1+json"
DEFAULT_JSON = "application/vnd.schemaregistry+json"
JSON = "application/json"
DEFAULT_TYPE = V1_JSON
"""What a request without an Accept header gets."""
PRODUCED = ((V1_JSON, 1.0), (DEFAULT_JSON, 0.9), (JSON, 0.5))
"""Media types the API produces, with Confluent's server-side weights."""


def choose_content_type(accept: str | None) -> str | None:
    """The response media type for an Accept header; None when nothing acceptable (406)."""
    if accept is None or not accept.strip():
        return DEFAULT_TYPE
    ranges = [_parse_range(part) for part in accept.split(",") if part.strip()]
    best: tuple[float, float, str] | None = None
    for media_type, server_q in PRODUCED:
        client_q = max((q for pattern, q in ranges if _matches(pattern, media_type)), default=0.0)
        if client_q > 0 and (best is None or (client_q, server_q) > best[:2]):
            best = (client_q, server_q, media_type)
    return best[2] if best else None


def _parse_range(part: str) -> tuple[str, float]:
    pieces = [p.strip() for p in part.split(";")]
    q = 1.0
    for param in pieces[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                q = 0.0
    return pieces[0].lower(), q


def _matches(pattern: str, media_type: str) -> bool:
    if pattern in ("*/*", "*"):
        return True
    kind, _, sub = pattern.partition("/")
    own_kind, _, own_sub = media_type.partition("/")
    return kind == own_kind and sub in ("*", own_sub)
