"""/config, /mode and /compatibility: levels, modes and compatibility checks."""

from __future__ import annotations

import json

from aiohttp import web

from weir.core.errors import (
    CompatibilityNotConfiguredError,
    InvalidSchemaError,
    ModeNotConfiguredError,
    SubjectNotFoundError,
)
from weir.core.types import CompatibilityLevel, Mode
from weir.registry.compatibility import CompatibilityResult
from weir.registry.rest.bodies import flag, read_object, schema_input, version_param
from weir.registry.rest.errors import (
    INVALID_COMPATIBILITY_LEVEL,
    INVALID_MODE,
    VERSION_NOT_FOUND,
    RestError,
    subject_not_found,
)
from weir.registry.rest.shared import registry, reply

routes = web.RouteTableDef()


# ----- /config ---------------------------------------------------------------------------


@routes.get("/config")
async def get_global_config(request: web.Request) -> web.Response:
    """The global compatibility level."""
    return reply(request, {"compatibilityLevel": registry(request).get_config().value})


@routes.put("/config")
async def put_global_config(request: web.Request) -> web.Response:
    """Set the global level; echoes the request."""
    return reply(request, _set_config(request, None, await read_object(request)))


@routes.delete("/config")
async def delete_global_config(request: web.Request) -> web.Response:
    """Reset the global level to the default (BACKWARD); returns the old level."""
    old = registry(request).delete_global_config()
    return reply(request, {"compatibilityLevel": old.value})


@routes.get("/config/{subject}")
async def get_subject_config(request: web.Request) -> web.Response:
    """The subject's own level (40408 if none), or with ``defaultToGlobal`` the one in force."""
    subject = request.match_info["subject"]
    level = registry(request).get_config(
        subject, default_to_global=flag(request, "defaultToGlobal")
    )
    return reply(request, {"compatibilityLevel": level.value})


@routes.put("/config/{subject}")
async def put_subject_config(request: web.Request) -> web.Response:
    """Set the subject's level; echoes the request."""
    subject = request.match_info["subject"]
    return reply(request, _set_config(request, subject, await read_object(request)))


@routes.delete("/config/{subject}")
async def delete_subject_config(request: web.Request) -> web.Response:
    """Remove the subject's own level (40401 if it has none); returns the old level."""
    subject = request.match_info["subject"]
    try:
        old = registry(request).delete_config(subject)
    except CompatibilityNotConfiguredError:
        raise subject_not_found(subject) from None
    return reply(request, {"compatibilityLevel": old.value})


def _set_config(request: web.Request, subject: str | None, body: dict[str, object]) -> object:
    """Set the level the body names. Weir's config has no other field, so a body without a
    level (missing, null or not a string) is refused with 42203, as Confluent did before
    its config grew data-contract fields, rather than answered 200 with nothing set."""
    raw = body.get("compatibility")
    if raw is None:
        raw = body.get("compatibilityLevel")
    if not isinstance(raw, str) or raw.upper() not in CompatibilityLevel.__members__:
        problem = (
            'the body names no level (send {"compatibility": "BACKWARD"})'
            if raw is None
            else f"got {json.dumps(raw)[:60]}"
        )
        raise RestError(
            422,
            INVALID_COMPATIBILITY_LEVEL,
            f"Invalid compatibility level: {problem}. Valid values are none, backward, forward, "
            "full, backward_transitive, forward_transitive, and full_transitive",
        )
    registry(request).set_config(CompatibilityLevel(raw.upper()), subject)
    return {**body, "compatibility": raw.upper()}


# ----- /mode -----------------------------------------------------------------------------


@routes.get("/mode")
async def get_global_mode(request: web.Request) -> web.Response:
    """The global mode."""
    return reply(request, {"mode": registry(request).get_mode().value})


@routes.put("/mode")
async def put_global_mode(request: web.Request) -> web.Response:
    """Set the global mode (IMPORT needs an empty registry or ``force``); echoes the request."""
    return reply(request, _set_mode(request, None, await read_object(request)))


@routes.get("/mode/{subject}")
async def get_subject_mode(request: web.Request) -> web.Response:
    """The subject's own mode (40409 if none), or with ``defaultToGlobal`` the one in force."""
    subject = request.match_info["subject"]
    mode = registry(request).get_mode(subject, default_to_global=flag(request, "defaultToGlobal"))
    return reply(request, {"mode": mode.value})


@routes.put("/mode/{subject}")
async def put_subject_mode(request: web.Request) -> web.Response:
    """Set the subject's mode; echoes the request."""
    subject = request.match_info["subject"]
    return reply(request, _set_mode(request, subject, await read_object(request)))


@routes.delete("/mode/{subject}")
async def delete_subject_mode(request: web.Request) -> web.Response:
    """Remove the subject's own mode (40401 if it has none); returns the old mode."""
    subject = request.match_info["subject"]
    try:
        old = registry(request).delete_mode(subject)
    except ModeNotConfiguredError:
        raise subject_not_found(subject) from None
    return reply(request, {"mode": old.value})


def _set_mode(request: web.Request, subject: str | None, body: dict[str, object]) -> object:
    raw = body.get("mode")
    if not isinstance(raw, str) or raw.upper() not in Mode.__members__:
        problem = (
            'the body names no mode (send {"mode": "READWRITE"})'
            if raw is None
            else f"got {json.dumps(raw)[:60]}"
        )
        raise RestError(
            422,
            INVALID_MODE,
            f"Invalid mode: {problem}. Valid values are READWRITE, READONLY and IMPORT",
        )
    registry(request).set_mode(Mode(raw.upper()), subject, force=flag(request, "force"))
    return {**body, "mode": raw.upper()}


# ----- /compatibility --------------------------------------------------------------------


@routes.post("/compatibility/subjects/{subject}/versions")
async def check_all(request: web.Request) -> web.Response:
    """Check against the versions the subject's level names (as registration would)."""
    return await _check(request, None)


@routes.post("/compatibility/subjects/{subject}/versions/{version}")
async def check_one(request: web.Request) -> web.Response:
    """Check against one version ('latest' or -1 for the newest; no versions is compatible)."""
    return await _check(request, request.match_info["version"])


async def _check(request: web.Request, version_text: str | None) -> web.Response:
    reg, subject = registry(request), request.match_info["subject"]
    verbose = flag(request, "verbose")
    schema = schema_input(await read_object(request))
    version = version_param(version_text) if version_text is not None else None
    try:
        if version_text is None or (version is None and not _has_live_versions(request)):
            result = reg.check(subject, schema)
        elif version is None:
            result = reg.check(subject, schema, latest=True)
        else:
            try:
                result = reg.check(subject, schema, version=version)
            except SubjectNotFoundError:
                raise RestError(404, VERSION_NOT_FOUND, f"Version {version} not found.") from None
    except InvalidSchemaError as e:
        if not verbose:
            raise
        return reply(request, {"is_compatible": False, "messages": [e.message]})
    return reply(request, _verdict(result, verbose))


def _has_live_versions(request: web.Request) -> bool:
    try:
        return bool(registry(request).list_versions(request.match_info["subject"]))
    except SubjectNotFoundError:
        return False


def _verdict(result: CompatibilityResult, verbose: bool) -> dict[str, object]:
    body: dict[str, object] = {"is_compatible": result.compatible}
    if verbose:
        body["messages"] = _messages(result)
    return body


def _messages(result: CompatibilityResult) -> list[str]:
    """Confluent-style verbose messages; an incompatible result always has at least one."""
    if result.compatible:
        return []
    lines = [
        f"{{errorType:'{i.rule}', description:'{i.message}', additionalInfo:'{i.path}'}}"
        for i in result.incompatibilities
    ]
    versions = sorted({i.version for i in result.incompatibilities if i.version is not None})
    lines.extend(f"{{oldSchemaVersion: {v}}}" for v in versions)
    lines.append(f"{{compatibility: '{result.level.value}'}}")
    return lines
