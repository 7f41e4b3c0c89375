"""Avro compatibility: schema resolution as Avro Java's SchemaCompatibility does it.

``check(reader, writer)`` lists what stops ``reader`` from reading data written with
``writer``. Rules (Confluent's ids): NAME_MISMATCH, FIXED_SIZE_MISMATCH, MISSING_ENUM_SYMBOLS,
READER_FIELD_MISSING_DEFAULT_VALUE, TYPE_MISMATCH, MISSING_UNION_BRANCH. Named types match by
unqualified name or by a reader alias of the writer's full name; fields match by name or by a
reader field alias. Pairs of named types are memoized, so recursive types terminate: a pair
met again while it is being checked counts as compatible, as in Avro Java. Paths are JSON
pointers into the reader schema, Confluent style (``/fields/0/type/items``).
"""

from __future__ import annotations

from typing import Any

from weir.registry.compatibility.result import Incompatibility
from weir.registry.formats.avro import AvroSchema
from weir.registry.formats.avro_canonical import PRIMITIVES
from weir.registry.formats.base import ParsedSchema

_PROMOTIONS = frozenset(
    {
        ("long", "int"),
        ("float", "int"),
        ("float", "long"),
        ("double", "int"),
        ("double", "long"),
        ("double", "float"),
        ("bytes", "string"),
        ("string", "bytes"),
    }
)
"""(reader type, writer type) pairs that Avro resolution promotes."""

_NAMED = frozenset({"record", "enum", "fixed"})


def check(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """What stops ``reader`` from reading data written with ``writer``."""
    if not isinstance(reader, AvroSchema) or not isinstance(writer, AvroSchema):
        raise TypeError("avro.check needs two AvroSchema objects")
    return _Checker(reader, writer).compare(reader.tree, writer.tree, ())


def _kind(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "union"
    kind: str = node["type"]
    return "record" if kind == "error" else kind


def _describe(node: Any) -> str:
    kind = _kind(node)
    if kind in _NAMED:
        return f"{kind} '{node['name']}'"
    return kind


def _same_shape(reader: Any, writer: Any) -> bool:
    """True when a failed branch is worth quoting: same kind and, if named, same name."""
    kind = _kind(reader)
    if kind != _kind(writer):
        return False
    return kind not in _NAMED or _simple(reader["name"]) == _simple(writer["name"])


def _simple(full_name: str) -> str:
    return full_name.rpartition(".")[2]


class _Checker:
    def __init__(self, reader: AvroSchema, writer: AvroSchema) -> None:
        self.reader = reader
        self.writer = writer
        self.memo: dict[tuple[int, int], list[Incompatibility] | None] = {}

    def compare(self, r_node: Any, w_node: Any, path: tuple[str, ...]) -> list[Incompatibility]:
        reader = self.reader.resolve(r_node)
        writer = self.writer.resolve(w_node)
        if not (_kind(reader) in _NAMED and _kind(writer) in _NAMED):
            return self.calculate(reader, writer, path)
        key = (id(reader), id(writer))
        if key in self.memo:
            return self.memo[key] or []  # None: this pair is being checked further up
        self.memo[key] = None
        found = self.calculate(reader, writer, path)
        self.memo[key] = found
        return found

    def calculate(self, reader: Any, writer: Any, path: tuple[str, ...]) -> list[Incompatibility]:
        r_kind, w_kind = _kind(reader), _kind(writer)
        if r_kind == w_kind:
            if r_kind in PRIMITIVES:
                return []
            if r_kind == "array":
                return self.compare(reader["items"], writer["items"], (*path, "items"))
            if r_kind == "map":
                return self.compare(reader["values"], writer["values"], (*path, "values"))
            if r_kind == "union":
                return self.writer_union_in_reader_union(reader, writer, path)
            found = self.names(reader, writer, path)
            if r_kind == "fixed":
                return found + self.fixed_size(reader, writer, path)
            if r_kind == "enum":
                return found + self.enum_symbols(reader, writer, path)
            return found + self.record_fields(reader, writer, path)
        if w_kind == "union":
            found = []
            for index, branch in enumerate(writer):
                found += self.compare(reader, branch, (*path, str(index)))
            return found
        if r_kind == "union":
            return self.reader_union(reader, writer, path)
        if (r_kind, w_kind) in _PROMOTIONS:
            return []
        return [
            _incompatible(
                "TYPE_MISMATCH",
                path,
                f"the reader expects {_describe(reader)} but the writer wrote"
                f" {_describe(writer)}, and Avro cannot convert {w_kind} to {r_kind}",
            )
        ]

    def writer_union_in_reader_union(
        self, reader: list[Any], writer: list[Any], path: tuple[str, ...]
    ) -> list[Incompatibility]:
        # Each writer branch meets the reader union; a failure is already MISSING_UNION_BRANCH.
        found = []
        for index, branch in enumerate(writer):
            found += self.compare(reader, branch, (*path, str(index)))
        return found

    def reader_union(
        self, reader: list[Any], writer: Any, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        attempts = []
        for index, branch in enumerate(reader):
            nested = self.compare(branch, writer, (*path, str(index)))
            if not nested:
                return []
            attempts.append((_same_shape(self.reader.resolve(branch), writer), nested))
        closest = [nested for same_shape, nested in attempts if same_shape]
        return [_missing_branch(writer, path, closest[0] if closest else [])]

    def names(self, reader: Any, writer: Any, path: tuple[str, ...]) -> list[Incompatibility]:
        r_name, w_name = reader["name"], writer["name"]
        if _simple(r_name) == _simple(w_name) or w_name in reader.get("aliases", ()):
            return []
        kind = _kind(reader)
        return [
            _incompatible(
                "NAME_MISMATCH",
                (*path, "name"),
                f"the reader {kind} is named '{r_name}' but the writer's is '{w_name}'; rename"
                f" it back or add '{w_name}' to the reader {kind}'s aliases",
            )
        ]

    def fixed_size(self, reader: Any, writer: Any, path: tuple[str, ...]) -> list[Incompatibility]:
        if reader["size"] == writer["size"]:
            return []
        return [
            _incompatible(
                "FIXED_SIZE_MISMATCH",
                (*path, "size"),
                f"fixed '{reader['name']}' has size {reader['size']} in the reader but"
                f" {writer['size']} in the writer; a fixed type's size cannot change",
            )
        ]

    def enum_symbols(
        self, reader: Any, writer: Any, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        missing = sorted(set(writer["symbols"]) - set(reader["symbols"]))
        if not missing or "default" in reader:
            return []
        listed = ", ".join(f"'{symbol}'" for symbol in missing)
        return [
            _incompatible(
                "MISSING_ENUM_SYMBOLS",
                (*path, "symbols"),
                f"the reader enum '{reader['name']}' lacks writer symbols {listed}; keep them"
                " or give the reader enum a 'default' symbol",
            )
        ]

    def record_fields(
        self, reader: Any, writer: Any, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        by_name = {field["name"]: field for field in writer["fields"]}
        found = []
        for index, field in enumerate(reader["fields"]):
            field_path = (*path, "fields", str(index))
            names = [field["name"], *field.get("aliases", ())]
            matches = [by_name[name] for name in names if name in by_name]
            if matches:
                found += self.compare(field["type"], matches[0]["type"], (*field_path, "type"))
            elif "default" not in field:
                found.append(
                    _incompatible(
                        "READER_FIELD_MISSING_DEFAULT_VALUE",
                        field_path,
                        f"reader field '{field['name']}' has no default and is missing from"
                        " the writer schema; add a default",
                    )
                )
        return found


def _missing_branch(
    writer: Any, path: tuple[str, ...], closest: list[Incompatibility]
) -> Incompatibility:
    start = f"the reader union has no branch that can read the writer's {_describe(writer)}"
    if closest:
        message = f"{start}; in the closest branch, {closest[0].message}"
    else:
        message = f"{start}; add a matching branch to the reader union"
    return _incompatible("MISSING_UNION_BRANCH", path, message)


def _incompatible(rule: str, path: tuple[str, ...], message: str) -> Incompatibility:
    return Incompatibility(rule, "/" + "/".join(path), message)
