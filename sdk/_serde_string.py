"""StringSerializer and StringDeserializer: plain text keys and values, no schema, no framing."""

from __future__ import annotations

import codecs
from typing import Any

from weir.core.errors import InvalidArgumentError, InvalidRecordError
from weir.sdk._records import SerializationContext


def _codec(codec: str) -> str:
    try:
        return codecs.lookup(codec).name
    except LookupError:
        raise InvalidArgumentError(
            f"unknown text codec {codec!r}; use a Python codec name such as 'utf_8'"
        ) from None


class StringSerializer:
    """``str`` to bytes in a codec (UTF-8 by default); None stays None."""

    def __init__(self, codec: str = "utf_8") -> None:
        self.codec = _codec(codec)
        """The Python codec name used to encode."""

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes | None:
        """The encoded bytes of a string."""
        if obj is None:
            return None
        if not isinstance(obj, str):
            raise InvalidArgumentError(
                f"StringSerializer got {type(obj).__name__}, not str; convert the "
                f"{'key' if ctx is None else ctx.field} to a string or use another serializer"
            )
        try:
            return obj.encode(self.codec)
        except UnicodeEncodeError as err:
            raise InvalidRecordError(
                f"text cannot be encoded as {self.codec}: {err.reason} at character "
                f"{err.start}; use codec='utf_8'"
            ) from None


class StringDeserializer:
    """Bytes to ``str`` in a codec (UTF-8 by default); None stays None."""

    def __init__(self, codec: str = "utf_8") -> None:
        self.codec = _codec(codec)
        """The Python codec name used to decode."""

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> str | None:
        """The decoded string."""
        if data is None:
            return None
        try:
            return bytes(data).decode(self.codec)
        except UnicodeDecodeError as err:
            raise InvalidRecordError(
                f"bytes are not valid {self.codec}: {err.reason} at byte {err.start}; "
                "read them with another deserializer (they may be schema-framed)"
            ) from None


__all__ = ["StringDeserializer", "StringSerializer"]
