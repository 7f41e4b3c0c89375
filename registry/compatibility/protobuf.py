"""Protobuf compatibility: Confluent Schema Registry's descriptor diff (their ``SchemaDiff``).

``check(reader, writer)`` compares the ORIGINAL schema (``writer``, the one data was written
with) to the UPDATE (``reader``). A BACKWARD check is ``check(reader=new, writer=old)``;
FORWARD swaps them. Only differences Confluent counts as incompatible are reported, each
with Confluent's ``Difference.Type`` name as its rule:

- PACKAGE_CHANGED: the schema's own ``package`` changed (Confluent 7.6+).
- MESSAGE_REMOVED: a message (top-level or nested, map entries aside) is gone. So adding
  a message fails FORWARD, as in Confluent.
- FIELD_KIND_CHANGED: a field moved between scalar (enums count as scalars), message and map.
- FIELD_SCALAR_KIND_CHANGED: outside Confluent's wire groups int32/int64/uint32/uint64/
  bool/enum, sint32/sint64, fixed32/sfixed32, fixed64/sfixed64, string/bytes, float, double.
- FIELD_NAMED_TYPE_CHANGED: a message field names another type (compared by the name inside
  its package, so a referenced file may change package), or an imported type it names
  changed incompatibly (those differences are reported too).
- FIELD_NUMERIC_LABEL_CHANGED: a numeric field changed between explicit ``optional``,
  ``required`` and ``repeated`` (proto3 fields without a label are not compared, as in
  Confluent; string and bytes may change label).
- REQUIRED_FIELD_ADDED, REQUIRED_FIELD_REMOVED: proto2 ``required`` fields.
- ONEOF_FIELD_REMOVED: a field left a oneof that still exists.
- MULTIPLE_FIELDS_MOVED_TO_ONEOF, FIELD_MOVED_TO_EXISTING_ONEOF: a oneof took over more
  than one former field, or one former field plus fields of another oneof.

Compatible changes are not reported: fields or messages added, fields removed or renamed,
field numbers changed (a removal plus an addition), enums and their values added, removed
or renamed, oneofs added, removed or renamed, a single field moved into a new oneof,
messages reordered, a change of ``syntax`` on its own.

Fields match by number, messages by name. Paths are Confluent's: ``#/`` for the file,
``#/Message/Nested`` for a message, ``#/Message/2`` for field number 2 and
``#/Message/my_oneof/3`` for a field of a oneof.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from google.protobuf import descriptor_pb2

from weir.core.errors import InternalError
from weir.registry.compatibility.result import Incompatibility
from weir.registry.formats.base import ParsedSchema
from weir.registry.formats.protobuf import ProtobufSchema
from weir.registry.formats.protobuf_types import MessageProto, ProtoType, lookup

FieldProto = descriptor_pb2.FieldDescriptorProto
Path = tuple[str, ...]

_GROUPS: dict[int, str] = {}
for _group, _names in {
    "varint": ("INT32", "INT64", "UINT32", "UINT64", "BOOL", "ENUM"),
    "zigzag": ("SINT32", "SINT64"),
    "length-delimited": ("STRING", "BYTES"),
    "fixed32": ("FIXED32", "SFIXED32"),
    "fixed64": ("FIXED64", "SFIXED64"),
    "float": ("FLOAT",),
    "double": ("DOUBLE",),
}.items():
    for _name in _names:
        _GROUPS[FieldProto.Type.Value(f"TYPE_{_name}")] = _group
_MESSAGE_TYPES = {FieldProto.TYPE_MESSAGE, FieldProto.TYPE_GROUP}
_SCALAR_GROUPS_HELP = (
    "wire-compatible groups are int32/int64/uint32/uint64/bool/enum, sint32/sint64, "
    "fixed32/sfixed32, fixed64/sfixed64 and string/bytes"
)


def check(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """What stops ``reader`` (the update) from reading data written with ``writer``."""
    if not isinstance(reader, ProtobufSchema) or not isinstance(writer, ProtobufSchema):
        raise InternalError("the Protobuf compatibility rules need two PROTOBUF schemas")
    return _Diff(original=writer, update=reader).run()


class _Diff:
    """One comparison of an original (writer) schema with an update (reader)."""

    def __init__(self, original: ProtobufSchema, update: ProtobufSchema) -> None:
        self.original = original
        self.update = update
        self.found: list[Incompatibility] = []
        self.active: set[tuple[str, str]] = set()  # original messages being compared

    def run(self) -> list[Incompatibility]:
        if self.original.package != self.update.package:
            self.add(
                "PACKAGE_CHANGED",
                (),
                f"the writer's schema declares package {_shown(self.original.package)} but "
                f"the reader's declares {_shown(self.update.package)}; fully qualified "
                "message names change with the package",
            )
        self.compare_scopes(
            (),
            self.top_level(self.original),
            self.top_level(self.update),
        )
        return list(dict.fromkeys(self.found))  # a type reached twice reports once

    def add(self, rule: str, path: Path, message: str) -> None:
        self.found.append(Incompatibility(rule, "#/" + "/".join(path), message))

    @staticmethod
    def top_level(schema: ProtobufSchema) -> list[ProtoType]:
        prefix = f"{schema.package}." if schema.package else ""
        return [schema.types[prefix + m.name] for m in schema.file.message_type]

    # -- messages -------------------------------------------------------------------------

    def compare_scopes(
        self, path: Path, original: Iterable[ProtoType], update: Iterable[ProtoType]
    ) -> None:
        """Match messages of one scope by name (map entries aside) and compare each pair."""
        before = {t.message.name: t for t in original if t.message and not t.is_map_entry}
        after = {t.message.name: t for t in update if t.message and not t.is_map_entry}
        for name, old in before.items():
            new = after.get(name)
            if new is None:
                self.add(
                    "MESSAGE_REMOVED",
                    (*path, name),
                    f"message {old.full_name} of the writer's schema is missing from the "
                    "reader's schema",
                )
            else:
                self.compare_message((*path, name), old, new)

    def compare_message(self, path: Path, old: ProtoType, new: ProtoType) -> None:
        """Compare fields and oneofs by number, then the nested messages."""
        key = (old.file.name, old.full_name)
        entered = key not in self.active  # a recursive type's fields are compared once per chain
        self.active.add(key)
        try:
            if entered:
                self.compare_fields(path, old, new)
            self.compare_scopes(path, _nested(old, self.original), _nested(new, self.update))
        finally:
            if entered:
                self.active.discard(key)

    def compare_fields(self, path: Path, old: ProtoType, new: ProtoType) -> None:
        old_fields, old_oneofs = _split(old.message)
        new_fields, new_oneofs = _split(new.message)
        in_old_oneofs = {f.number for fields in old_oneofs.values() for f in fields}
        for name, fields in new_oneofs.items():
            moved = [f.number for f in fields if old_fields.pop(f.number, None) is not None]
            existing = [f for f in fields if f.number not in moved and f.number in in_old_oneofs]
            numbers = ", ".join(map(str, moved))
            if len(moved) > 1:
                self.add(
                    "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
                    (*path, name),
                    f"oneof {name} of {new.full_name} in the reader's schema holds fields "
                    f"{numbers}, which are separate fields in the writer's schema; data may "
                    "set several of them but a oneof keeps only one",
                )
            elif moved and existing:
                self.add(
                    "FIELD_MOVED_TO_EXISTING_ONEOF",
                    (*path, name),
                    f"oneof {name} of {new.full_name} in the reader's schema takes field "
                    f"{numbers} together with fields that were already in a oneof in the "
                    "writer's schema; data may set both but a oneof keeps only one",
                )
        for name, fields in old_oneofs.items():
            if name in new_oneofs:
                self.compare_oneof(
                    (*path, name), name, old=old, before=fields, new=new, after=new_oneofs[name]
                )
        for number in sorted(old_fields.keys() | new_fields.keys()):
            before, after = old_fields.get(number), new_fields.get(number)
            where = (*path, str(number))
            if after is None and before is not None:
                if before.label == FieldProto.LABEL_REQUIRED:
                    self.add(
                        "REQUIRED_FIELD_REMOVED",
                        where,
                        f"required field {_field(before)} of {old.full_name} is missing "
                        "from the reader's schema; required fields can never be removed",
                    )
            elif before is None and after is not None:
                if after.label == FieldProto.LABEL_REQUIRED:
                    self.add(
                        "REQUIRED_FIELD_ADDED",
                        where,
                        f"the reader's schema adds required field {_field(after)} to "
                        f"{new.full_name}; data written without it cannot be read",
                    )
            elif before is not None and after is not None:
                self.compare_field(where, old, before, new, after)

    def compare_oneof(
        self,
        path: Path,
        name: str,
        *,
        old: ProtoType,
        before: Sequence[FieldProto],
        new: ProtoType,
        after: Sequence[FieldProto],
    ) -> None:
        """Compare the fields of a oneof both schemas have; losing one is incompatible."""
        after_by_number = {f.number: f for f in after}
        for field in before:
            kept = after_by_number.get(field.number)
            if kept is None:
                self.add(
                    "ONEOF_FIELD_REMOVED",
                    (*path, str(field.number)),
                    f"field {_field(field)} of oneof {name} in {old.full_name} is missing "
                    "from that oneof in the reader's schema",
                )
            else:
                self.compare_field((*path, str(field.number)), old, field, new, kept)

    # -- fields ---------------------------------------------------------------------------

    def compare_field(
        self, path: Path, old: ProtoType, before: FieldProto, new: ProtoType, after: FieldProto
    ) -> None:
        """Compare one field's label and type (a renamed field is compatible)."""
        self.compare_types(
            path,
            f"field {_field(before)} of {old.full_name}",
            (_label(old, before), before),
            (_label(new, after), after),
        )

    def compare_types(
        self,
        path: Path,
        what: str,
        old: tuple[str | None, FieldProto],
        new: tuple[str | None, FieldProto],
    ) -> None:
        before, after = old[1], new[1]
        old_kind, old_entry = self.kind(self.original, before)
        new_kind, new_entry = self.kind(self.update, after)
        if old_kind != new_kind:
            self.add(
                "FIELD_KIND_CHANGED",
                path,
                f"{what} is {self.describe(self.original, before)} in the writer's schema but "
                f"{self.describe(self.update, after)} in the reader's",
            )
        elif old_kind == "scalar":
            self.compare_scalars(path, what, old, new)
        elif old_kind == "message":
            self.compare_named(path, what, before.type_name, after.type_name)
        elif old_entry is not None and new_entry is not None:  # maps: key, then value
            for number, part in ((1, "key"), (2, "value")):
                self.compare_types(
                    path,
                    f"the map {part} of {what}",
                    (None, _entry(old_entry, number)),
                    (None, _entry(new_entry, number)),
                )

    def compare_scalars(
        self,
        path: Path,
        what: str,
        old: tuple[str | None, FieldProto],
        new: tuple[str | None, FieldProto],
    ) -> None:
        (old_label, before), (new_label, after) = old, new
        group = _GROUPS[before.type]
        if group != _GROUPS[after.type]:
            self.add(
                "FIELD_SCALAR_KIND_CHANGED",
                path,
                f"{what} is {self.describe(self.original, before)} in the writer's schema but "
                f"{self.describe(self.update, after)} in the reader's; {_SCALAR_GROUPS_HELP}",
            )
        elif (
            old_label is not None
            and new_label is not None
            and old_label != new_label
            and group != "length-delimited"
        ):
            self.add(
                "FIELD_NUMERIC_LABEL_CHANGED",
                path,
                f"{what} is {old_label} in the writer's schema but {new_label} in the "
                "reader's; a numeric field cannot change its optional, required or repeated label",
            )

    def compare_named(self, path: Path, what: str, old_name: str, new_name: str) -> None:
        """Message fields: the same local name, and the same definition when it is imported."""
        before = lookup(self.original.types, old_name)
        after = lookup(self.update.types, new_name)
        if before is None or after is None or before.local_name != after.local_name:
            self.add(
                "FIELD_NAMED_TYPE_CHANGED",
                path,
                f"{what} has type {old_name.lstrip('.')} in the writer's schema but "
                f"{new_name.lstrip('.')} in the reader's",
            )
            return
        if self.same_definition(before, after):
            return
        outer, self.found = self.found, []
        try:
            self.compare_message(tuple(before.local_name.split(".")), before, after)
            inner = self.found
        finally:
            self.found = outer
        self.found.extend(inner)
        if inner:
            self.add(
                "FIELD_NAMED_TYPE_CHANGED",
                path,
                f"{what} has type {before.local_name}, whose definition in "
                f"{after.file.name} changed incompatibly (see the differences under "
                f"#/{before.local_name.replace('.', '/')})",
            )

    def same_definition(self, before: ProtoType, after: ProtoType) -> bool:
        """Both in the schemas' own files (compared by the scope walk), or one same import."""
        if before.file is self.original.file and after.file is self.update.file:
            return True
        return before.file.name == after.file.name and before.file == after.file

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def kind(schema: ProtobufSchema, field: FieldProto) -> tuple[str, MessageProto | None]:
        """scalar (enums too), message or map, with the map entry for a map."""
        if field.type not in _MESSAGE_TYPES:
            return "scalar", None
        target = lookup(schema.types, field.type_name)
        if target is not None and target.is_map_entry:
            return "map", target.message
        return "message", None

    def describe(self, schema: ProtobufSchema, field: FieldProto) -> str:
        kind, entry = self.kind(schema, field)
        if kind == "map" and entry is not None:
            key, value = _entry(entry, 1), _entry(entry, 2)
            return f"map<{_type_name(key)}, {_type_name(value)}>"
        if kind == "message":
            return f"message {field.type_name.lstrip('.')}"
        return _type_name(field)


def _nested(owner: ProtoType, schema: ProtobufSchema) -> list[ProtoType]:
    assert owner.message is not None
    return [schema.types[f"{owner.full_name}.{m.name}"] for m in owner.message.nested_type]


def _split(
    message: MessageProto | None,
) -> tuple[dict[int, FieldProto], dict[str, list[FieldProto]]]:
    """Plain fields by number (proto3 ``optional`` included) and real oneofs by name."""
    assert message is not None
    fields: dict[int, FieldProto] = {}
    oneofs: dict[str, list[FieldProto]] = {}
    for field in message.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            oneofs.setdefault(message.oneof_decl[field.oneof_index].name, []).append(field)
        else:
            fields[field.number] = field
    return fields, oneofs


def _label(owner: ProtoType, field: FieldProto) -> str | None:
    """The label as written: None for a proto3 (or editions) field without one."""
    if field.label == FieldProto.LABEL_REQUIRED:
        return "required"
    if field.label == FieldProto.LABEL_REPEATED:
        return "repeated"
    if field.HasField("oneof_index") and not field.proto3_optional:
        return "oneof"
    if owner.file.syntax in ("", "proto2") or field.proto3_optional:
        return "optional"
    return None


def _entry(entry: MessageProto, number: int) -> FieldProto:
    return next(f for f in entry.field if f.number == number)


def _type_name(field: FieldProto) -> str:
    if field.type == FieldProto.TYPE_ENUM:
        return f"enum {field.type_name.lstrip('.')}"
    if field.type in _MESSAGE_TYPES:
        return f"message {field.type_name.lstrip('.')}"
    return FieldProto.Type.Name(field.type).removeprefix("TYPE_").lower()


def _field(field: FieldProto) -> str:
    return f"{field.number} ({field.name})"


def _shown(package: str) -> str:
    return repr(package) if package else "(none)"
