"""The one exception hierarchy, shared by server and SDK.

Every error carries a ``reason`` (a name from the ``weir.v1.ErrorReason`` enum, without its
prefix), the gRPC status code it travels with, and whether a retry can help. Decisions read
these attributes, never the message text.

    WeirError                          INTERNAL
    ├── InvalidArgumentError           INVALID_ARGUMENT
    │   ├── InvalidSchemaError
    │   ├── InvalidReferenceError
    │   ├── InvalidCompatibilityLevelError
    │   ├── InvalidVersionError
    │   ├── InvalidModeError
    │   ├── InvalidRecordError
    │   ├── RecordTooLargeError
    │   ├── InvalidRequestSizeError
    │   └── InvalidConfigError
    ├── NotFoundError                  NOT_FOUND
    │   ├── SubjectNotFoundError
    │   ├── VersionNotFoundError
    │   ├── SchemaNotFoundError
    │   ├── SubjectSoftDeletedError
    │   ├── VersionSoftDeletedError
    │   ├── CompatibilityNotConfiguredError
    │   ├── ModeNotConfiguredError
    │   ├── TopicNotFoundError
    │   ├── PartitionNotFoundError
    │   ├── GroupNotFoundError
    │   ├── UnknownMemberIdError
    │   └── NoCommittedOffsetError
    ├── TopicAlreadyExistsError        ALREADY_EXISTS
    ├── OffsetOutOfRangeError          OUT_OF_RANGE
    ├── FailedPreconditionError        FAILED_PRECONDITION
    │   ├── SubjectNotSoftDeletedError
    │   ├── VersionNotSoftDeletedError
    │   ├── ReferenceExistsError
    │   ├── OperationNotPermittedError
    │   ├── OutOfOrderSequenceError
    │   ├── ProducerFencedError
    │   ├── FencedMemberEpochError
    │   ├── StaleMemberEpochError
    │   ├── GroupNotEmptyError
    │   └── PartitionNotAssignedError
    ├── IncompatibleSchemaError        FAILED_PRECONDITION (reason INCOMPATIBLE_SCHEMA)
    ├── StorageFullError               RESOURCE_EXHAUSTED, retriable
    ├── CorruptDataError               DATA_LOSS
    ├── UnauthenticatedError           UNAUTHENTICATED
    ├── PermissionDeniedError          PERMISSION_DENIED
    └── UnavailableError               UNAVAILABLE, retriable

``error_class(reason)`` finds the class for a reason, built from the subclasses themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import grpc


class WeirError(Exception):
    """Base of every Weir error; also stands for an unexpected server fault."""

    reason: ClassVar[str] = "INTERNAL"
    grpc_code: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    retriable: ClassVar[bool] = False

    def __init__(self, message: str, *, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong and where, for a person."""
        self.metadata: dict[str, str] = dict(metadata or {})
        """Machine-readable details (subject, version, id, ...), sent in ErrorInfo.metadata."""

    def __str__(self) -> str:
        return self.message


class InternalError(WeirError):
    """An unexpected fault inside the server."""


class InvalidArgumentError(WeirError):
    """A request field is missing or malformed."""

    reason = "INVALID_ARGUMENT"
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class InvalidSchemaError(InvalidArgumentError):
    """Schema text does not parse or is not valid for its type."""

    reason = "INVALID_SCHEMA"


class InvalidReferenceError(InvalidArgumentError):
    """A schema reference is missing, unknown, or cyclic."""

    reason = "INVALID_REFERENCE"


class InvalidCompatibilityLevelError(InvalidArgumentError):
    """The compatibility level is not a known level."""

    reason = "INVALID_COMPATIBILITY_LEVEL"


class InvalidVersionError(InvalidArgumentError):
    """A version is not a positive integer or "latest"."""

    reason = "INVALID_VERSION"


class InvalidModeError(InvalidArgumentError):
    """The mode is not READWRITE, READONLY or IMPORT."""

    reason = "INVALID_MODE"


class InvalidRecordError(InvalidArgumentError):
    """A record's payload does not match its schema."""

    reason = "INVALID_RECORD"


class RecordTooLargeError(InvalidArgumentError):
    """A record exceeds the topic's max.message.bytes."""

    reason = "RECORD_TOO_LARGE"


class InvalidRequestSizeError(InvalidArgumentError):
    """A request is empty, or over the maximum request size or record count."""

    reason = "INVALID_REQUEST_SIZE"


class InvalidConfigError(InvalidArgumentError):
    """A config key is unknown or its value is invalid."""

    reason = "INVALID_CONFIG"


class NotFoundError(WeirError):
    """Something named in the request does not exist."""

    reason = "NOT_FOUND"
    grpc_code = grpc.StatusCode.NOT_FOUND


class SubjectNotFoundError(NotFoundError):
    """The subject does not exist."""

    reason = "SUBJECT_NOT_FOUND"


class VersionNotFoundError(NotFoundError):
    """The subject has no such version."""

    reason = "VERSION_NOT_FOUND"


class SchemaNotFoundError(NotFoundError):
    """No schema has that id, or the subject does not hold the schema."""

    reason = "SCHEMA_NOT_FOUND"


class SubjectSoftDeletedError(NotFoundError):
    """The subject was soft-deleted."""

    reason = "SUBJECT_SOFT_DELETED"


class VersionSoftDeletedError(NotFoundError):
    """The version was soft-deleted."""

    reason = "VERSION_SOFT_DELETED"


class CompatibilityNotConfiguredError(NotFoundError):
    """The subject has no compatibility level of its own."""

    reason = "COMPATIBILITY_NOT_CONFIGURED"


class ModeNotConfiguredError(NotFoundError):
    """The subject has no mode of its own."""

    reason = "MODE_NOT_CONFIGURED"


class TopicNotFoundError(NotFoundError):
    """The topic does not exist."""

    reason = "TOPIC_NOT_FOUND"


class PartitionNotFoundError(NotFoundError):
    """The topic has no such partition."""

    reason = "PARTITION_NOT_FOUND"


class GroupNotFoundError(NotFoundError):
    """The consumer group does not exist."""

    reason = "GROUP_NOT_FOUND"


class UnknownMemberIdError(NotFoundError):
    """The member id is not in the group; the member must rejoin with an empty id."""

    reason = "UNKNOWN_MEMBER_ID"


class NoCommittedOffsetError(NotFoundError):
    """The group has no committed offset for a partition and one was required."""

    reason = "NO_COMMITTED_OFFSET"


class TopicAlreadyExistsError(WeirError):
    """A topic with that name already exists."""

    reason = "TOPIC_ALREADY_EXISTS"
    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class OffsetOutOfRangeError(WeirError):
    """The offset is outside [log start, log end]; metadata carries both."""

    reason = "OFFSET_OUT_OF_RANGE"
    grpc_code = grpc.StatusCode.OUT_OF_RANGE


class FailedPreconditionError(WeirError):
    """The request is well formed but the current state forbids it."""

    reason = "FAILED_PRECONDITION"
    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class SubjectNotSoftDeletedError(FailedPreconditionError):
    """A permanent subject delete needs a soft delete first."""

    reason = "SUBJECT_NOT_SOFT_DELETED"


class VersionNotSoftDeletedError(FailedPreconditionError):
    """A permanent version delete needs a soft delete first."""

    reason = "VERSION_NOT_SOFT_DELETED"


class ReferenceExistsError(FailedPreconditionError):
    """The version is referenced by another schema."""

    reason = "REFERENCE_EXISTS"


class OperationNotPermittedError(FailedPreconditionError):
    """The registry or subject mode forbids the operation."""

    reason = "OPERATION_NOT_PERMITTED"


class OutOfOrderSequenceError(FailedPreconditionError):
    """An idempotent producer's sequence skipped ahead of the next expected one."""

    reason = "OUT_OF_ORDER_SEQUENCE"


class ProducerFencedError(FailedPreconditionError):
    """A newer epoch of the producer id exists."""

    reason = "PRODUCER_FENCED"


class FencedMemberEpochError(FailedPreconditionError):
    """The member epoch is not current; the member must rejoin with epoch 0."""

    reason = "FENCED_MEMBER_EPOCH"


class StaleMemberEpochError(FailedPreconditionError):
    """A commit carried an old member epoch; heartbeat, then commit again."""

    reason = "STALE_MEMBER_EPOCH"


class GroupNotEmptyError(FailedPreconditionError):
    """The group still has members; the operation needs an empty group."""

    reason = "GROUP_NOT_EMPTY"


class PartitionNotAssignedError(FailedPreconditionError):
    """A member committed a partition that is not assigned to it."""

    reason = "PARTITION_NOT_ASSIGNED"


class IncompatibleSchemaError(FailedPreconditionError):
    """The schema breaks the subject's compatibility level."""

    reason = "INCOMPATIBLE_SCHEMA"


class StorageFullError(WeirError):
    """The disk is full or a storage limit was hit."""

    reason = "STORAGE_FULL"
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED
    retriable = True


class CorruptDataError(WeirError):
    """Stored data failed its checksum."""

    reason = "CORRUPT_DATA"
    grpc_code = grpc.StatusCode.DATA_LOSS


class UnauthenticatedError(WeirError):
    """The request carried no credentials, or credentials the server does not accept."""

    reason = "UNAUTHENTICATED"
    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDeniedError(WeirError):
    """The principal is not allowed that operation on that resource (ACLs)."""

    reason = "PERMISSION_DENIED"
    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class UnavailableError(WeirError):
    """The server cannot be reached or is shutting down."""

    reason = "UNAVAILABLE"
    grpc_code = grpc.StatusCode.UNAVAILABLE
    retriable = True


def _all_subclasses(cls: type[WeirError]) -> list[type[WeirError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


_BY_REASON: dict[str, type[WeirError]] = {c.reason: c for c in _all_subclasses(WeirError)}


def error_class(reason: str) -> type[WeirError]:
    """Return the class for a reason name; unknown reasons map to the base class."""
    return _BY_REASON.get(reason, WeirError)


def all_reasons() -> list[str]:
    """Every reason that has a class, sorted."""
    return sorted(_BY_REASON)
