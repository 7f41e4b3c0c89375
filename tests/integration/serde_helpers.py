"""Helpers for the serializer tests: protobuf classes compiled from .proto text at test time,
and copying confluent's mock-registry schemas into Weir with the same ids (IMPORT mode)."""

from __future__ import annotations

import importlib.resources
import io
import json
import os
import tempfile
from contextlib import redirect_stderr
from pathlib import Path
from typing import Any

import grpc
from confluent_kafka.schema_registry import Schema
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_tools import protoc

from weir.v1 import registry_pb2 as pb
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc

MONEY_PROTO = """syntax = "proto3";
package acme;
message Money {
  int64 cents = 1;
  string currency = 2;
}
"""
ORDER_PROTO = """syntax = "proto3";
package acme;
import "money.proto";
import "google/protobuf/timestamp.proto";
message Header {
  string source = 1;
}
message Order {
  message Line {
    string sku = 1;
    int32 qty = 2;
  }
  string id = 1;
  acme.Money total = 2;
  repeated Line lines = 3;
  google.protobuf.Timestamp at = 4;
  map<string, string> tags = 5;
}
"""
ORDER_AVRO = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "acme",
        "fields": [
            {"name": "id", "type": "string"},
            {"name": "qty", "type": "int"},
            {"name": "price", "type": "double"},
            {"name": "note", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
            {
                "name": "status",
                "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]},
            },
        ],
    }
)
ORDER_JSON = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "qty": {"type": "integer", "minimum": 1},
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
        "required": ["id", "qty"],
    }
)


def compile_protos(files: dict[str, str]) -> descriptor_pool.DescriptorPool:
    """Compile .proto files with grpc_tools' protoc into a fresh descriptor pool."""
    include = str(importlib.resources.files("grpc_tools") / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in files.items():
            Path(tmp, name).write_text(text)
        out = os.path.join(tmp, "set.pb")
        args = ["protoc", f"-I{tmp}", f"-I{include}", "--include_imports"]
        with redirect_stderr(io.StringIO()):
            code = protoc.main([*args, f"--descriptor_set_out={out}", *files])
        assert code == 0, f"protoc failed on {list(files)}"
        fds = descriptor_pb2.FileDescriptorSet.FromString(Path(out).read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in fds.file:
        pool.Add(file)
    return pool


def message_class(pool: descriptor_pool.DescriptorPool, full_name: str) -> Any:
    """The message class for a full name in a pool."""
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def order_classes() -> dict[str, Any]:
    """Header (first in its file), Order (second), Order.Line (nested) and Money."""
    pool = compile_protos({"money.proto": MONEY_PROTO, "order.proto": ORDER_PROTO})
    names = ("acme.Header", "acme.Order", "acme.Order.Line", "acme.Money")
    return {name.removeprefix("acme."): message_class(pool, name) for name in names}


def mirror(mock: Any, address: str, subjects: list[str]) -> None:
    """Register each subject's latest mock schema in Weir with the same id and version.

    Uses IMPORT mode over raw gRPC, then puts the registry back to READWRITE.
    """
    with grpc.insecure_channel(address) as channel:
        stub = rs_grpc.RegistryServiceStub(channel)
        stub.SetMode(rs.SetModeRequest(mode=pb.MODE_IMPORT, force=True))
        for subject in subjects:
            latest = mock.get_latest_version(subject)
            schema = latest.schema
            refs = [
                pb.SchemaReference(name=r.name, subject=r.subject, version=r.version)
                for r in schema.references or []
            ]
            kind = getattr(pb, f"SCHEMA_TYPE_{schema.schema_type or 'AVRO'}")
            stub.RegisterSchema(
                rs.RegisterSchemaRequest(
                    subject=subject,
                    schema=rs.SchemaInput(
                        schema_type=kind, schema=schema.schema_str, references=refs
                    ),
                    id=latest.schema_id,
                    version=latest.version,
                )
            )
        stub.SetMode(rs.SetModeRequest(mode=pb.MODE_READWRITE, force=True))


def pad_mock(mock: Any, count: int) -> None:
    """Register unrelated schemas so the mock's next ids are not 1, 2, 3."""
    for i in range(count):
        text = json.dumps({"type": "record", "name": f"Pad{i}", "fields": []})
        mock.register_schema(f"pad-{i}", Schema(text, "AVRO"))
