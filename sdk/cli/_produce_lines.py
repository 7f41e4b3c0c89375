"""Input lines of `weir produce` as records: parse the JSON, encode key and value.

Without ``--with-keys`` a line is the value. With it, a line is an object
``{"key": ..., "value": ..., "headers": {...}, "timestamp": MS}`` where only ``value`` is
required. A null value is a tombstone. A key is encoded with the key subject's schema when
there is one; otherwise a string key is sent as its UTF-8 bytes and any other JSON key as its
JSON text. A line that is not JSON, has the wrong shape or does not fit the schema raises
BadLine naming the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from weir.core.errors import WeirError
from weir.sdk.cli._codec import Codec, dumps
from weir.v1 import log_pb2 as lp

ENVELOPE_KEYS = frozenset({"key", "value", "headers", "timestamp"})


class BadLine(Exception):
    """An input line that cannot become a record."""

    def __init__(self, number: int, problem: str) -> None:
        super().__init__(f"line {number}: {problem}")
        self.number = number
        """The 1-based input line number."""
        self.problem = problem
        """What is wrong with it."""


@dataclass(frozen=True, slots=True)
class LineEncoder:
    """Turns input lines into Record messages."""

    value_codec: Codec | None
    """The value subject's latest schema; None sends raw JSON text."""
    key_codec: Codec | None
    """The key subject's latest schema; None sends keys as text."""
    with_keys: bool
    """True when lines are {"key", "value", "headers"} objects."""

    def encode(self, number: int, text: str) -> lp.Record:
        """The record for one non-blank line, or raise BadLine."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise BadLine(number, f"not valid JSON at column {e.colno}: {e.msg}") from None
        if not self.with_keys:
            return self._with_value(lp.Record(), number, doc, text.strip())
        if not isinstance(doc, dict) or "value" not in doc:
            raise BadLine(
                number,
                'with --with-keys each line must be an object {"key": ..., "value": ..., '
                '"headers": {...}}; "value" is required (null for a tombstone)',
            )
        unknown = sorted(set(doc) - ENVELOPE_KEYS)
        if unknown:
            raise BadLine(
                number,
                f"unknown field(s) {', '.join(unknown)}; use key, value, headers and timestamp",
            )
        record = lp.Record()
        self._key(record, number, doc.get("key"))
        self._headers(record, number, doc.get("headers"))
        stamp = doc.get("timestamp")
        if stamp is not None:
            if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp < 0:
                raise BadLine(number, f"timestamp must be milliseconds since the epoch: {stamp!r}")
            record.timestamp_ms = stamp
        return self._with_value(record, number, doc["value"], None)

    def _with_value(
        self, record: lp.Record, number: int, value: Any, text: str | None
    ) -> lp.Record:
        if value is None:
            return record  # a tombstone
        if self.value_codec is None:
            record.value = (text if text is not None else dumps(value)).encode()
            return record
        try:
            record.value = self.value_codec.encode(value)
        except WeirError as e:
            raise BadLine(number, f"value {e.message}") from None
        return record

    def _key(self, record: lp.Record, number: int, key: Any) -> None:
        if key is None:
            return
        if self.key_codec is not None:
            try:
                record.key = self.key_codec.encode(key)
            except WeirError as e:
                raise BadLine(number, f"key {e.message}") from None
        elif isinstance(key, str):
            record.key = key.encode()
        else:
            record.key = dumps(key).encode()

    @staticmethod
    def _headers(record: lp.Record, number: int, headers: Any) -> None:
        if headers is None:
            return
        if not isinstance(headers, dict):
            raise BadLine(number, 'headers must be an object {"name": "value", ...}')
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if not isinstance(item, str):
                    raise BadLine(
                        number,
                        f"header {name!r} must be a string (or a list of strings), got {item!r}",
                    )
                record.headers.add(key=name, value=item.encode())
