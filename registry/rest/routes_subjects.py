"""/subjects: list, look up, register, read and delete subject versions."""

from __future__ import annotations

from aiohttp import web

from weir.core.errors import IncompatibleSchemaError
from weir.core.visibility import visible
from weir.registry.model import SubjectVersion
from weir.registry.rest.bodies import (
    flag,
    formatted,
    optional_int,
    page,
    read_object,
    register_response,
    schema_entity,
    schema_input,
    subject_prefix,
    version_param,
)
from weir.registry.rest.errors import INCOMPATIBLE_SCHEMA, RestError
from weir.registry.rest.shared import registry, reply, reply_raw

routes = web.RouteTableDef()


@routes.get("/subjects")
async def list_subjects(request: web.Request) -> web.Response:
    """Subject names; ``deleted`` adds soft-deleted ones, ``deletedOnly`` gives only those.

    Only the subjects the caller may describe are listed (when ACLs are on).
    """
    reg, prefix = registry(request), subject_prefix(request)
    if flag(request, "deletedOnly", "deleted_only"):
        live = set(reg.list_subjects(prefix=prefix))
        names = [s for s in reg.list_subjects(include_deleted=True, prefix=prefix) if s not in live]
    else:
        names = reg.list_subjects(include_deleted=flag(request, "deleted"), prefix=prefix)
    return reply(request, page(request, list(visible("subject", names))))


@routes.post("/subjects/{subject}")
async def lookup(request: web.Request) -> web.Response:
    """The version of the subject that holds the posted schema (``deleted`` searches those too)."""
    subject = request.match_info["subject"]
    schema = schema_input(await read_object(request))
    reg = registry(request)
    sv = reg.lookup(subject, schema, include_deleted=flag(request, "deleted"))
    return reply(request, formatted(request, reg, schema_entity(sv), sv.schema.id))


@routes.delete("/subjects/{subject}")
async def delete_subject(request: web.Request) -> web.Response:
    """Soft-delete every version, or (``permanent=true``) remove soft-deleted ones for good."""
    subject = request.match_info["subject"]
    versions = registry(request).delete_subject(subject, permanent=flag(request, "permanent"))
    return reply(request, versions)


@routes.get("/subjects/{subject}/versions")
async def list_versions(request: web.Request) -> web.Response:
    """Version numbers of a subject; ``deleted`` and ``deletedOnly`` as for /subjects."""
    reg, subject = registry(request), request.match_info["subject"]
    if flag(request, "deletedOnly", "deleted_only"):
        every = reg.list_versions(subject, include_deleted=True)
        versions = [v for v in every if reg.get_version(subject, v, include_deleted=True).deleted]
    else:
        versions = reg.list_versions(subject, include_deleted=flag(request, "deleted"))
    return reply(request, page(request, versions))


@routes.post("/subjects/{subject}/versions")
async def register(request: web.Request) -> web.Response:
    """Register a schema; the same schema again returns the same id and version."""
    subject = request.match_info["subject"]
    body = await read_object(request)
    schema = schema_input(body)
    try:
        sv = registry(request).register(
            subject,
            schema,
            schema_id=optional_int(body, "id"),
            version=optional_int(body, "version"),
        )
    except IncompatibleSchemaError as e:
        raise RestError(
            409,
            INCOMPATIBLE_SCHEMA,
            "Schema being registered is incompatible with an earlier schema for subject "
            f'"{subject}", details: [{e.message}]',
        ) from None
    return reply(request, register_response(sv))


@routes.get("/subjects/{subject}/versions/{version}")
async def get_version(request: web.Request) -> web.Response:
    """One version ('latest' or -1 for the newest live one; ``deleted`` to see deleted ones)."""
    sv = _version(request)
    return reply(request, formatted(request, registry(request), schema_entity(sv), sv.schema.id))


@routes.get("/subjects/{subject}/versions/{version}/schema")
async def get_version_text(request: web.Request) -> web.Response:
    """Only the schema text of one version, unescaped."""
    return reply_raw(request, _version(request).schema.text)


@routes.get("/subjects/{subject}/versions/{version}/referencedby")
async def referenced_by(request: web.Request) -> web.Response:
    """Ids of the schemas whose references name this version."""
    reg, subject = registry(request), request.match_info["subject"]
    version = version_param(request.match_info["version"])
    sv = reg.get_version(subject, version, include_deleted=True)
    return reply(request, page(request, reg.referenced_by(subject, sv.version)))


@routes.delete("/subjects/{subject}/versions/{version}")
async def delete_version(request: web.Request) -> web.Response:
    """Soft-delete one version, or (``permanent=true``) remove a soft-deleted one."""
    subject = request.match_info["subject"]
    version = version_param(request.match_info["version"])
    deleted = registry(request).delete_version(
        subject, version, permanent=flag(request, "permanent")
    )
    return reply(request, deleted)


def _version(request: web.Request) -> SubjectVersion:
    subject = request.match_info["subject"]
    version = version_param(request.match_info["version"])
    return registry(request).get_version(subject, version, include_deleted=flag(request, "deleted"))
