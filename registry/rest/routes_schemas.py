"""/schemas: schemas by global id, the supported types, and every registered schema."""

from __future__ import annotations

from aiohttp import web

from weir.core.errors import SchemaNotFoundError
from weir.core.visibility import visible
from weir.registry.rest.bodies import (
    flag,
    formatted,
    page,
    schema_entity,
    schema_id,
    schema_string,
    subject_prefix,
)
from weir.registry.rest.errors import SCHEMA_NOT_FOUND, RestError
from weir.registry.rest.shared import registry, reply, reply_raw

routes = web.RouteTableDef()

SCHEMA_TYPES = ["JSON", "PROTOBUF", "AVRO"]
"""GET /schemas/types, in Confluent's order."""


def _schema_not_found(sid: int) -> RestError:
    return RestError(404, SCHEMA_NOT_FOUND, f"Schema {sid} not found")


@routes.get("/schemas")
async def list_schemas(request: web.Request) -> web.Response:
    """Every schema version whose subject matches the prefix, by subject then version.

    Only versions of subjects the caller may describe are listed (when ACLs are on).
    """
    reg = registry(request)
    deleted, latest_only = flag(request, "deleted"), flag(request, "latestOnly")
    found = []
    subjects = reg.list_subjects(include_deleted=deleted, prefix=subject_prefix(request))
    for subject in visible("subject", subjects):
        versions = [
            reg.get_version(subject, v, include_deleted=True)
            for v in reg.list_versions(subject, include_deleted=deleted)
        ]
        found.extend(versions[-1:] if latest_only else versions)
    return reply(request, page(request, [schema_entity(sv) for sv in found]))


@routes.get("/schemas/types")
async def schema_types(request: web.Request) -> web.Response:
    """The schema types this registry supports."""
    return reply(request, SCHEMA_TYPES)


@routes.get("/schemas/ids/{id}")
async def get_schema(request: web.Request) -> web.Response:
    """A schema by global id (``subject`` and ``format`` are accepted; one context exists)."""
    reg, sid = registry(request), schema_id(request)
    try:
        body = formatted(request, reg, schema_string(reg.get_schema(sid)), sid)
    except SchemaNotFoundError:
        raise _schema_not_found(sid) from None
    if flag(request, "fetchMaxId"):
        body["maxId"] = reg.max_schema_id()
    return reply(request, body)


@routes.get("/schemas/ids/{id}/schema")
async def get_schema_text(request: web.Request) -> web.Response:
    """Only the schema text, unescaped."""
    sid = schema_id(request)
    try:
        return reply_raw(request, registry(request).get_schema(sid).text)
    except SchemaNotFoundError:
        raise _schema_not_found(sid) from None


@routes.get("/schemas/ids/{id}/subjects")
async def get_schema_subjects(request: web.Request) -> web.Response:
    """The subjects holding a schema id, optionally only ``subject``."""
    holders = _holders(request)
    subjects = sorted({str(sv["subject"]) for sv in holders})
    return reply(request, page(request, subjects))


@routes.get("/schemas/ids/{id}/versions")
async def get_schema_versions(request: web.Request) -> web.Response:
    """The subject-version pairs holding a schema id, optionally only ``subject``."""
    return reply(request, page(request, _holders(request)))


def _holders(request: web.Request) -> list[dict[str, object]]:
    sid = schema_id(request)
    try:
        found = registry(request).schema_versions(sid, include_deleted=flag(request, "deleted"))
    except SchemaNotFoundError:
        raise _schema_not_found(sid) from None
    only = request.query.get("subject")
    seen = set(visible("subject", sorted({sv.subject for sv in found})))
    return [
        {"subject": sv.subject, "version": sv.version}
        for sv in found
        if (not only or sv.subject == only) and sv.subject in seen
    ]
