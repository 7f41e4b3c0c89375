"""AsyncSchemaRegistryClient: the SchemaRegistryClient on grpc.aio, for asyncio code.

The same methods, arguments, return values, errors and schema cache as the sync
``SchemaRegistryClient``, as coroutines. Requests are built and replies parsed in
``_registry_shared``, shared with the sync client: this class only sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from weir.core.types import CompatibilityLevel, Mode, SchemaId, SchemaType, Subject, Version
from weir.sdk import _registry_shared as shared
from weir.sdk._aio_client import AsyncGrpcClient
from weir.sdk._call import Call
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._credentials import Credentials
from weir.sdk._retry import RetryPolicy
from weir.sdk._types import (
    LATEST,
    CompatibilityCheck,
    RegisteredSchema,
    Schema,
    SchemaReference,
    SubjectVersion,
    VersionSelector,
)
from weir.v1 import registry_service_pb2_grpc as rs_grpc

T = TypeVar("T")


class AsyncSchemaRegistryClient(AsyncGrpcClient):
    """An asyncio client for RegistryService; ``async with`` it or ``await close()``.

    Create it inside the event loop that uses it.
    """

    def __init__(
        self,
        server: str = DEFAULT_SERVER,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__(server, timeout_s=timeout_s, retry=retry, credentials=credentials)
        self._stub: Any = rs_grpc.RegistryServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._stubs: dict[str, Any] = {shared.STUB: self._stub}
        self._schemas = shared.SchemaCache()

    async def _run(self, call: Call[T]) -> T:
        method = getattr(self._stubs[call.stub], call.method)
        return call.parse(await self._call(method, call.request, idempotent=call.idempotent))

    async def register(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        references: Iterable[SchemaReference] = (),
    ) -> RegisteredSchema:
        """Register a schema under a subject; registering it again returns the same result."""
        return await self._run(shared.register(subject, schema_text, schema_type, references))

    async def get_schema(self, schema_id: int) -> Schema:
        """A schema by its global id (cached: ids never change what they name)."""
        cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        return self._schemas.put(schema_id, await self._run(shared.get_schema(schema_id)))

    async def get_schema_versions(
        self, schema_id: int, include_deleted: bool = False
    ) -> list[SubjectVersion]:
        """Every subject version that holds a schema id (without the schema itself)."""
        return await self._run(shared.get_schema_versions(schema_id, include_deleted))

    async def get_version(
        self, subject: str, version: VersionSelector = LATEST, include_deleted: bool = False
    ) -> SubjectVersion:
        """One version of a subject (``"latest"``: the latest live one), with its schema."""
        return await self._run(shared.get_version(subject, version, include_deleted))

    async def list_subjects(self, include_deleted: bool = False, prefix: str = "") -> list[Subject]:
        """Subject names, sorted; soft-deleted subjects only with ``include_deleted``."""
        return await self._run(shared.list_subjects(include_deleted, prefix))

    async def list_versions(self, subject: str, include_deleted: bool = False) -> list[Version]:
        """A subject's version numbers, ascending."""
        return await self._run(shared.list_versions(subject, include_deleted))

    async def lookup(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        references: Iterable[SchemaReference] = (),
        include_deleted: bool = False,
    ) -> SubjectVersion:
        """The version of a subject that holds this schema; SchemaNotFoundError if none."""
        return await self._run(
            shared.lookup(subject, schema_text, schema_type, references, include_deleted)
        )

    async def referenced_by(self, subject: str, version: int) -> list[SchemaId]:
        """Ids of live schemas whose references name this subject version."""
        return await self._run(shared.referenced_by(subject, version))

    async def check_compatibility(
        self,
        subject: str,
        schema_text: str,
        schema_type: SchemaType | str,
        version: VersionSelector | None = None,
        references: Iterable[SchemaReference] = (),
    ) -> CompatibilityCheck:
        """Would this schema be accepted? None: the subject's level against its history;
        a version or ``"latest"``: the subject's level against that one version."""
        return await self._run(
            shared.check_compatibility(subject, schema_text, schema_type, version, references)
        )

    async def delete_subject(self, subject: str, permanent: bool = False) -> list[Version]:
        """Soft-delete every version (or, after that, remove them for good); the versions hit.

        Never retried: a second run would answer differently.
        """
        return await self._run(shared.delete_subject(subject, permanent))

    async def delete_version(
        self, subject: str, version: VersionSelector, permanent: bool = False
    ) -> Version:
        """Soft-delete one version (or, after that, remove it for good); the version hit.

        Never retried: a second run would answer differently.
        """
        return await self._run(shared.delete_version(subject, version, permanent))

    async def get_compatibility(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> CompatibilityLevel:
        """The global level, or a subject's own (``default_to_global``: the one in force)."""
        return await self._run(shared.get_compatibility(subject, default_to_global))

    async def set_compatibility(
        self, level: CompatibilityLevel | str, subject: str | None = None
    ) -> CompatibilityLevel:
        """Set the global level, or a subject's own; returns the level now in force."""
        return await self._run(shared.set_compatibility(level, subject))

    async def delete_compatibility(self, subject: str) -> CompatibilityLevel:
        """Remove a subject's own level so the global one applies; returns the removed level."""
        return await self._run(shared.delete_compatibility(subject))

    async def get_mode(self, subject: str | None = None, default_to_global: bool = False) -> Mode:
        """The global mode, or a subject's own (``default_to_global``: the one in force)."""
        return await self._run(shared.get_mode(subject, default_to_global))

    async def set_mode(
        self, mode: Mode | str, subject: str | None = None, force: bool = False
    ) -> Mode:
        """Set the global mode, or a subject's own; IMPORT on a non-empty scope needs force."""
        return await self._run(shared.set_mode(mode, subject, force))


__all__ = ["AsyncSchemaRegistryClient"]
