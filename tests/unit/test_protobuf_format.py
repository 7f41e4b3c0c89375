"""The PROTOBUF format: protoc errors, references, well-known types, canonical form, validator."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from google.protobuf import descriptor_pool, message_factory

from weir.core.errors import InvalidRecordError, InvalidReferenceError, InvalidSchemaError
from weir.core.types import SchemaType
from weir.registry.compatibility.protobuf import check
from weir.registry.formats import get_format
from weir.registry.formats.base import ParsedSchema, RecordValidator, ResolvedReference
from weir.registry.formats.protobuf import PROTOBUF, ProtobufSchema

MONEY = """syntax = "proto3";
package common;
message Money { string currency = 1; int64 units = 2; }
"""

ORDER = """syntax = "proto3";
package shop;
import "common/money.proto";
import "google/protobuf/timestamp.proto";

message Order {
  string id = 1;
  common.Money total = 2;
  google.protobuf.Timestamp placed_at = 3;
  repeated Line lines = 4;
  message Line { string sku = 1; int32 quantity = 2; }
}

message Refund {
  string order_id = 1;
  message Reason { string text = 1; }
  message Item { string sku = 1; }
}
"""

PROTO2 = """syntax = "proto2";
message Account {
  required string id = 1;
  optional Owner owner = 2;
  message Owner { required string name = 1; }
}
"""


def money_ref() -> ResolvedReference:
    return ResolvedReference("common/money.proto", PROTOBUF.parse(MONEY))


def order() -> ProtobufSchema:
    return PROTOBUF.parse(ORDER, [money_ref()])


def message_class(schema: ProtobufSchema, full_name: str) -> type:
    pool = descriptor_pool.DescriptorPool()
    for file in schema.files:
        pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


# -- parsing and errors -------------------------------------------------------------------


def test_registered_under_its_type() -> None:
    assert get_format(SchemaType.PROTOBUF) is PROTOBUF
    schema = order()
    assert schema.schema_type == SchemaType.PROTOBUF
    assert schema.package == "shop"
    assert [m.name for m in schema.file.message_type] == ["Order", "Refund"]
    assert list(schema.file.dependency) == [
        "common/money.proto",
        "google/protobuf/timestamp.proto",
    ]
    assert {"shop.Order.Line", "common.Money", "google.protobuf.Timestamp"} <= set(schema.types)


def test_syntax_error_names_line_and_column() -> None:
    text = 'syntax = "proto3";\nmessage M {\n  int32 a = 1\n}\n'
    with pytest.raises(InvalidSchemaError) as info:
        PROTOBUF.parse(text)
    assert 'line 4, column 1: Expected ";"' in str(info.value)
    assert "/tmp" not in str(info.value)


def test_unknown_type_names_the_type_and_position() -> None:
    text = 'syntax = "proto3";\nmessage M {\n  Missing thing = 1;\n}\n'
    with pytest.raises(InvalidSchemaError) as info:
        PROTOBUF.parse(text)
    assert 'line 3, column 3: "Missing" is not defined.' in str(info.value)


def test_duplicate_field_number_is_rejected() -> None:
    with pytest.raises(InvalidSchemaError, match="Field number 1 has already been used"):
        PROTOBUF.parse('syntax = "proto3";\nmessage M { int32 a = 1; int32 b = 1; }\n')


def test_missing_import_is_a_reference_error_naming_it() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        PROTOBUF.parse(ORDER)
    assert '"common/money.proto"' in str(info.value)
    assert info.value.metadata["import"] == "common/money.proto"


def test_empty_text_is_rejected() -> None:
    with pytest.raises(InvalidSchemaError, match="empty"):
        PROTOBUF.parse("  \n")


def test_protoc_output_does_not_leak_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidSchemaError):
        PROTOBUF.parse('syntax = "proto3";\nmessage M { strin x = 1; }\n')
    PROTOBUF.parse('syntax = "proto3";\nimport "google/protobuf/any.proto";\nmessage M {}\n')
    captured = capfd.readouterr()
    assert "strin" not in captured.err
    assert "unused" not in captured.err


def test_parallel_parses_keep_their_own_errors() -> None:
    results: dict[int, str] = {}

    def work(n: int) -> None:
        text = f'syntax = "proto3";\nmessage M{n} {{ Unknown{n} x = 1; }}\n'
        try:
            PROTOBUF.parse(text)
        except InvalidSchemaError as exc:
            results[n] = str(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(8))
    for n, message in results.items():
        assert f'"Unknown{n}" is not defined' in message


# -- references and well-known types -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "type_name"),
    [
        ("google/protobuf/timestamp.proto", "google.protobuf.Timestamp"),
        ("google/protobuf/duration.proto", "google.protobuf.Duration"),
        ("google/protobuf/any.proto", "google.protobuf.Any"),
        ("google/protobuf/wrappers.proto", "google.protobuf.StringValue"),
        ("google/protobuf/struct.proto", "google.protobuf.Struct"),
        ("google/protobuf/empty.proto", "google.protobuf.Empty"),
        ("google/protobuf/field_mask.proto", "google.protobuf.FieldMask"),
    ],
)
def test_well_known_types_need_no_reference(path: str, type_name: str) -> None:
    schema = PROTOBUF.parse(
        f'syntax = "proto3";\nimport "{path}";\nmessage M {{ {type_name} v = 1; }}\n'
    )
    assert schema.file.message_type[0].field[0].type_name == f".{type_name}"
    assert schema.references == ()


def test_references_of_references_are_written_too() -> None:
    base = PROTOBUF.parse('syntax = "proto3";\npackage b;\nmessage Base { int32 n = 1; }\n')
    mid_text = (
        'syntax = "proto3";\npackage m;\nimport "b/base.proto";\nmessage Mid { b.Base base = 1; }\n'
    )
    mid = PROTOBUF.parse(mid_text, [ResolvedReference("b/base.proto", base)])
    top = PROTOBUF.parse(
        'syntax = "proto3";\nimport "m/mid.proto";\nmessage Top { m.Mid mid = 1; }\n',
        [ResolvedReference("m/mid.proto", mid)],
    )
    assert [f.name for f in top.files] == ["b/base.proto", "m/mid.proto", "schema.proto"]
    cls = message_class(top, "Top")
    record = cls()
    record.mid.base.n = 7
    top.validator().validate(record.SerializeToString())


def test_reference_named_like_the_main_file() -> None:
    ref = ResolvedReference("schema.proto", PROTOBUF.parse(MONEY))
    schema = PROTOBUF.parse(
        'syntax = "proto3";\nimport "schema.proto";\nmessage M { common.Money m = 1; }\n', [ref]
    )
    assert schema.files[0].package == "common"
    assert schema.file.dependency == ["schema.proto"]


@pytest.mark.parametrize("name", ["../escape.proto", "/etc/abs.proto", "", "a\\b.proto"])
def test_reference_names_must_be_relative_paths(name: str) -> None:
    with pytest.raises(InvalidReferenceError, match="relative import path"):
        PROTOBUF.parse(ORDER, [ResolvedReference(name, PROTOBUF.parse(MONEY))])


def test_one_import_path_cannot_name_two_schemas() -> None:
    other = PROTOBUF.parse('syntax = "proto3";\npackage common;\nmessage Money { string c = 1; }\n')
    nested = PROTOBUF.parse(
        'syntax = "proto3";\nimport "common/money.proto";\nmessage N { common.Money m = 1; }\n',
        [ResolvedReference("common/money.proto", other)],
    )
    refs = [money_ref(), ResolvedReference("n.proto", nested)]
    with pytest.raises(InvalidReferenceError, match="two different schemas"):
        PROTOBUF.parse(ORDER, refs)


class _NotProto(ParsedSchema):
    schema_type = SchemaType.AVRO
    text = "{}"
    references = ()

    @property
    def canonical(self) -> str:
        return "{}"

    def validator(self) -> RecordValidator:
        raise NotImplementedError


def test_reference_must_be_a_protobuf_schema() -> None:
    with pytest.raises(InvalidReferenceError, match="AVRO"):
        PROTOBUF.parse(ORDER, [ResolvedReference("common/money.proto", _NotProto())])


# -- canonical form ----------------------------------------------------------------------------


def test_canonical_ignores_formatting_comments_and_qualification() -> None:
    messy = (
        "// an order\r\nsyntax='proto3';package shop;\r\n"
        'import "google/protobuf/timestamp.proto";import "common/money.proto";\r\n'
        "message Order{/* id */string id=1;.common.Money total=2;"
        ".google.protobuf.Timestamp placed_at=3;repeated .shop.Order.Line lines=4;"
        "message Line{string sku=1;int32 quantity=2;}}\r\n"
        "message Refund{string order_id=1;message Reason{string text=1;}"
        "message Item{string sku=1;}}"
    )
    assert PROTOBUF.parse(messy, [money_ref()]).canonical == order().canonical
    assert PROTOBUF.parse(messy, [money_ref()]).fingerprint == order().fingerprint


def test_canonical_changes_with_meaning() -> None:
    changed = ORDER.replace("int32 quantity = 2", "int64 quantity = 2")
    assert PROTOBUF.parse(changed, [money_ref()]).canonical != order().canonical
    reordered = ORDER.replace("string id = 1;", "string id = 5;")
    assert PROTOBUF.parse(reordered, [money_ref()]).fingerprint != order().fingerprint


# -- validator ---------------------------------------------------------------------------------


def test_validator_accepts_a_good_payload_and_rejects_garbage() -> None:
    schema = order()
    record = message_class(schema, "shop.Order")()
    record.id = "o-1"
    record.total.currency = "EUR"
    record.lines.add(sku="A-1", quantity=2)
    validator = schema.validator()
    validator.validate(record.SerializeToString())
    validator.validate(record.SerializeToString(), [0])
    with pytest.raises(InvalidRecordError, match=r"shop\.Order"):
        validator.validate(b"\x0a\x09abc")  # field 1 claims 9 bytes, has 3


def test_validator_rejects_invalid_utf8_in_proto3_strings() -> None:
    with pytest.raises(InvalidRecordError):
        order().validator().validate(b"\x0a\x02\xff\xfe")


@pytest.mark.parametrize(
    ("indexes", "full_name"),
    [
        ((), "shop.Order"),
        ((0,), "shop.Order"),
        ((1,), "shop.Refund"),
        ((0, 0), "shop.Order.Line"),
        ((1, 0), "shop.Refund.Reason"),
        ((1, 1), "shop.Refund.Item"),
    ],
)
def test_message_index_paths(indexes: Sequence[int], full_name: str) -> None:
    schema = order()
    validator = schema.validator()
    record = message_class(schema, full_name)()
    setattr(record, record.DESCRIPTOR.fields[0].name, "x")
    validator.validate(record.SerializeToString(), indexes)
    with pytest.raises(InvalidRecordError, match=full_name.replace(".", r"\.")):
        validator.validate(b"\x0a\x09abc", indexes)


@pytest.mark.parametrize("indexes", [(2,), (0, 1), (1, 2), (0, 0, 0), (-1,)])
def test_unknown_message_index_path_is_named(indexes: Sequence[int]) -> None:
    with pytest.raises(InvalidRecordError) as info:
        order().validator().validate(b"", indexes)
    assert str(list(indexes)) in str(info.value)


def test_proto2_required_fields_are_checked() -> None:
    schema = PROTOBUF.parse(PROTO2)
    validator = schema.validator()
    cls = message_class(schema, "Account")
    good = cls(id="a-1")
    validator.validate(good.SerializeToString())
    with pytest.raises(InvalidRecordError, match=r"\bid\b"):
        validator.validate(b"")
    nested = cls(id="a-2")
    nested.owner.SetInParent()
    with pytest.raises(InvalidRecordError, match=r"owner\.name"):
        validator.validate(nested.SerializePartialToString())


def test_two_schemas_may_declare_the_same_names() -> None:
    text = PROTOBUF.parse('syntax = "proto3";\nmessage M { string a = 1; }\n').validator()
    raw = PROTOBUF.parse('syntax = "proto3";\nmessage M { bytes a = 1; }\n').validator()
    raw.validate(b"\x0a\x01\xff")
    with pytest.raises(InvalidRecordError):
        text.validate(b"\x0a\x01\xff")  # not UTF-8, so not a proto3 string


# -- compatibility paths and messages -------------------------------------------------------------


def test_incompatibilities_use_confluent_paths_and_name_the_field() -> None:
    old = PROTOBUF.parse('syntax = "proto3";\nmessage T { string s = 1; int32 n = 2; }\n')
    new = PROTOBUF.parse('syntax = "proto3";\nmessage T { string s = 1; string n = 2; }\n')
    [found] = check(reader=new, writer=old)
    assert (found.rule, found.path) == ("FIELD_SCALAR_KIND_CHANGED", "#/T/2")
    assert "2 (n)" in found.message
    assert "int32" in found.message
    assert "string" in found.message
    assert check(reader=old, writer=old) == []


def test_a_type_reached_twice_is_reported_once() -> None:
    old = PROTOBUF.parse(
        'syntax = "proto3";\nmessage N { repeated E e = 1; message E { N t = 1; int32 w = 2; } }\n'
    )
    new = PROTOBUF.parse(
        'syntax = "proto3";\nmessage N { repeated E e = 1; message E { N t = 1; string w = 2; } }\n'
    )
    found = [(i.rule, i.path) for i in check(reader=new, writer=old)]
    assert found == [("FIELD_SCALAR_KIND_CHANGED", "#/N/E/2")]
