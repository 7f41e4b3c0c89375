"""Hostile inputs for every gRPC method, built from the generated descriptors in weir.v1.

Nothing here lists RPCs by hand: ``all_methods()`` walks every ``*_pb2`` module of weir.v1,
so a new RPC is swept as soon as its proto is generated. ``mutations(message)`` yields
requests that each set one field (at any depth) to one hostile value, on top of a plausible
baseline, so a hostile value reaches the code past the first validation.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor as d
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import weir.v1
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import registry_pb2 as rp
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc

HUGE = "n" * (1 << 20)
"""A 1 MiB name."""

STRINGS: tuple[str, ...] = (
    "",
    "a\x00b",
    "../../etc",
    "/",
    "..",
    ".",
    "a/b",
    "%2F",
    "ü名🙂",
    " ",
    "\n",
    "-1",
    "x" * 300,
    "x" * 1001,  # one byte over the default max_name_bytes
)
"""Hostile names; the 1 MiB one is swept separately (it is slow to send a thousand times)."""

INT32 = (-1, 0, -(2**31), 2**31 - 1)
INT64 = (-1, 0, -(2**63), 2**63 - 1, 2**53 + 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1, 2**63)
DOUBLES = (-1.0, float("inf"), float("nan"), 1e308)
BYTES = (b"", b"\x00", b"\xff" * 64, bytes(range(256)))
UNKNOWN_ENUM = 9999

_INTS = {
    d.FieldDescriptor.TYPE_INT32: INT32,
    d.FieldDescriptor.TYPE_SINT32: INT32,
    d.FieldDescriptor.TYPE_SFIXED32: INT32,
    d.FieldDescriptor.TYPE_INT64: INT64,
    d.FieldDescriptor.TYPE_SINT64: INT64,
    d.FieldDescriptor.TYPE_SFIXED64: INT64,
    d.FieldDescriptor.TYPE_UINT32: UINT32,
    d.FieldDescriptor.TYPE_FIXED32: UINT32,
    d.FieldDescriptor.TYPE_UINT64: UINT64,
    d.FieldDescriptor.TYPE_FIXED64: UINT64,
}

CLIENT_ERRORS = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED,
}
"""What a hostile request may get back: a client error, or success."""

LEAKS = re.compile(
    r"Traceback|<class '|File \"/|\b(Key|Value|Type|Attribute|Index|Overflow|Recursion"
    r"|Decode|Assertion|Runtime|OS|FileNotFound|ZeroDivision|NotImplemented|Memory|Lookup"
    r"|Unicode\w*|Permission|IsADirectory|NotADirectory|FileExists)Error\b|StopIteration"
)
"""Python internals that must never reach a client."""


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC as the descriptors describe it."""

    path: str
    """/package.Service/Method."""
    descriptor: d.MethodDescriptor
    """The method's descriptor."""

    @property
    def request(self) -> type[Message]:
        """The request message class."""
        return _message_class(self.descriptor.input_type)

    @property
    def streaming(self) -> bool:
        """Whether requests are streamed."""
        return bool(self.descriptor.client_streaming)


def _message_class(descriptor: d.Descriptor) -> type[Message]:
    module = importlib.import_module(
        "weir.v1." + descriptor.file.name.rsplit("/", 1)[-1].removesuffix(".proto") + "_pb2"
    )
    names = descriptor.full_name.removeprefix(descriptor.file.package + ".").split(".")
    found: Any = module
    for name in names:
        found = getattr(found, name)
    return found  # type: ignore[no-any-return]


def all_methods() -> list[Method]:
    """Every RPC of every service generated into weir.v1."""
    found: list[Method] = []
    for info in pkgutil.iter_modules(weir.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"weir.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                found.append(Method(f"/{service.full_name}/{method.name}", method))
    return sorted(found, key=lambda m: m.path)


PLAUSIBLE = {
    "topic": "sweep",
    "name": "sweep",
    "subject": "sweep-value",
    "group_id": "sweep-group",
    "member_id": "m-1",
    "principal": "User:alice",
    "schema": '{"type": "string"}',
}
"""Baseline values by field name, so a mutation of another field gets past name checks."""


def plausible(cls: type[Message], depth: int = 0) -> Message:
    """A request with known-good names filled in and one item in each repeated message."""
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.message_type is not None and depth < 3 and not _is_map(field):
            inner = plausible(_message_class(field.message_type), depth + 1)
            if _repeated(field):
                getattr(message, field.name).append(inner)
            elif field.containing_oneof is None:
                getattr(message, field.name).CopyFrom(inner)
        elif field.type == d.FieldDescriptor.TYPE_ENUM and not _repeated(field):
            real = [v.number for v in field.enum_type.values if v.number != 0]
            if real and field.containing_oneof is None:  # a real value, not UNSPECIFIED
                setattr(message, field.name, real[0])
        elif (
            field.type == d.FieldDescriptor.TYPE_STRING
            and field.name in PLAUSIBLE
            and not _repeated(field)
        ):
            setattr(message, field.name, PLAUSIBLE[field.name])
    for oneof in cls.DESCRIPTOR.oneofs:
        flags = [f for f in oneof.fields if f.type == d.FieldDescriptor.TYPE_BOOL]
        if message.WhichOneof(oneof.name) is None and flags:
            setattr(message, flags[0].name, True)
    return message


def _repeated(field: d.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _is_map(field: d.FieldDescriptor) -> bool:
    return bool(field.message_type is not None and field.message_type.GetOptions().map_entry)


def hostile_values(field: d.FieldDescriptor) -> tuple[Any, ...]:
    """Hostile values for one scalar field."""
    kind = field.type
    if kind == d.FieldDescriptor.TYPE_STRING:
        return STRINGS
    if kind == d.FieldDescriptor.TYPE_BYTES:
        return BYTES
    if kind == d.FieldDescriptor.TYPE_BOOL:
        return (True,)
    if kind == d.FieldDescriptor.TYPE_ENUM:
        return (0, UNKNOWN_ENUM, -1)
    if kind in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return DOUBLES
    return _INTS.get(kind, ())


def _set(message: Message, field: d.FieldDescriptor, value: Any) -> None:
    if _is_map(field):
        target = getattr(message, field.name)
        key_field, value_field = field.message_type.fields
        key = value if key_field.type == d.FieldDescriptor.TYPE_STRING else 1
        if value_field.message_type is None:
            target[key] = value if value_field.type == key_field.type else _default(value_field)
        else:
            target[key].CopyFrom(_message_class(value_field.message_type)())
    elif _repeated(field):
        getattr(message, field.name).extend([value] * 3)
    else:
        setattr(message, field.name, value)


def _default(field: d.FieldDescriptor) -> Any:
    values = hostile_values(field)
    return values[-1] if values else None


def mutations(cls: type[Message], depth: int = 0) -> Iterator[tuple[str, Message]]:
    """(field path, request) pairs: a plausible request with one field made hostile."""
    for field in cls.DESCRIPTOR.fields:
        if field.message_type is not None and not _is_map(field):
            if depth >= 3:
                continue
            for path, inner in mutations(_message_class(field.message_type), depth + 1):
                message = plausible(cls, depth)
                if _repeated(field):
                    del getattr(message, field.name)[:]
                    getattr(message, field.name).extend([inner, inner])
                else:
                    getattr(message, field.name).CopyFrom(inner)
                yield f"{field.name}.{path}", message
            continue
        if _is_map(field):
            values: tuple[Any, ...] = STRINGS
        else:
            values = hostile_values(field)
        for value in values:
            message = plausible(cls, depth)
            _set(message, field, value)
            yield f"{field.name}={value!r:.40}", message


def string_fields(cls: type[Message], depth: int = 0) -> Iterator[tuple[str, Message]]:
    """(field path, request) pairs with one string field set to ``HUGE`` (1 MiB)."""
    for field in cls.DESCRIPTOR.fields:
        if field.message_type is not None and not _is_map(field) and depth < 3:
            for path, inner in string_fields(_message_class(field.message_type), depth + 1):
                message = plausible(cls, depth)
                if _repeated(field):
                    del getattr(message, field.name)[:]
                    getattr(message, field.name).append(inner)
                else:
                    getattr(message, field.name).CopyFrom(inner)
                yield f"{field.name}.{path}", message
        elif field.type == d.FieldDescriptor.TYPE_STRING:
            message = plausible(cls, depth)
            _set(message, field, HUGE)
            yield field.name, message


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo of a rich status, if the error carries one."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def unhelpful(error: grpc.RpcError) -> str | None:
    """Why an error is not a clear client error, or None when it is."""
    code = error.code()  # type: ignore[attr-defined]
    details = error.details() or ""  # type: ignore[attr-defined]
    if code not in CLIENT_ERRORS:
        return f"status {code.name}: {details[:300]!r}"
    if not details.strip():
        return f"status {code.name} with an empty message"
    leak = LEAKS.search(details)
    if leak is not None:
        return f"status {code.name} leaks Python internals ({leak.group()!r}): {details[:300]!r}"
    info = error_info(error)
    if info is None or info.domain != "weir" or not info.reason:
        return f"status {code.name} without a weir ErrorInfo: {details[:300]!r}"
    return None


def prepare(channel: grpc.Channel) -> None:
    """Make the names of ``PLAUSIBLE`` exist: topic, subject with a schema, committed group."""
    topics = ts_grpc.TopicServiceStub(channel)
    if PLAUSIBLE["topic"] not in {t.name for t in topics.ListTopics(ts.ListTopicsRequest()).topics}:
        topics.CreateTopic(ts.CreateTopicRequest(name=PLAUSIBLE["topic"], partition_count=2))
    registry = rs_grpc.RegistryServiceStub(channel)
    registry.SetMode(rs.SetModeRequest(mode=rp.MODE_READWRITE))
    registry.SetMode(rs.SetModeRequest(subject=PLAUSIBLE["subject"], mode=rp.MODE_READWRITE))
    registry.RegisterSchema(
        rs.RegisterSchemaRequest(
            subject=PLAUSIBLE["subject"],
            schema=rs.SchemaInput(schema_type=rp.SCHEMA_TYPE_AVRO, schema=PLAUSIBLE["schema"]),
        )
    )
    gs_grpc.GroupServiceStub(channel).CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id=PLAUSIBLE["group_id"],
            standalone=True,
            offsets=[gs.OffsetCommit(topic=PLAUSIBLE["topic"], partition=0, offset=0)],
        )
    )
