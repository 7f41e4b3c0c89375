"""Confluent's error shape: ``{"error_code": int, "message": str}`` with its HTTP status.

Every ``WeirError`` maps to the status and ``error_code`` Confluent Schema Registry uses for the
same condition (its ``rest.exceptions.Errors``). ``RestError`` carries REST-only conditions
(an unknown route, a malformed body). Codes 50001-50003 are kept for real server faults.
"""

from __future__ import annotations

from weir.core import errors as e

SUBJECT_NOT_FOUND = 40401
VERSION_NOT_FOUND = 40402
SCHEMA_NOT_FOUND = 40403
SUBJECT_SOFT_DELETED = 40404
SUBJECT_NOT_SOFT_DELETED = 40405
VERSION_SOFT_DELETED = 40406
VERSION_NOT_SOFT_DELETED = 40407
COMPATIBILITY_NOT_CONFIGURED = 40408
MODE_NOT_CONFIGURED = 40409
INCOMPATIBLE_SCHEMA = 409
INVALID_SCHEMA = 42201
INVALID_VERSION = 42202
INVALID_COMPATIBILITY_LEVEL = 42203
INVALID_MODE = 42204
OPERATION_NOT_PERMITTED = 42205
REFERENCE_EXISTS = 42206
INVALID_SUBJECT = 42208
STORE_ERROR = 50001
OPERATION_TIMEOUT = 50002

# Most specific class first: the first isinstance match wins.
_TABLE: tuple[tuple[type[e.WeirError], int, int], ...] = (
    (e.SubjectNotFoundError, 404, SUBJECT_NOT_FOUND),
    (e.VersionNotFoundError, 404, VERSION_NOT_FOUND),
    (e.SchemaNotFoundError, 404, SCHEMA_NOT_FOUND),
    (e.SubjectSoftDeletedError, 404, SUBJECT_SOFT_DELETED),
    (e.SubjectNotSoftDeletedError, 404, SUBJECT_NOT_SOFT_DELETED),
    (e.VersionSoftDeletedError, 404, VERSION_SOFT_DELETED),
    (e.VersionNotSoftDeletedError, 404, VERSION_NOT_SOFT_DELETED),
    (e.CompatibilityNotConfiguredError, 404, COMPATIBILITY_NOT_CONFIGURED),
    (e.ModeNotConfiguredError, 404, MODE_NOT_CONFIGURED),
    (e.IncompatibleSchemaError, 409, INCOMPATIBLE_SCHEMA),
    (e.InvalidSchemaError, 422, INVALID_SCHEMA),
    (e.InvalidReferenceError, 422, INVALID_SCHEMA),
    (e.InvalidVersionError, 422, INVALID_VERSION),
    (e.InvalidCompatibilityLevelError, 422, INVALID_COMPATIBILITY_LEVEL),
    (e.InvalidModeError, 422, INVALID_MODE),
    (e.OperationNotPermittedError, 422, OPERATION_NOT_PERMITTED),
    (e.ReferenceExistsError, 422, REFERENCE_EXISTS),
    (e.InvalidArgumentError, 422, 422),
    (e.NotFoundError, 404, 404),
    (e.UnavailableError, 500, OPERATION_TIMEOUT),
)


class RestError(Exception):
    """A REST-level failure with an explicit HTTP status and Confluent error code."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        """The HTTP status."""
        self.error_code = error_code
        """Confluent's ``error_code``."""
        self.message = message
        """What went wrong, for a person."""


def from_weir_error(error: e.WeirError) -> RestError:
    """The REST form of a domain error; unknown kinds are server faults (50001)."""
    if type(error) is e.InvalidArgumentError and error.metadata.get("field") == "subject":
        return RestError(422, INVALID_SUBJECT, error.message)  # a name over a limit
    for cls, status, code in _TABLE:
        if isinstance(error, cls):
            return RestError(status, code, error.message)
    return RestError(500, STORE_ERROR, error.message)


def subject_not_found(subject: str) -> RestError:
    """Confluent's 40401 for a subject."""
    return RestError(404, SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")


def invalid_version(text: str) -> RestError:
    """Confluent's 42202 for a version path segment."""
    return RestError(
        422,
        INVALID_VERSION,
        f"The specified version '{text}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def body_error(message: str) -> RestError:
    """A request body that is not the JSON object the route expects (422, as Confluent)."""
    return RestError(422, 422, message)
