"""Request parsing and response shapes, as Confluent's REST entities define them.

Responses leave out ``schemaType`` for AVRO and ``references`` when empty, exactly as
Confluent's Jackson entities do (``NON_EMPTY`` plus a converter that drops ``AVRO``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from weir.core.types import SchemaType, Subject, Version
from weir.registry.model import Reference, SchemaInput, StoredSchema, SubjectVersion
from weir.registry.rest.errors import INVALID_SCHEMA, RestError, body_error, invalid_version
from weir.registry.rest.protobuf_text import decode_descriptor, render, serialized
from weir.registry.service import SchemaRegistry

MAX_VERSION = 2**31 - 1
"""Confluent's largest version id (a Java int)."""
CONSUMED_TYPES = frozenset(
    {
        "application/vnd.schemaregistry.v1+json",
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    }
)
"""Request content types Confluent accepts (octet-stream stands for 'generic request')."""

JsonObject = dict[str, Any]


# ----- query and path parameters --------------------------------------------------------


def flag(request: web.Request, *names: str) -> bool:
    """A boolean query parameter: true only for 'true' in any case, as Jersey parses it."""
    return any(request.query.get(name, "").strip().lower() == "true" for name in names)


def int_param(request: web.Request, name: str, default: int) -> int:
    """An integer query parameter; a non-integer is a 404, as Jersey answers it."""
    text = request.query.get(name)
    if text is None or text.strip() == "":
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise not_found() from None


def page(request: web.Request, items: list[Any]) -> list[Any]:
    """Apply ``offset`` and ``limit`` (a non-positive limit means all)."""
    offset = max(int_param(request, "offset", 0), 0)
    limit = int_param(request, "limit", -1)
    return items[offset : offset + limit] if limit > 0 else items[offset:]


def schema_id(request: web.Request) -> int:
    """The ``{id}`` path segment; a non-integer is a 404, as Jersey answers it."""
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise not_found() from None


def version_param(text: str) -> int | None:
    """A ``{version}`` path segment: None for 'latest' or -1, else a version in [1, 2^31-1]."""
    cleaned = text.strip()
    if cleaned.lower() == "latest":
        return None
    try:
        number = int(cleaned)
    except ValueError:
        raise invalid_version(text) from None
    if number == -1:
        return None
    if not 1 <= number <= MAX_VERSION:
        raise invalid_version(text)
    return number


def subject_prefix(request: web.Request) -> str:
    """``subjectPrefix``; Confluent's wildcard and default-context markers mean 'everything'."""
    prefix = request.query.get("subjectPrefix", "")
    for marker in (":*:", ":.:"):
        if prefix.startswith(marker):
            return prefix[len(marker) :]
    return prefix


def not_found() -> RestError:
    """Jersey's answer for a path or parameter it cannot match."""
    return RestError(404, 404, "HTTP 404 Not Found")


# ----- request bodies -------------------------------------------------------------------


async def read_object(request: web.Request) -> JsonObject:
    """The request body as a JSON object; 415, 400 and 422 as Confluent answers them."""
    content_type = request.content_type.lower()
    if request.headers.get("Content-Type") and content_type not in CONSUMED_TYPES:
        raise RestError(415, 415, "HTTP 415 Unsupported Media Type")
    raw = await request.read()
    if not raw.strip():
        raise body_error("The request body is empty; send a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise RestError(400, 400, f"Malformed JSON in the request body: {err}") from None
    except RecursionError:  # json's C decoder gives up on very deep nesting this way
        raise RestError(
            400, 400, "Malformed JSON in the request body: it nests too deeply to read"
        ) from None
    if not isinstance(body, dict):
        raise body_error("The request body must be a JSON object")
    return body


def schema_input(body: JsonObject) -> SchemaInput:
    """A SchemaInput from a RegisterSchemaRequest body."""
    text = body.get("schema")
    if text is None or text == "":
        raise RestError(422, INVALID_SCHEMA, "Empty schema: the body needs a 'schema' string")
    if not isinstance(text, str):
        raise body_error("'schema' must be a string holding the schema text")
    kind = body.get("schemaType")
    kind = "AVRO" if kind is None else kind
    if not isinstance(kind, str) or kind.upper() not in SchemaType.__members__:
        raise RestError(
            422, INVALID_SCHEMA, f"Invalid schema type {kind}; use AVRO, PROTOBUF or JSON"
        )
    schema_type = SchemaType(kind.upper())
    if schema_type == SchemaType.PROTOBUF:
        descriptor = decode_descriptor(text)
        text = render(descriptor) if descriptor is not None else text
    return SchemaInput(schema_type, text, _references(body.get("references")))


def _references(raw: Any) -> tuple[Reference, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise body_error("'references' must be a list of {name, subject, version}")
    refs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise body_error(f"references[{i}] must be an object with name, subject and version")
        name, subject, version = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not isinstance(subject, str):
            raise body_error(f"references[{i}] needs string 'name' and 'subject'")
        if isinstance(version, bool) or not isinstance(version, int):
            raise body_error(f"references[{i}].version must be an integer")
        refs.append(Reference(name, Subject(subject), Version(version)))
    return tuple(refs)


def optional_int(body: JsonObject, key: str) -> int | None:
    """An optional integer field (``id`` and ``version`` of an IMPORT registration)."""
    value = body.get(key)
    if value is None or (key in {"id", "version"} and value in (0, -1)):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise body_error(f"'{key}' must be an integer")
    return value


# ----- responses ------------------------------------------------------------------------


def _typed(schema: StoredSchema) -> JsonObject:
    out: JsonObject = {}
    if schema.schema_type != SchemaType.AVRO:
        out["schemaType"] = schema.schema_type.value
    if schema.references:
        out["references"] = [
            {"name": r.name, "subject": r.subject, "version": r.version} for r in schema.references
        ]
    return out


def schema_string(schema: StoredSchema) -> JsonObject:
    """Confluent's SchemaString: the body of GET /schemas/ids/{id}."""
    return {**_typed(schema), "schema": schema.text}


def schema_entity(sv: SubjectVersion) -> JsonObject:
    """Confluent's Schema: subject, version, id, type, references and text."""
    return {
        "subject": sv.subject,
        "version": sv.version,
        "id": sv.schema.id,
        **_typed(sv.schema),
        "schema": sv.schema.text,
    }


def register_response(sv: SubjectVersion) -> JsonObject:
    """Confluent's RegisterSchemaResponse."""
    return {
        "id": sv.schema.id,
        "version": sv.version,
        **_typed(sv.schema),
        "schema": sv.schema.text,
    }


def formatted(request: web.Request, reg: SchemaRegistry, body: JsonObject, sid: int) -> JsonObject:
    """Apply ``format=serialized`` (protobuf: base64 FileDescriptorProto); others as stored."""
    if (
        request.query.get("format", "").strip().lower() == "serialized"
        and body.get("schemaType") == SchemaType.PROTOBUF.value
    ):
        encoded = serialized(reg.parsed(sid))
        if encoded is not None:
            body["schema"] = encoded
    return body
