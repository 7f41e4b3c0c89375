"""The produce gate: every record's key and value checked against the registry.

For each field the topic's mode decides: ``none`` passes bytes through, ``id`` checks that
the framed schema id is a live version of the field's subject, ``strict`` also decodes the
payload with the compiled validator for that id. Subjects come from the naming strategy:
``topic`` -> ``<topic>-value``, ``record`` -> the record's full name, ``topic_record`` ->
``<topic>-<full name>``. A refusal names the record, subject, version, field path and rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from weir.broker.log.api import NewRecord
from weir.broker.topic_config import TopicConfig
from weir.broker.topics import Topic
from weir.core.errors import InvalidRecordError, RecordTooLargeError, WeirError
from weir.core.framing import parse_header, parse_protobuf_indexes
from weir.core.types import SchemaType
from weir.registry.formats import RecordValidator
from weir.registry.service import SchemaRegistry


class InboundRecord(NamedTuple):
    """A record as a producer sent it (a NamedTuple: one is built per produced record)."""

    key: bytes | None
    """The key, or None."""
    value: bytes | None
    """The value, or None for a tombstone."""
    headers: tuple[tuple[str, bytes], ...] = ()
    """Ordered headers."""
    timestamp_ms: int | None = None
    """CreateTime, or None for now."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one record was refused."""

    index: int
    """The record's index in its batch."""
    error: WeirError
    """The error, with reason and message."""
    subject: str = ""
    """The subject tried."""
    version: int = 0
    """The subject version tried, when known."""
    field_path: str = ""
    """Where in the payload, when known."""
    rule: str = ""
    """The rule that failed."""


class Refused(Exception):
    """Raised by RecordGate.check; carries the Refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.error.message)
        self.refusal = refusal


MAX_HEADERS = 100
"""Default limit on headers per record."""
MAX_HEADER_KEY_BYTES = 65535
"""The longest header key (UTF-8) a stored batch can hold: its length is 16 bits."""
MAX_HEADER_KEY_CHARS = MAX_HEADER_KEY_BYTES // 4
"""Keys up to this many characters always fit, whatever they hold."""
_UNCHECKED = (0, 0)
"""(schema id, subject version) of a field that is not checked."""


@dataclass(frozen=True, slots=True)
class _Route:
    schema_id: int
    protobuf: bool
    by_record_name: bool
    """Protobuf under a record strategy: the subject depends on the message index."""
    subject: str
    version: int
    validator: RecordValidator | None
    checked: tuple[int, int]
    """(schema_id, version), returned for every record on this route."""


class RecordGate:
    """Validates records for topics against one SchemaRegistry.

    What every record with the same 5-byte header needs (schema lookup, subject membership,
    compiled validator) is worked out once and cached per topic config; the cache empties
    when the registry changes or the topic's config object is replaced.
    """

    def __init__(self, registry: SchemaRegistry, max_headers: int = MAX_HEADERS) -> None:
        self.registry = registry
        self.max_headers = max_headers
        """Limit: headers on one record (max_headers_per_record)."""
        self._routes: dict[str, tuple[TopicConfig, dict[tuple[str, bytes], _Route]]] = {}
        self._generation = registry.generation

    def check(self, topic: Topic, index: int, record: InboundRecord, now_ms: int) -> NewRecord:
        """The record to append, or raise Refused."""
        config = topic.config
        key_bytes, value_bytes, headers, timestamp = record
        size = len(key_bytes or b"") + len(value_bytes or b"")
        if headers:
            if len(headers) > self.max_headers:
                raise Refused(_too_many_headers(index, len(headers), self.max_headers))
            size += sum(len(k) + len(v) for k, v in headers)
            if size > MAX_HEADER_KEY_CHARS:  # only then can a key be too long
                _check_header_keys(index, headers)
        if size > config.max_message_bytes:
            raise Refused(
                Refusal(
                    index,
                    RecordTooLargeError(
                        f"record {index} is {size} bytes, over max.message.bytes="
                        f"{config.max_message_bytes} of topic '{topic.name}'",
                        metadata={"index": str(index), "limit": "max.message.bytes"},
                    ),
                    rule="max.message.bytes",
                )
            )
        if key_bytes is None and "compact" in config.cleanup_policy:
            raise Refused(
                Refusal(
                    index,
                    InvalidRecordError(
                        f"record {index} has no key, but topic '{topic.name}' is compacted "
                        "(cleanup.policy=compact) and compaction keeps the newest record per key; "
                        "give the record a key",
                        metadata={"index": str(index), "rule": "compacted-topic-needs-key"},
                    ),
                    rule="compacted-topic-needs-key",
                )
            )
        routes = self._topic_routes(topic)
        key_id = (
            _UNCHECKED[0]
            if key_bytes is None or config.key_schema_validation == "none"
            else self._field(
                topic, routes, index, "key", key_bytes, mode=config.key_schema_validation
            )[0]
        )
        value_id, version = (
            _UNCHECKED
            if value_bytes is None or config.value_schema_validation == "none"
            else self._field(
                topic, routes, index, "value", value_bytes, mode=config.value_schema_validation
            )
        )
        if timestamp is None or config.message_timestamp_type == "LogAppendTime":
            timestamp = now_ms
        return NewRecord(value_bytes, key_bytes, headers, timestamp, key_id, value_id, version)

    def _topic_routes(self, topic: Topic) -> dict[tuple[str, bytes], _Route]:
        if self._generation != self.registry.generation:
            self._routes.clear()
            self._generation = self.registry.generation
        entry = self._routes.get(topic.name)
        if entry is None or entry[0] is not topic.config:
            entry = self._routes[topic.name] = (topic.config, {})
        return entry[1]

    def _field(
        self,
        topic: Topic,
        routes: dict[tuple[str, bytes], _Route],
        index: int,
        part: str,
        data: bytes,
        *,
        mode: str,
    ) -> tuple[int, int]:
        route = routes.get((part, data[:5]))
        subject = route.subject if route is not None else ""
        version = route.version if route is not None else 0
        try:
            if route is None:
                route = routes[(part, data[:5])] = self._route(topic, part, data, mode)
                subject, version = route.subject, route.version
            if not route.protobuf:
                if route.validator is not None:
                    route.validator.validate(data[5:], ())
                return route.checked
            indexes, start = parse_protobuf_indexes(data)
            if route.by_record_name:
                subject = self._subject(topic, part, route.schema_id, indexes)
                version = self._version(subject, route.schema_id, part)
            if route.validator is not None:
                route.validator.validate(data[start:], indexes)
            return (route.schema_id, version)
        except WeirError as e:
            raise Refused(
                _refusal(index, topic, part, subject=subject, version=version, error=e)
            ) from None

    def _route(self, topic: Topic, part: str, data: bytes, mode: str) -> _Route:
        """What every record with this header needs: checked once per schema id."""
        schema_id = parse_header(data)
        protobuf = self._schema_type(schema_id, topic, part) == SchemaType.PROTOBUF
        strategy = getattr(topic.config, f"{part}_subject_name_strategy")
        by_record_name = protobuf and strategy != "topic"
        subject = version = None
        if not by_record_name:
            subject = self._subject(topic, part, schema_id, ())
            version = self._version(subject, schema_id, part)
        validator = self.registry.validator(schema_id) if mode == "strict" else None
        version = version or 0
        return _Route(
            schema_id,
            protobuf,
            by_record_name,
            subject or "",
            version,
            validator,
            (schema_id, version),
        )

    def _schema_type(self, schema_id: int, topic: Topic, part: str) -> SchemaType:
        try:
            return self.registry.get_schema(schema_id).schema_type
        except WeirError:
            raise InvalidRecordError(
                f"{part} schema id {schema_id} is not registered; register the schema before "
                f"producing to '{topic.name}'",
                metadata={"rule": "unknown-schema-id"},
            ) from None

    def _subject(self, topic: Topic, part: str, schema_id: int, indexes: tuple[int, ...]) -> str:
        config = topic.config
        strategy = (
            config.key_subject_name_strategy
            if part == "key"
            else config.value_subject_name_strategy
        )
        if strategy == "topic":
            return f"{topic.name}-{part}"
        name = self.registry.parsed(schema_id).record_name(indexes)
        if not name:
            raise InvalidRecordError(
                f"schema id {schema_id} has no record name, which the {strategy} subject-name "
                f"strategy of '{topic.name}' needs",
                metadata={"rule": "subject-name-strategy"},
            )
        return name if strategy == "record" else f"{topic.name}-{name}"

    def _version(self, subject: str, schema_id: int, part: str) -> int:
        version = self.registry.version_of(subject, schema_id)
        if version is None:
            raise InvalidRecordError(
                f"{part} schema id {schema_id} is not a live version of subject '{subject}'; "
                f"register it under '{subject}' first",
                metadata={"rule": "subject-membership"},
            )
        return version


def _check_header_keys(index: int, headers: tuple[tuple[str, bytes], ...]) -> None:
    """Refuse the request when a header key is longer than the log format can store."""
    for h, (key, _) in enumerate(headers):
        if len(key) > MAX_HEADER_KEY_CHARS and len(key.encode()) > MAX_HEADER_KEY_BYTES:
            raise InvalidRecordError(
                f"record {index} header {h} has a {len(key.encode())}-byte key, over the "
                f"limit of {MAX_HEADER_KEY_BYTES} bytes (UTF-8) the log format stores; "
                "use a shorter header name",
                metadata={"index": str(index), "header": str(h), "limit": "header_key_bytes"},
            )


def _too_many_headers(index: int, count: int, limit: int) -> Refusal:
    return Refusal(
        index,
        InvalidRecordError(
            f"record {index} has {count} headers, over the limit max_headers_per_record={limit}",
            metadata={"index": str(index), "limit": "max_headers_per_record"},
        ),
        rule="max_headers_per_record",
    )


def _refusal(
    index: int, topic: Topic, part: str, *, subject: str, version: int, error: WeirError
) -> Refusal:
    where = f"subject '{subject}' version {version}" if version else f"subject '{subject}'"
    if not subject:
        where = f"topic '{topic.name}'"
    path = error.metadata.get("path", error.metadata.get("field", ""))
    rule = error.metadata.get("rule", error.reason)
    message = f"record {index} {part} refused against {where}: {error.message}"
    wrapped = type(error)(
        message, metadata={**error.metadata, "index": str(index), "subject": subject}
    )
    return Refusal(index, wrapped, subject, version, path, rule)
