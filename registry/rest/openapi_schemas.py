"""Component schemas of the OpenAPI document: Confluent's REST entities."""

from __future__ import annotations

from typing import Any

INT: dict[str, Any] = {"type": "integer", "format": "int32"}
"""A Java int, as Confluent's ids and versions are."""

SCHEMAS: dict[str, Any] = {
    "ErrorMessage": {
        "type": "object",
        "required": ["error_code", "message"],
        "properties": {
            "error_code": {"type": "integer", "description": "Confluent's error code"},
            "message": {"type": "string"},
        },
    },
    "SchemaReference": {
        "type": "object",
        "required": ["name", "subject", "version"],
        "properties": {"name": {"type": "string"}, "subject": {"type": "string"}, "version": INT},
    },
    "SchemaString": {
        "type": "object",
        "required": ["schema"],
        "properties": {
            "schemaType": {"type": "string", "enum": ["PROTOBUF", "JSON"]},
            "references": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SchemaReference"},
            },
            "schema": {"type": "string"},
            "maxId": INT,
        },
    },
    "Schema": {
        "type": "object",
        "required": ["subject", "version", "id", "schema"],
        "properties": {
            "subject": {"type": "string"},
            "version": INT,
            "id": INT,
            "schemaType": {"type": "string", "enum": ["PROTOBUF", "JSON"]},
            "references": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SchemaReference"},
            },
            "schema": {"type": "string"},
        },
    },
    "RegisterSchemaRequest": {
        "type": "object",
        "description": (
            "schemaType defaults to AVRO; id and version only in IMPORT mode. A PROTOBUF "
            "schema may be .proto text or base64 FileDescriptorProto, stored as .proto text."
        ),
        "properties": {
            "schema": {"type": "string"},
            "schemaType": {"type": "string", "enum": ["AVRO", "PROTOBUF", "JSON"]},
            "references": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SchemaReference"},
            },
            "id": INT,
            "version": INT,
        },
    },
    "RegisterSchemaResponse": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": INT,
            "version": INT,
            "schemaType": {"type": "string", "enum": ["PROTOBUF", "JSON"]},
            "references": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/SchemaReference"},
            },
            "schema": {"type": "string"},
        },
    },
    "SubjectVersion": {
        "type": "object",
        "required": ["subject", "version"],
        "properties": {"subject": {"type": "string"}, "version": INT},
    },
    "CompatibilityCheckResponse": {
        "type": "object",
        "required": ["is_compatible"],
        "properties": {
            "is_compatible": {"type": "boolean"},
            "messages": {"type": "array", "items": {"type": "string"}},
        },
    },
    "Config": {
        "type": "object",
        "required": ["compatibilityLevel"],
        "properties": {"compatibilityLevel": {"$ref": "#/components/schemas/CompatibilityLevel"}},
    },
    "ConfigUpdateRequest": {
        "type": "object",
        "properties": {"compatibility": {"$ref": "#/components/schemas/CompatibilityLevel"}},
    },
    "CompatibilityLevel": {
        "type": "string",
        "enum": [
            "NONE",
            "BACKWARD",
            "BACKWARD_TRANSITIVE",
            "FORWARD",
            "FORWARD_TRANSITIVE",
            "FULL",
            "FULL_TRANSITIVE",
        ],
    },
    "Mode": {
        "type": "object",
        "required": ["mode"],
        "properties": {"mode": {"type": "string", "enum": ["READWRITE", "READONLY", "IMPORT"]}},
    },
    "ServerClusterId": {
        "type": "object",
        "required": ["id", "scope"],
        "properties": {
            "id": {"type": "string"},
            "scope": {
                "type": "object",
                "properties": {
                    "path": {"type": "array", "items": {"type": "string"}},
                    "clusters": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
    },
    "ServerVersion": {
        "type": "object",
        "required": ["version"],
        "properties": {"version": {"type": "string"}, "commitId": {"type": "string"}},
    },
}
