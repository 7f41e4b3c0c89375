"""Protobuf schemas sent as base64 FileDescriptorProto, and the ``serialized`` format.

Confluent clients (confluent-kafka's ProtobufSerializer, and Weir's own) register a protobuf
schema as the base64 of its FileDescriptorProto, and ask for ``format=serialized`` to get one
back. The registry stores .proto text, so this module renders a descriptor as .proto text (what
Confluent stores for such input) and encodes a parsed schema's descriptor as base64. Both the
REST API and the gRPC servicer accept such input through ``proto_text``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from typing import Any

from google.protobuf import descriptor_pb2 as d
from google.protobuf.message import DecodeError

from weir.core.types import SchemaType
from weir.registry.formats.base import ParsedSchema

_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
_F = d.FieldDescriptorProto
_SCALARS = {
    value: name.removeprefix("TYPE_").lower()
    for name, value in _F.Type.items()
    if name not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}


def decode_descriptor(text: str) -> d.FileDescriptorProto | None:
    """The FileDescriptorProto a base64 schema text encodes, or None if it is not one."""
    stripped = text.strip()
    if not stripped or not _BASE64.match(stripped):
        return None
    try:
        file = d.FileDescriptorProto.FromString(base64.b64decode(stripped, validate=False))
    except (binascii.Error, DecodeError, ValueError):
        return None
    has_content = file.message_type or file.enum_type or file.service or file.package
    return file if has_content else None


def proto_text(schema_type: SchemaType, text: str) -> str:
    """Schema text as the registry stores it: a base64 protobuf descriptor becomes .proto text.

    Any other text (and any non-protobuf schema) is returned unchanged.
    """
    if schema_type != SchemaType.PROTOBUF:
        return text
    descriptor = decode_descriptor(text)
    return render(descriptor) if descriptor is not None else text


def serialized(parsed: ParsedSchema) -> str | None:
    """Base64 of a protobuf schema's FileDescriptorProto; None for other schema types."""
    file = getattr(parsed, "file", None)
    if not isinstance(file, d.FileDescriptorProto):
        return None
    return base64.b64encode(file.SerializeToString()).decode("ascii")


def render(file: d.FileDescriptorProto) -> str:
    """.proto text for a FileDescriptorProto (proto2 and proto3)."""
    proto3 = file.syntax == "proto3"
    out = [f'syntax = "{file.syntax or "proto2"}";']
    if file.package:
        out.append(f"package {file.package};")
    public, weak = set(file.public_dependency), set(file.weak_dependency)
    for i, dep in enumerate(file.dependency):
        kind = "public " if i in public else "weak " if i in weak else ""
        out.append(f'import {kind}"{dep}";')
    out.extend(f"option {o};" for o in _options(file.options))
    for message in file.message_type:
        out.extend(_message(message, proto3, ""))
    for enum in file.enum_type:
        out.extend(_enum(enum, ""))
    out.extend(_extensions(file.extension, proto3, ""))
    for service in file.service:
        out.append(f"service {service.name} {{")
        for m in service.method:
            cin = "stream " if m.client_streaming else ""
            cout = "stream " if m.server_streaming else ""
            out.append(f"  rpc {m.name}({cin}{m.input_type}) returns ({cout}{m.output_type});")
        out.append("}")
    return "\n".join(out) + "\n"


def _message(message: d.DescriptorProto, proto3: bool, pad: str) -> list[str]:
    out = [f"{pad}message {message.name} {{"]
    inner = pad + "  "
    out.extend(f"{inner}option {o};" for o in _options(message.options, skip={"map_entry"}))
    maps = {n.name: n for n in message.nested_type if n.options.map_entry}
    done_oneofs: set[int] = set()
    for field in message.field:
        if field.HasField("oneof_index") and not field.proto3_optional:
            index = field.oneof_index
            if index not in done_oneofs:
                done_oneofs.add(index)
                out.append(f"{inner}oneof {message.oneof_decl[index].name} {{")
                members = [
                    f for f in message.field if f.HasField("oneof_index") and f.oneof_index == index
                ]
                out.extend(_field(f, proto3, inner + "  ", maps, in_oneof=True) for f in members)
                out.append(f"{inner}}}")
            continue
        out.append(_field(field, proto3, inner, maps))
    for nested in message.nested_type:
        if not nested.options.map_entry:
            out.extend(_message(nested, proto3, inner))
    for enum in message.enum_type:
        out.extend(_enum(enum, inner))
    out.extend(_extensions(message.extension, proto3, inner))
    for ext in message.extension_range:
        out.append(f"{inner}extensions {_range(ext.start, ext.end)};")
    for res in message.reserved_range:
        out.append(f"{inner}reserved {_range(res.start, res.end)};")
    if message.reserved_name:
        out.append(f"{inner}reserved {', '.join(json.dumps(n) for n in message.reserved_name)};")
    out.append(f"{pad}}}")
    return out


def _field(
    field: d.FieldDescriptorProto,
    proto3: bool,
    pad: str,
    maps: dict[str, d.DescriptorProto],
    in_oneof: bool = False,
) -> str:
    entry = maps.get(field.type_name.rsplit(".", 1)[-1]) if field.type_name else None
    if entry is not None and field.label == _F.LABEL_REPEATED:
        key, value = entry.field[0], entry.field[1]
        kind = f"map<{_type(key)}, {_type(value)}>"
        label = ""
    else:
        kind = _type(field)
        label = _label(field, proto3, in_oneof)
    options = _options(field.options)
    if field.HasField("default_value"):
        options.insert(0, f"default = {_default(field)}")
    suffix = f" [{', '.join(options)}]" if options else ""
    return f"{pad}{label}{kind} {field.name} = {field.number}{suffix};"


def _label(field: d.FieldDescriptorProto, proto3: bool, in_oneof: bool) -> str:
    if in_oneof:
        return ""
    if field.label == _F.LABEL_REPEATED:
        return "repeated "
    if field.label == _F.LABEL_REQUIRED:
        return "required "
    return "optional " if not proto3 or field.proto3_optional else ""


def _type(field: d.FieldDescriptorProto) -> str:
    return _SCALARS.get(field.type) or field.type_name


def _default(field: d.FieldDescriptorProto) -> str:
    if field.type in (_F.TYPE_STRING, _F.TYPE_BYTES):
        return json.dumps(field.default_value)
    return field.default_value


def _enum(enum: d.EnumDescriptorProto, pad: str) -> list[str]:
    out = [f"{pad}enum {enum.name} {{"]
    out.extend(f"{pad}  option {o};" for o in _options(enum.options))
    for value in enum.value:
        opts = _options(value.options)
        suffix = f" [{', '.join(opts)}]" if opts else ""
        out.append(f"{pad}  {value.name} = {value.number}{suffix};")
    for r in enum.reserved_range:
        out.append(f"{pad}  reserved {_range(r.start, r.end + 1)};")
    if enum.reserved_name:
        out.append(f"{pad}  reserved {', '.join(json.dumps(n) for n in enum.reserved_name)};")
    out.append(f"{pad}}}")
    return out


def _extensions(fields: Sequence[d.FieldDescriptorProto], proto3: bool, pad: str) -> list[str]:
    out = []
    for extendee in dict.fromkeys(f.extendee for f in fields):
        out.append(f"{pad}extend {extendee} {{")
        out.extend(_field(f, proto3, pad + "  ", {}) for f in fields if f.extendee == extendee)
        out.append(f"{pad}}}")
    return out


def _range(start: int, end: int) -> str:
    """A reserved or extension range; ``end`` is exclusive, as descriptors store it."""
    if end - 1 == start:
        return str(start)
    return f"{start} to {'max' if end - 1 >= 536870911 else end - 1}"


def _options(options: object, skip: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Plain (non-extension) options that are set, as ``name = value``."""
    listed = getattr(options, "ListFields", None)
    if listed is None:
        return []
    rendered = []
    for descriptor, value in listed():
        if descriptor.is_extension or descriptor.name in skip:
            continue
        if _is_repeated(descriptor) or descriptor.message_type:
            continue
        if descriptor.enum_type is not None:
            text = descriptor.enum_type.values_by_number[value].name
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value)
        else:
            text = str(value)
        rendered.append(f"{descriptor.name} = {text}")
    return rendered


def _is_repeated(descriptor: Any) -> bool:
    """Whether an option field is repeated (protobuf 7 dropped ``label`` for ``is_repeated``)."""
    flag = getattr(descriptor, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(descriptor.label == _F.LABEL_REPEATED)
