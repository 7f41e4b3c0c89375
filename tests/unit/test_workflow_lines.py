"""Finding the line of the field an incompatibility or lint finding is about."""

from __future__ import annotations

import json

import pytest

from weir.core.types import CompatibilityLevel, SchemaType
from weir.registry.compatibility import check_compatibility
from weir.registry.formats import get_format
from weir.sdk.cli._workflow_lines import line_of_key, locate

AVRO = """{
  "type": "record", "name": "Order", "namespace": "acme",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "line", "type": {
      "type": "record", "name": "Line",
      "fields": [
        {"name": "id", "type": "long"},
        {"name": "qty", "type": "int"}
      ]
    }}
  ]
}
"""

PROTO = """syntax = "proto3";
package acme;
// Order mentions Line before the message itself.
message Order {
  string id = 1;
  message Line {
    int64 id = 1;
    int32 qty = 2;
  }
  Line line = 2;
}
"""

ONEOF = """syntax = "proto3";
message Order {
  // not this: id = 3
  string id = 1;
  oneof payment {
    string card = 2;
    string iban = 3;
  }
}
enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1;
}
"""

JSON = """{
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "line": {
      "type": "object",
      "properties": {
        "id": {"type": "integer"}
      }
    }
  }
}
"""


@pytest.mark.parametrize(
    ("schema_type", "text", "path", "line"),
    [
        (SchemaType.AVRO, AVRO, "/fields/0", 4),
        (SchemaType.AVRO, AVRO, "/fields/1/type/fields/0/type", 8),
        (SchemaType.AVRO, AVRO, "/fields/1/type/fields/1", 9),
        (SchemaType.AVRO, AVRO, "/fields/7", 2),  # gone: the record's line
        (SchemaType.PROTOBUF, PROTO, "#/Order/1", 5),
        (SchemaType.PROTOBUF, PROTO, "#/Order/Line/1", 7),
        (SchemaType.PROTOBUF, PROTO, "#/Order/Line/2", 8),
        (SchemaType.PROTOBUF, PROTO, "#/Order/2", 10),
        (SchemaType.PROTOBUF, PROTO, "#/Order", 4),
        (SchemaType.PROTOBUF, PROTO, "#/Order/Line", 6),
        (SchemaType.PROTOBUF, PROTO, "#/Order/9", 4),
        (SchemaType.PROTOBUF, ONEOF, "#/Order/3", 7),
        (SchemaType.PROTOBUF, ONEOF, "#/Status/STATUS_OPEN", 12),
        (SchemaType.JSON, JSON, "/properties/id", 4),
        (SchemaType.JSON, JSON, "/properties/line/properties/id/type", 8),
        (SchemaType.JSON, JSON, "/", 1),
    ],
)
def test_locate(schema_type: SchemaType, text: str, path: str, line: int) -> None:
    assert locate(schema_type, text, path) == line


def test_engine_paths_land_on_the_changed_field() -> None:
    avro = get_format(SchemaType.AVRO)
    old = avro.parse(AVRO)
    new_text = AVRO.replace('"name": "qty", "type": "int"', '"name": "qty", "type": "string"')
    result = check_compatibility(CompatibilityLevel.BACKWARD, avro.parse(new_text), [old])
    (found,) = result.incompatibilities
    assert locate(SchemaType.AVRO, new_text, found.path) == 9


def test_forward_paths_count_fields_in_the_old_schema() -> None:
    old = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    new = {"type": "record", "name": "R", "fields": []}
    new_text = json.dumps(new, indent=2)
    # FORWARD: the old schema reads; its field 0 ("a") is gone from the new file: record line.
    assert locate(SchemaType.AVRO, new_text, "/fields/0", json.dumps(old)) == 3


def test_line_of_key() -> None:
    assert line_of_key(JSON, "properties") == 3
    assert line_of_key(JSON, "absent") == 1
