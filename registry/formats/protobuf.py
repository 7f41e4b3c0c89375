"""The PROTOBUF schema format: .proto text compiled by protoc into descriptors.

A reference's ``name`` is the path the schema imports (``import "common/money.proto";``)
and its schema is another ProtobufSchema; references of references are written too. The
google/protobuf well-known types (timestamp, any, duration, wrappers, struct, empty, ...)
import without references.

The canonical form is the text-format rendering of the compiled FileDescriptorProto with
no file name, no source info and imports sorted. It is a function of the descriptor, so
whitespace, comments, line endings, option spelling and name qualification (``foo.Bar``
vs ``Bar``) do not change it; declaration order does, because message indexes depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from google.protobuf import text_format

from weir.core.errors import InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.formats.base import ParsedSchema, RecordValidator, ResolvedReference
from weir.registry.formats.protobuf_compile import check_import_path, compile_proto
from weir.registry.formats.protobuf_types import FileProto, ProtoType, index_types
from weir.registry.formats.protobuf_validate import ProtobufValidator


@dataclass(frozen=True, slots=True, eq=False)
class ProtobufSchema(ParsedSchema):
    """A compiled .proto schema. Its descriptor messages are shared: never mutate them."""

    text: str
    """The text as given."""
    references: tuple[ResolvedReference, ...]
    """The references it was parsed with (import path and parsed schema)."""
    file: FileProto
    """The schema's own FileDescriptorProto, without source info."""
    files: tuple[FileProto, ...]
    """Every file it compiled with, imports first; ``file`` is last."""
    types: Mapping[str, ProtoType] = field(repr=False)
    """Every message and enum of ``files`` by fully qualified name (no leading dot)."""
    canonical_text: str = field(repr=False)
    """The canonical form, computed once."""

    schema_type = SchemaType.PROTOBUF

    @property
    def canonical(self) -> str:
        """Text-format FileDescriptorProto: stable under formatting and name qualification."""
        return self.canonical_text

    @property
    def package(self) -> str:
        """The ``package`` declaration ('' when there is none)."""
        return self.file.package

    def record_name(self, message_indexes: Sequence[int] = ()) -> str | None:
        """The full name of the message picked by the index path (first message for ())."""
        names: list[str] = [self.file.package] if self.file.package else []
        messages = self.file.message_type
        for index in message_indexes or (0,):
            if index >= len(messages):
                return None
            names.append(messages[index].name)
            messages = messages[index].nested_type
        return ".".join(names)

    def validator(self) -> RecordValidator:
        """Build message classes in a private pool; payloads are picked by message index."""
        return ProtobufValidator(self.files)


class ProtobufFormat:
    """The PROTOBUF schema language."""

    schema_type = SchemaType.PROTOBUF

    def parse(self, text: str, references: Sequence[ResolvedReference] = ()) -> ProtobufSchema:
        """Compile .proto text with its references; errors name the line and column."""
        if not text.strip():
            raise InvalidSchemaError("the Protobuf schema is empty; give .proto text")
        refs = tuple(references)
        compiled = compile_proto(text, _import_files(refs))
        return ProtobufSchema(
            text=text,
            references=refs,
            file=compiled.main,
            files=compiled.files,
            types=index_types(compiled.files),
            canonical_text=canonical_form(compiled.main),
        )


def canonical_form(file: FileProto) -> str:
    """Render a FileDescriptorProto deterministically, without name, source info or import order."""
    copy = FileProto()
    copy.CopyFrom(file)
    copy.ClearField("name")
    copy.ClearField("source_code_info")
    deps = list(copy.dependency)
    public = {deps[i] for i in copy.public_dependency}
    weak = {deps[i] for i in copy.weak_dependency}
    ordered = sorted(deps)
    copy.ClearField("dependency")
    copy.ClearField("public_dependency")
    copy.ClearField("weak_dependency")
    copy.dependency.extend(ordered)
    copy.public_dependency.extend(i for i, d in enumerate(ordered) if d in public)
    copy.weak_dependency.extend(i for i, d in enumerate(ordered) if d in weak)
    return text_format.MessageToString(copy, print_unknown_fields=True)


def _import_files(references: Sequence[ResolvedReference]) -> dict[str, str]:
    """Import path -> .proto text for every reference, recursively."""
    files: dict[str, str] = {}
    pending = list(references)
    while pending:
        ref = pending.pop()
        check_import_path(ref.name)
        if not isinstance(ref.schema, ProtobufSchema):
            raise InvalidReferenceError(
                f"reference {ref.name!r} is a {ref.schema.schema_type} schema; a .proto file "
                "can only import PROTOBUF schemas",
                metadata={"reference": ref.name},
            )
        known = files.get(ref.name)
        if known is not None and known != ref.schema.text:
            raise InvalidReferenceError(
                f"two different schemas are referenced as {ref.name!r}; every import path "
                "must name one schema",
                metadata={"reference": ref.name},
            )
        if known is None:
            files[ref.name] = ref.schema.text
            pending.extend(ref.schema.references)
    return files


PROTOBUF = ProtobufFormat()
