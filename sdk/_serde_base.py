"""The base classes of the schema serializers: one code path, sync or asyncio registry.

A serializer finds the schema id for a subject once (register, look up, or take the latest
version) and caches it with the compiled writer, so steady-state serialization makes no RPC.
A deserializer compiles a reader per schema id once. Everything but the registry round trips
is shared: ``__call__`` drives the lookup plan with ``run``, the ``*_async`` methods with
``run_async``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from weir.core.errors import InvalidArgumentError
from weir.core.framing import frame, parse_header
from weir.core.types import SchemaType
from weir.sdk._records import SerializationContext
from weir.sdk._serde import (
    Call,
    Plan,
    SubjectNameStrategy,
    TtlCache,
    check_type,
    latest_plan,
    references_plan,
    run,
    run_async,
    schema_id_plan,
    strategy_arg,
)
from weir.sdk._types import Schema, SchemaReference

W = TypeVar("W")
T = TypeVar("T")

Bundle = list[tuple[str, Schema]]
"""The schemas a schema's references reach, as (reference name, schema), dependencies first."""


def constant(value: T) -> Plan[T]:
    """A plan that needs no registry call."""
    return value
    yield  # makes this function a generator (a plan)


@dataclass(frozen=True, slots=True)
class Target(Generic[W]):
    """Where a subject's records go: the schema id, its wire prefix and the compiled writer."""

    schema_id: int
    """The registered schema id written into every record."""
    prefix: bytes
    """Magic byte, schema id and (protobuf) message-index path."""
    writer: W
    """The compiled writer (parsed Avro schema, JSON Schema validator, ...)."""


class SchemaSerializer(Generic[W]):
    """Shared behaviour of AvroSerializer, ProtobufSerializer and JSONSerializer."""

    schema_type: ClassVar[SchemaType]
    _fetch_references: ClassVar[bool] = True

    def __init__(
        self,
        registry: Any,
        *,
        text: str | None,
        references: tuple[SchemaReference, ...],
        record_name: str | None,
        subject_name_strategy: str | SubjectNameStrategy,
        auto_register: bool | None,
        use_latest_version: bool,
        latest_ttl_s: float | None,
    ) -> None:
        if use_latest_version and auto_register:
            raise InvalidArgumentError(
                "auto_register and use_latest_version cannot both be on: pick one "
                "(use_latest_version serializes with the subject's latest registered schema)"
            )
        if text is None and not use_latest_version:
            raise InvalidArgumentError(
                "no schema given: pass the schema, or use_latest_version=True to serialize "
                "with the subject's latest registered schema"
            )
        self._registry = registry
        self._text = text
        self._references = references
        self._record_name = record_name
        self._strategy = strategy_arg(subject_name_strategy)
        self._auto_register = not use_latest_version if auto_register is None else auto_register
        self._use_latest = use_latest_version
        self._targets: TtlCache[Target[W]] = TtlCache(latest_ttl_s if use_latest_version else None)
        self._compiled: dict[int, W] = {}
        self._local: W | None = None
        self._indexes: tuple[int, ...] | None = None

    def __call__(self, obj: Any, ctx: SerializationContext | None = None) -> bytes | None:
        """The framed bytes for ``obj`` (None stays None); registry calls block."""
        if obj is None:
            return None
        subject = self._strategy(ctx, self._record_name)
        target = self._targets.get(subject)
        if target is None:
            target = run(self._target_plan(subject), self._registry)
        return self._encode(obj, ctx, target)

    async def serialize_async(
        self, obj: Any, ctx: SerializationContext | None = None
    ) -> bytes | None:
        """The framed bytes for ``obj``, with an AsyncSchemaRegistryClient as the registry."""
        if obj is None:
            return None
        subject = self._strategy(ctx, self._record_name)
        target = self._targets.get(subject)
        if target is None:
            target = await run_async(self._target_plan(subject), self._registry)
        return self._encode(obj, ctx, target)

    # ----- for subclasses ------------------------------------------------------------------

    def _compile(self, text: str, bundle: Bundle) -> W:
        """The writer for schema text whose references are ``bundle``."""
        raise NotImplementedError

    def _encode(self, obj: Any, ctx: SerializationContext | None, target: Target[W]) -> bytes:
        """Framed bytes for one object."""
        raise NotImplementedError

    def _local_references_plan(self) -> Plan[tuple[SchemaReference, ...]]:
        """The references to register the local schema with (protobuf registers imports)."""
        return constant(self._references)

    # ----- shared --------------------------------------------------------------------------

    def _target_plan(self, subject: str) -> Plan[Target[W]]:
        if self._use_latest:
            schema = yield from latest_plan(subject)
            check_type(schema, self.schema_type, "Serializer")
            sid, text, refs = int(schema.id), schema.text, schema.references
        else:
            assert self._text is not None  # checked in __init__
            text = self._text
            refs = yield from self._local_references_plan()
            sid, _ = yield from schema_id_plan(
                subject, text, self.schema_type, refs, self._auto_register
            )
            if self._local is not None:
                self._compiled.setdefault(sid, self._local)
        writer = self._compiled.get(sid)
        if writer is None:
            bundle = (yield from references_plan(refs)) if self._fetch_references else []
            writer = self._compiled.setdefault(sid, self._compile(text, bundle))
        prefix = frame(sid, b"", self._indexes)
        return self._targets.put(subject, Target(sid, prefix, writer))


class SchemaDeserializer(Generic[W]):
    """Shared behaviour of AvroDeserializer, ProtobufDeserializer and JSONDeserializer."""

    schema_type: ClassVar[SchemaType]
    _fetch_references: ClassVar[bool] = True

    def __init__(self, registry: Any, from_dict: Callable[[Any, Any], Any] | None) -> None:
        if from_dict is not None and not callable(from_dict):
            raise InvalidArgumentError("from_dict must be a callable (dict, ctx) -> object")
        self._registry = registry
        self._from_dict = from_dict
        self._readers: dict[int, W] = {}

    def __call__(self, data: bytes | None, ctx: SerializationContext | None = None) -> Any:
        """The object for framed bytes (None stays None); registry calls block."""
        if data is None:
            return None
        schema_id = parse_header(data)
        try:
            reader = self._readers[schema_id]
        except KeyError:
            reader = run(self._reader_plan(schema_id), self._registry)
        return self._decode(data, schema_id, reader, ctx)

    async def deserialize_async(
        self, data: bytes | None, ctx: SerializationContext | None = None
    ) -> Any:
        """The object for framed bytes, with an AsyncSchemaRegistryClient as the registry."""
        if data is None:
            return None
        schema_id = parse_header(data)
        try:
            reader = self._readers[schema_id]
        except KeyError:
            reader = await run_async(self._reader_plan(schema_id), self._registry)
        return self._decode(data, schema_id, reader, ctx)

    def _reader_plan(self, schema_id: int) -> Plan[W]:
        schema: Schema = yield Call("get_schema", (schema_id,))
        check_type(schema, self.schema_type, "Deserializer")
        bundle = (yield from references_plan(schema.references)) if self._fetch_references else []
        return self._readers.setdefault(schema_id, self._compile(schema, bundle))

    def _compile(self, schema: Schema, bundle: Bundle) -> W:
        """The reader for a writer schema whose references are ``bundle``."""
        raise NotImplementedError

    def _decode(
        self, data: bytes, schema_id: int, reader: W, ctx: SerializationContext | None
    ) -> Any:
        """The object for one framed record."""
        raise NotImplementedError


__all__: list[str] = []  # base classes only; the public serializers live in _serde_<format>
