"""Weir's Python SDK: ``from weir.sdk import Admin, SchemaRegistryClient``.

Errors are the classes in ``weir.core.errors``; every one is a ``WeirError`` with ``reason``,
``grpc_code`` and ``retriable``.
"""

from __future__ import annotations

from weir.sdk._admin import Admin
from weir.sdk._admin_groups import (
    CommittedOffset,
    DeletedGroup,
    GroupDescription,
    GroupMemberInfo,
    GroupSummary,
    OffsetReset,
    PartitionLag,
    ResetResult,
    ResetTarget,
)
from weir.sdk._admin_shared import ListedOffset, OffsetSpec, PartitionInfo, TopicInfo
from weir.sdk._aio_admin import AsyncAdmin
from weir.sdk._aio_consumer import AsyncConsumer
from weir.sdk._aio_producer import AsyncProducer
from weir.sdk._aio_registry import AsyncSchemaRegistryClient
from weir.sdk._channel import DEFAULT_SERVER, DEFAULT_TIMEOUT_S
from weir.sdk._consumer import Consumer
from weir.sdk._credentials import Credentials
from weir.sdk._producer import Producer
from weir.sdk._records import (
    AsyncDeserializer,
    AsyncSerializer,
    Deserializer,
    Headers,
    Message,
    MessageField,
    RecordMetadata,
    SerializationContext,
    Serializer,
    TopicPartition,
)
from weir.sdk._registry import SchemaRegistryClient
from weir.sdk._retry import RetryPolicy
from weir.sdk._serde import (
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
    topic_subject_name_strategy,
)
from weir.sdk._serde_avro import AvroDeserializer, AvroSerializer
from weir.sdk._serde_json import JSONDeserializer, JSONSerializer
from weir.sdk._serde_protobuf import ProtobufDeserializer, ProtobufSerializer
from weir.sdk._serde_string import StringDeserializer, StringSerializer
from weir.sdk._types import (
    LATEST,
    CompatibilityCheck,
    CompatibilityLevel,
    Incompatibility,
    Mode,
    RegisteredSchema,
    Schema,
    SchemaId,
    SchemaReference,
    SchemaType,
    Subject,
    SubjectVersion,
    Version,
    VersionSelector,
)

__all__ = [
    "DEFAULT_SERVER",
    "DEFAULT_TIMEOUT_S",
    "LATEST",
    "Admin",
    "AsyncAdmin",
    "AsyncConsumer",
    "AsyncDeserializer",
    "AsyncProducer",
    "AsyncSchemaRegistryClient",
    "AsyncSerializer",
    "AvroDeserializer",
    "AvroSerializer",
    "CommittedOffset",
    "CompatibilityCheck",
    "CompatibilityLevel",
    "Consumer",
    "Credentials",
    "DeletedGroup",
    "Deserializer",
    "GroupDescription",
    "GroupMemberInfo",
    "GroupSummary",
    "Headers",
    "Incompatibility",
    "JSONDeserializer",
    "JSONSerializer",
    "ListedOffset",
    "Message",
    "MessageField",
    "Mode",
    "OffsetReset",
    "OffsetSpec",
    "PartitionInfo",
    "PartitionLag",
    "Producer",
    "ProtobufDeserializer",
    "ProtobufSerializer",
    "RecordMetadata",
    "RegisteredSchema",
    "ResetResult",
    "ResetTarget",
    "RetryPolicy",
    "Schema",
    "SchemaId",
    "SchemaReference",
    "SchemaRegistryClient",
    "SchemaType",
    "SerializationContext",
    "Serializer",
    "StringDeserializer",
    "StringSerializer",
    "Subject",
    "SubjectVersion",
    "TopicInfo",
    "TopicPartition",
    "Version",
    "VersionSelector",
    "record_subject_name_strategy",
    "topic_record_subject_name_strategy",
    "topic_subject_name_strategy",
]
