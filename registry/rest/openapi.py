"""The OpenAPI 3 document served at /openapi.json, built from small helpers.

It lists every route the app serves with its parameters, bodies, responses and Confluent's
error shape. Every operation may also answer 406 (no acceptable media type in Accept) and
500 (a server fault, error codes 50001-50002); routes with a body also answer 400
(malformed JSON) and 415 (an unsupported Content-Type).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from weir.registry.rest.negotiate import PRODUCED
from weir.registry.rest.openapi_schemas import INT, SCHEMAS

Obj = dict[str, Any]

MEDIA_TYPES = [media for media, _ in PRODUCED]
"""Response (and request) media types."""


def _ref(name: str) -> Obj:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: Obj) -> Obj:
    return {"type": "array", "items": items}


def _content(schema: Obj) -> Obj:
    return {media: {"schema": schema} for media in MEDIA_TYPES}


def _error(description: str) -> Obj:
    return {"description": description, "content": _content(_ref("ErrorMessage"))}


def _query(name: str, schema: Obj, description: str) -> Obj:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _flag(name: str, description: str) -> Obj:
    return _query(name, {"type": "boolean"}, description)


SUBJECT = {
    "name": "subject",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "Subject name: at most max_name_bytes (default 1000) UTF-8 bytes; no "
    "control characters where the call creates or changes the subject",
}
VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": 'A version in [1, 2^31-1], "latest" or -1 (42202 otherwise)',
}
ID = {"name": "id", "in": "path", "required": True, "schema": INT, "description": "Schema id"}
PAGE = [
    _query("offset", {"type": "integer", "minimum": 0}, "Pagination offset"),
    _query("limit", {"type": "integer"}, "Pagination size; ignored if not positive"),
]
DELETED = _flag("deleted", "Include soft-deleted versions")
NORMALIZE = _flag("normalize", "Accepted; matching always uses the canonical form")
FORMAT = _query(
    "format",
    {"type": "string"},
    "'serialized' returns a PROTOBUF schema as base64 FileDescriptorProto; "
    "other values return the text as stored",
)
INVALID_SUBJECT = (
    "42208 invalid subject: over max_name_bytes (UTF-8), or with a control character "
    "where the call would create or change the subject"
)
BAD_INT = "Not Found. 404 also for a non-integer id, offset or limit."
BODY = {
    "required": True,
    "content": {media: {"schema": _ref("RegisterSchemaRequest")} for media in MEDIA_TYPES},
}


def _body(name: str) -> Obj:
    return {"required": True, "content": {m: {"schema": _ref(name)} for m in MEDIA_TYPES}}


def _op(
    summary: str,
    ok: Obj,
    errors: dict[str, str],
    params: list[Obj] | None = None,
    body: Obj | None = None,
) -> Obj:
    responses: Obj = {"200": {"description": "OK", "content": _content(ok)}}
    codes = dict(errors)
    codes["406"] = "Not Acceptable: no produced media type matches Accept"
    if params and SUBJECT in params:
        codes["422"] = "; ".join(filter(None, (codes.get("422"), INVALID_SUBJECT)))
    codes["500"] = "Server fault: 50001 store error, 50002 timeout"
    if body is not None:
        codes["400"] = "Malformed JSON body"
        codes["415"] = "Unsupported Content-Type"
    for code, text in sorted(codes.items()):
        responses[code] = _error(text)
    op: Obj = {"summary": summary, "parameters": params or [], "responses": responses}
    if body is not None:
        op["requestBody"] = body
    return op


NOT_FOUND_SUBJECT = "40401 subject not found"
NOT_FOUND_VERSION = "40401 subject not found, 40402 version not found"
UNPROCESSABLE_VERSION = "42202 invalid version"


def _paths() -> Obj:
    string_list = _array({"type": "string"})
    int_list = _array(INT)
    invalid_body = "42201 invalid schema or schema type; 422 malformed body fields"
    return {
        "/": {"get": _op("Root: an empty object", {"type": "object"}, {})},
        "/schemas": {
            "get": _op(
                "List schemas",
                _array(_ref("Schema")),
                {"404": BAD_INT},
                [
                    _query("subjectPrefix", {"type": "string"}, "Subject name prefix"),
                    DELETED,
                    _flag("latestOnly", "Only the latest version of each subject"),
                    *PAGE,
                ],
            )
        },
        "/schemas/types": {"get": _op("Supported schema types", string_list, {})},
        "/schemas/ids/{id}": {
            "get": _op(
                "Schema by id",
                _ref("SchemaString"),
                {"404": "40403 schema not found"},
                [
                    ID,
                    _query("subject", {"type": "string"}, "Accepted; one context exists"),
                    FORMAT,
                    _flag("fetchMaxId", "Add maxId, the largest id assigned"),
                ],
            )
        },
        "/schemas/ids/{id}/schema": {
            "get": _op(
                "Schema text by id, unescaped",
                {},
                {"404": "40403 schema not found"},
                [ID, _query("subject", {"type": "string"}, "Accepted; one context exists")],
            )
        },
        "/schemas/ids/{id}/subjects": {
            "get": _op(
                "Subjects holding a schema id",
                string_list,
                {"404": "40403 schema not found"},
                [ID, _query("subject", {"type": "string"}, "Only this subject"), DELETED, *PAGE],
            )
        },
        "/schemas/ids/{id}/versions": {
            "get": _op(
                "Subject versions holding a schema id",
                _array(_ref("SubjectVersion")),
                {"404": "40403 schema not found"},
                [ID, _query("subject", {"type": "string"}, "Only this subject"), DELETED, *PAGE],
            )
        },
        "/subjects": {
            "get": _op(
                "List subjects",
                string_list,
                {"404": BAD_INT},
                [
                    _query("subjectPrefix", {"type": "string"}, "Subject name prefix"),
                    _flag("deleted", "Include soft-deleted subjects"),
                    _flag("deletedOnly", "Only soft-deleted subjects"),
                    _flag("deleted_only", "Same as deletedOnly (confluent-kafka-python)"),
                    *PAGE,
                ],
            )
        },
        "/subjects/{subject}": {
            "post": _op(
                "Look up a schema under a subject",
                _ref("Schema"),
                {"404": "40401 subject not found, 40403 schema not found", "422": invalid_body},
                [SUBJECT, NORMALIZE, DELETED, FORMAT],
                BODY,
            ),
            "delete": _op(
                "Delete a subject (soft, or permanent after a soft delete)",
                int_list,
                {
                    "404": f"{NOT_FOUND_SUBJECT}, 40404 soft-deleted, 40405 not soft-deleted",
                    "422": "42205 not permitted in this mode, 42206 reference exists",
                },
                [SUBJECT, _flag("permanent", "Hard delete")],
            ),
        },
        "/subjects/{subject}/versions": {
            "get": _op(
                "List versions",
                int_list,
                {"404": f"{NOT_FOUND_SUBJECT}; {BAD_INT}"},
                [SUBJECT, DELETED, _flag("deletedOnly", "Only soft-deleted versions"), *PAGE],
            ),
            "post": _op(
                "Register a schema",
                _ref("RegisterSchemaResponse"),
                {
                    "409": "409 incompatible schema",
                    "422": f"{invalid_body}; 42202 version exists (IMPORT); 42205 mode",
                },
                [SUBJECT, NORMALIZE],
                BODY,
            ),
        },
        "/subjects/{subject}/versions/{version}": {
            "get": _op(
                "Get a version",
                _ref("Schema"),
                {"404": NOT_FOUND_VERSION, "422": UNPROCESSABLE_VERSION},
                [SUBJECT, VERSION, DELETED, FORMAT],
            ),
            "delete": _op(
                "Delete a version (soft, or permanent after a soft delete)",
                INT,
                {
                    "404": f"{NOT_FOUND_VERSION}, 40406 soft-deleted, 40407 not soft-deleted",
                    "422": f"{UNPROCESSABLE_VERSION}, 42205 mode, 42206 reference exists",
                },
                [SUBJECT, VERSION, _flag("permanent", "Hard delete")],
            ),
        },
        "/subjects/{subject}/versions/{version}/schema": {
            "get": _op(
                "Schema text of a version, unescaped",
                {},
                {"404": NOT_FOUND_VERSION, "422": UNPROCESSABLE_VERSION},
                [SUBJECT, VERSION, DELETED],
            )
        },
        "/subjects/{subject}/versions/{version}/referencedby": {
            "get": _op(
                "Ids of schemas referencing a version",
                int_list,
                {"404": f"{NOT_FOUND_VERSION}; {BAD_INT}", "422": UNPROCESSABLE_VERSION},
                [SUBJECT, VERSION, *PAGE],
            )
        },
        **_config_paths(),
        "/contexts": {"get": _op("Contexts", string_list, {"404": BAD_INT}, PAGE)},
        "/v1/metadata/id": {"get": _op("Cluster id", _ref("ServerClusterId"), {})},
        "/v1/metadata/version": {"get": _op("Server version", _ref("ServerVersion"), {})},
        "/associations/resources/{namespace}/{name}": {
            "get": {
                "summary": "Associations are not supported: always 404",
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                    for n in ("namespace", "name")
                ],
                "responses": {"404": _error("404 not supported")},
            }
        },
    }


def _config_paths() -> Obj:
    compat = "Check compatibility"
    check_params = [SUBJECT, NORMALIZE, _flag("verbose", "Return messages")]
    invalid_body = "42201 invalid schema (without verbose); 422 malformed body fields"
    level = "42203 invalid compatibility level"
    mode = "42204 invalid mode, 42205 operation not permitted"
    global_get = _flag("defaultToGlobal", "Fall back to the global setting")
    return {
        "/compatibility/subjects/{subject}/versions": {
            "post": _op(
                f"{compat} against the versions the level names",
                _ref("CompatibilityCheckResponse"),
                {"422": invalid_body},
                check_params,
                BODY,
            )
        },
        "/compatibility/subjects/{subject}/versions/{version}": {
            "post": _op(
                f"{compat} against one version",
                _ref("CompatibilityCheckResponse"),
                {"404": "40402 version not found", "422": f"{invalid_body}; 42202 bad version"},
                [*check_params[:1], VERSION, *check_params[1:]],
                BODY,
            )
        },
        "/config": {
            "get": _op("Global compatibility level", _ref("Config"), {}),
            "put": _op(
                "Set the global level",
                _ref("ConfigUpdateRequest"),
                {"422": level},
                [],
                _body("ConfigUpdateRequest"),
            ),
            "delete": _op("Reset the global level", _ref("Config"), {}),
        },
        "/config/{subject}": {
            "get": _op(
                "Subject compatibility level",
                _ref("Config"),
                {"404": "40408 subject has no level of its own"},
                [SUBJECT, global_get],
            ),
            "put": _op(
                "Set a subject's level",
                _ref("ConfigUpdateRequest"),
                {"422": level},
                [SUBJECT],
                _body("ConfigUpdateRequest"),
            ),
            "delete": _op(
                "Remove a subject's level",
                _ref("Config"),
                {"404": "40401 subject has no level of its own"},
                [SUBJECT],
            ),
        },
        "/mode": {
            "get": _op("Global mode", _ref("Mode"), {}),
            "put": _op(
                "Set the global mode",
                _ref("Mode"),
                {"422": mode},
                [_flag("force", "Enter IMPORT although schemas exist")],
                _body("Mode"),
            ),
        },
        "/mode/{subject}": {
            "get": _op(
                "Subject mode",
                _ref("Mode"),
                {"404": "40409 subject has no mode of its own"},
                [SUBJECT, global_get],
            ),
            "put": _op(
                "Set a subject's mode",
                _ref("Mode"),
                {"422": mode},
                [SUBJECT, _flag("force", "Enter IMPORT although schemas exist")],
                _body("Mode"),
            ),
            "delete": _op(
                "Remove a subject's mode",
                _ref("Mode"),
                {"404": "40401 subject has no mode of its own"},
                [SUBJECT],
            ),
        },
    }


@cache
def document() -> Obj:
    """The whole OpenAPI 3.0 document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Weir Schema Registry (Confluent-compatible REST API)",
            "version": "v1",
            "description": __doc__,
        },
        "paths": {**_paths(), "/openapi.json": _openapi_path()},
        "components": {"schemas": SCHEMAS},
    }


def _openapi_path() -> Obj:
    return {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
