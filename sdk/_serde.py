"""What every schema serializer shares: subject naming, id caches, and registry lookups as plans.

A registry lookup is written once, as a *plan*: a generator that yields ``Call`` values (a
registry method name and its arguments) and receives each result. ``run`` drives a plan with a
sync ``SchemaRegistryClient``, ``run_async`` with an ``AsyncSchemaRegistryClient``; they are
the only code that differs between the two. Errors the registry raises are thrown back into
the plan, so it can say what to do about them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from weir.core.errors import (
    InvalidArgumentError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    WeirError,
)
from weir.core.types import SchemaType
from weir.sdk._records import SerializationContext
from weir.sdk._types import LATEST, Schema, SchemaReference, SubjectVersion

T = TypeVar("T")
V = TypeVar("V")

SubjectNameStrategy = Callable[[SerializationContext | None, str | None], str]
"""``(ctx, record_name) -> subject``, the signature of confluent-kafka's strategies."""


# ----- subject naming ----------------------------------------------------------------------


def topic_subject_name_strategy(ctx: SerializationContext | None, record_name: str | None) -> str:
    """``<topic>-key`` or ``<topic>-value`` (the default)."""
    return f"{_need_ctx(ctx, 'topic').topic}-{_need_ctx(ctx, 'topic').field}"


def record_subject_name_strategy(ctx: SerializationContext | None, record_name: str | None) -> str:
    """The record's full name: Avro name, protobuf message name or JSON Schema ``title``."""
    return _need_name(record_name, "record")


def topic_record_subject_name_strategy(
    ctx: SerializationContext | None, record_name: str | None
) -> str:
    """``<topic>-<record full name>``."""
    return f"{_need_ctx(ctx, 'topic_record').topic}-{_need_name(record_name, 'topic_record')}"


STRATEGIES: dict[str, SubjectNameStrategy] = {
    "topic": topic_subject_name_strategy,
    "record": record_subject_name_strategy,
    "topic_record": topic_record_subject_name_strategy,
}


def strategy_arg(value: str | SubjectNameStrategy) -> SubjectNameStrategy:
    """A strategy from its name (topic, record, topic_record) or a callable."""
    if callable(value):
        return value
    found = STRATEGIES.get(str(value).strip().lower().replace("-", "_"))
    if found is None:
        raise InvalidArgumentError(
            f"subject name strategy {value!r} is unknown: use 'topic', 'record', "
            "'topic_record' or a callable (ctx, record_name) -> subject"
        )
    return found


def _need_ctx(ctx: SerializationContext | None, strategy: str) -> SerializationContext:
    if ctx is None:
        raise InvalidArgumentError(
            f"the {strategy} subject name strategy needs the topic: pass "
            "SerializationContext(topic, MessageField.VALUE) (or KEY) as the second argument"
        )
    return ctx


def _need_name(record_name: str | None, strategy: str) -> str:
    if not record_name:
        raise InvalidArgumentError(
            f"the {strategy} subject name strategy needs a named schema (an Avro record, enum "
            "or fixed name, a protobuf message, or a JSON Schema 'title'); name the schema or "
            "use subject_name_strategy='topic'"
        )
    return record_name


# ----- records -----------------------------------------------------------------------------


def as_dict(
    obj: Any, ctx: SerializationContext | None, to_dict: Callable[[Any, Any], Any] | None
) -> Any:
    """``to_dict(obj, ctx)`` if given, a dataclass as ``dataclasses.asdict``, else ``obj``."""
    if to_dict is not None:
        return to_dict(obj, ctx)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


def check_type(schema: Schema, expected: SchemaType, role: str) -> None:
    """Refuse a registered schema of another language than the (de)serializer's."""
    if schema.schema_type != expected:
        kind = {"AVRO": "Avro", "PROTOBUF": "Protobuf", "JSON": "JSON"}[schema.schema_type.value]
        raise InvalidArgumentError(
            f"schema id {schema.id} is a {schema.schema_type.value} schema, not {expected.value}; "
            f"use {kind}{role} for it",
            metadata={"id": str(schema.id)},
        )


# ----- registry plans ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One registry request a plan needs."""

    method: str
    """The registry client method, for example ``"register"``."""
    args: tuple[Any, ...]
    """Its positional arguments."""


Plan = Generator[Call, Any, T]
"""A lookup written once: yields Calls, receives their results, returns a value."""


def run(plan: Plan[T], registry: Any) -> T:
    """Drive a plan with a sync SchemaRegistryClient."""
    try:
        call = next(plan)
        while True:
            try:
                result = getattr(registry, call.method)(*call.args)
            except WeirError as err:
                call = plan.throw(err)
            else:
                call = plan.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(plan: Plan[T], registry: Any) -> T:
    """Drive a plan with an AsyncSchemaRegistryClient (same methods, as coroutines)."""
    try:
        call = next(plan)
        while True:
            try:
                result = await getattr(registry, call.method)(*call.args)
            except WeirError as err:
                call = plan.throw(err)
            else:
                call = plan.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def schema_id_plan(
    subject: str,
    text: str,
    schema_type: SchemaType,
    references: tuple[SchemaReference, ...],
    auto_register: bool,
) -> Plan[tuple[int, int]]:
    """Register the schema (or, without auto_register, find it); its (id, version)."""
    if auto_register:
        registered = yield Call("register", (subject, text, schema_type, references))
        return int(registered.id), int(registered.version)
    try:
        found: SubjectVersion = yield Call("lookup", (subject, text, schema_type, references))
    except (SchemaNotFoundError, SubjectNotFoundError) as err:
        raise type(err)(
            f"the schema is not registered under subject {subject!r} ({err.message}); register "
            "it first (weir schema apply) or create the serializer with auto_register=True",
            metadata={"subject": subject},
        ) from None
    assert found.schema is not None  # a lookup answers with the schema
    return int(found.schema.id), int(found.version)


def latest_plan(subject: str) -> Plan[Schema]:
    """The schema of the subject's latest live version."""
    found: SubjectVersion = yield Call("get_version", (subject, LATEST))
    assert found.schema is not None  # get_version answers with the schema
    return found.schema


def references_plan(references: Iterable[SchemaReference]) -> Plan[list[tuple[str, Schema]]]:
    """Every schema the references reach, as (reference name, schema), dependencies first."""
    out: list[tuple[str, Schema]] = []
    seen: set[tuple[str, int]] = set()

    def visit(refs: Iterable[SchemaReference]) -> Plan[None]:
        for ref in refs:
            if (ref.subject, ref.version) in seen:
                continue
            seen.add((ref.subject, ref.version))
            found: SubjectVersion = yield Call("get_version", (ref.subject, ref.version))
            assert found.schema is not None  # get_version answers with the schema
            yield from visit(found.schema.references)
            out.append((ref.name, found.schema))

    yield from visit(references)
    return out


# ----- caches ------------------------------------------------------------------------------


class TtlCache(Generic[V]):
    """A dict whose entries expire after ``ttl_s`` seconds (None: never)."""

    def __init__(self, ttl_s: float | None = None) -> None:
        self._ttl_s = ttl_s
        self._items: dict[Any, tuple[V, float]] = {}

    def get(self, key: Any) -> V | None:
        """The live value for key, or None."""
        item = self._items.get(key)
        if item is None or (self._ttl_s is not None and time.monotonic() > item[1]):
            return None
        return item[0]

    def put(self, key: Any, value: V) -> V:
        """Store value under key; return it."""
        expires = time.monotonic() + self._ttl_s if self._ttl_s is not None else 0.0
        self._items[key] = (value, expires)
        return value


__all__ = [
    "record_subject_name_strategy",
    "topic_record_subject_name_strategy",
    "topic_subject_name_strategy",
]
