"""Validate JSON record payloads against a compiled JSON Schema validator."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable

from weir.core.errors import InvalidRecordError, InvalidSchemaError
from weir.registry.formats.json_schema_patterns import PatternRefused
from weir.registry.formats.json_schema_regex import PatternTimeout
from weir.registry.formats.limits import check_deadline, check_depth, current, out_of_time

_MAX_MESSAGE = 300


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def pointer(parts: Sequence[str | int]) -> str:
    """A JSON pointer (RFC 6901) for a path; the root is ``/``."""
    if not parts:
        return "/"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def decode_json(text: str, what: str) -> Any:
    """``json.loads`` that rejects NaN/Infinity and raises ValueError naming line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{what} is not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"{what} nests too deeply to decode") from None


class JsonRecordValidator:
    """A compiled JSON Schema check of one payload; built once per schema id.

    ``fast``, when given, accepts valid documents without the reference validator; anything
    it does not accept is decided (and explained) by ``validator``.
    """

    __slots__ = ("_fast", "_validator")

    def __init__(self, validator: Validator, fast: Callable[[Any], bool] | None = None) -> None:
        self._validator = validator
        self._fast = fast

    def validate(self, payload: bytes, message_indexes: Sequence[int] = ()) -> None:
        """Raise InvalidRecordError naming the JSON path, the failing keyword and the reason."""
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRecordError(
                f"payload is not valid UTF-8 (bad byte at offset {exc.start}); "
                "JSON records must be UTF-8 encoded text",
                metadata={"rule": "encoding"},
            ) from None
        check_deadline("JSON validation")
        opened = payload.count(b"[") + payload.count(b"{")  # an upper bound of the depth
        try:
            document = decode_json(text, "payload")
        except ValueError as exc:
            if "nests too deeply" in str(exc):
                raise too_deep_json(opened) from None
            raise InvalidRecordError(str(exc), metadata={"rule": "json"}) from None
        if opened > current().max_payload_depth:
            check_depth(document, "JSON payload")
        if self._fast is not None and self._fast(document):
            return
        try:
            if self._validator.is_valid(document):
                return
            error: ValidationError | None = best_match(self._validator.iter_errors(document))
        except PatternTimeout as exc:
            raise out_of_time(f"matching pattern {exc.pattern[:100]!r}") from None
        except PatternRefused as exc:
            raise InvalidRecordError(
                f"the schema's pattern {exc.pattern[:100]!r} cannot be matched with a time "
                f"bound: it {exc.reason}; register a new schema version that fixes the "
                f"pattern ({exc.advice})",
                metadata={"rule": "pattern", "pattern": exc.pattern[:100]},
            ) from None
        except Unresolvable as exc:
            raise InvalidSchemaError(
                f"the schema has a $ref that cannot be resolved while validating: {exc}"
            ) from None
        except RecursionError:
            raise InvalidRecordError(
                "validation recursed too deeply: the payload nests too deeply, or the schema's "
                "$refs form a chain or a cycle that does not descend into the payload",
                metadata={"rule": "depth"},
            ) from None
        if error is None:  # pragma: no cover - is_valid said there was an error
            return
        raise _record_error(error)


def too_deep_json(opened: int) -> InvalidRecordError:
    """The refusal for JSON too deep to decode at all."""
    limit = current().max_payload_depth
    return InvalidRecordError(
        f"JSON payload nests too deeply to decode (up to {opened} levels), over the limit "
        f"max_payload_depth={limit}; flatten the record",
        metadata={"rule": "max_payload_depth", "limit": "max_payload_depth"},
    )


def _record_error(error: ValidationError) -> InvalidRecordError:
    path = pointer(list(error.absolute_path))
    rule = str(error.validator)
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return InvalidRecordError(
        f"{path}: {message} ({rule})",
        metadata={"path": path, "rule": rule},
    )
