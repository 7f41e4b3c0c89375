"""SchemaRegistryClient against a real in-process server over a real gRPC channel."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

import pytest

from weir.core import errors
from weir.sdk import (
    CompatibilityLevel,
    Mode,
    RegisteredSchema,
    SchemaId,
    SchemaReference,
    SchemaRegistryClient,
    SchemaType,
    Version,
)


def avro_record(name: str, *fields: tuple[str, str] | tuple[str, str, object]) -> str:
    """An Avro record; each field is (name, type) or (name, type, default)."""
    out = []
    for field in fields:
        entry: dict[str, object] = {"name": field[0], "type": field[1]}
        if len(field) == 3:
            entry["default"] = field[2]
        out.append(entry)
    return json.dumps({"type": "record", "name": name, "namespace": "acme", "fields": out})


ORDER_V1 = avro_record("Order", ("id", "string"))
ORDER_V2 = avro_record("Order", ("id", "string"), ("qty", "int", 0))
ORDER_BREAKING = avro_record("Order", ("id", "string"), ("qty", "int"))
MONEY_AVRO = avro_record("Money", ("cents", "long"), ("currency", "string"))
INVOICE_AVRO = json.dumps(
    {
        "type": "record",
        "name": "Invoice",
        "namespace": "acme",
        "fields": [{"name": "total", "type": "acme.Money"}],
    }
)
MONEY_PROTO = 'syntax = "proto3";\npackage acme;\nmessage Money { int64 cents = 1; }\n'
ORDER_PROTO = (
    'syntax = "proto3";\npackage acme;\nimport "money.proto";\n'
    "message Order { string id = 1; acme.Money total = 2; }\n"
)
ADDRESS_JSON = json.dumps({"type": "object", "properties": {"city": {"type": "string"}}})
USER_JSON = json.dumps(
    {"type": "object", "properties": {"name": {"type": "string"}, "home": {"$ref": "address.json"}}}
)


@pytest.fixture
def client(server) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient(server.address, timeout_s=10) as c:
        yield c


def test_register_is_idempotent_and_versions_grow(client: SchemaRegistryClient) -> None:
    first = client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    assert first == RegisteredSchema(SchemaId(1), Version(1))
    assert client.register("orders-value", ORDER_V1, "avro") == first
    pretty = json.dumps(json.loads(ORDER_V1), indent=4)
    assert client.register("orders-value", pretty, SchemaType.AVRO) == first
    second = client.register("orders-value", ORDER_V2, SchemaType.AVRO)
    assert second.version == 2
    assert second.id != first.id
    other = client.register("archive-value", ORDER_V1, SchemaType.AVRO)
    assert other == RegisteredSchema(first.id, Version(1))


def test_reads_by_id_version_latest_and_lists(client: SchemaRegistryClient) -> None:
    one = client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    two = client.register("orders-value", ORDER_V2, SchemaType.AVRO)
    client.register("payments-value", ORDER_V1, SchemaType.AVRO)

    schema = client.get_schema(one.id)
    assert (schema.id, schema.schema_type, schema.text, schema.references) == (
        one.id,
        SchemaType.AVRO,
        ORDER_V1,
        (),
    )
    latest = client.get_version("orders-value")
    assert (latest.version, latest.deleted) == (2, False)
    assert latest.schema is not None
    assert (latest.schema.id, latest.schema.text) == (two.id, ORDER_V2)
    assert client.get_version("orders-value", "latest") == latest
    v1 = client.get_version("orders-value", 1)
    assert v1.schema is not None
    assert v1.schema.text == ORDER_V1
    assert client.list_subjects() == ["orders-value", "payments-value"]
    assert client.list_subjects(prefix="pay") == ["payments-value"]
    assert client.list_versions("orders-value") == [1, 2]
    holders = client.get_schema_versions(one.id)
    assert [(h.subject, h.version) for h in holders] == [("orders-value", 1), ("payments-value", 1)]
    assert all(h.schema is None for h in holders)


def test_lookup(client: SchemaRegistryClient) -> None:
    client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    client.register("orders-value", ORDER_V2, SchemaType.AVRO)
    found = client.lookup("orders-value", json.dumps(json.loads(ORDER_V1), indent=2), "AVRO")
    assert found.version == 1
    assert found.schema is not None
    assert found.schema.text == ORDER_V1
    with pytest.raises(errors.SchemaNotFoundError):
        client.lookup("orders-value", MONEY_AVRO, SchemaType.AVRO)


def test_check_compatibility(client: SchemaRegistryClient) -> None:
    client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    ok = client.check_compatibility("orders-value", ORDER_V2, SchemaType.AVRO)
    assert ok.compatible
    assert ok.level == CompatibilityLevel.BACKWARD
    assert ok.incompatibilities == ()
    bad = client.check_compatibility("orders-value", ORDER_BREAKING, SchemaType.AVRO, 1)
    assert not bad.compatible
    assert len(bad.incompatibilities) == 1
    problem = bad.incompatibilities[0]
    assert problem.rule
    assert "qty" in problem.message
    assert problem.path.startswith("/fields")
    assert (problem.level, problem.version) == (CompatibilityLevel.BACKWARD, 1)
    assert not client.check_compatibility(
        "orders-value", ORDER_BREAKING, SchemaType.AVRO, "latest"
    ).compatible
    with pytest.raises(errors.IncompatibleSchemaError) as caught:
        client.register("orders-value", ORDER_BREAKING, SchemaType.AVRO)
    assert json.loads(caught.value.metadata["incompatibilities"])[0]["rule"] == problem.rule
    assert client.list_versions("orders-value") == [1]
    # A new subject has no history: anything is compatible.
    assert client.check_compatibility("fresh-value", ORDER_BREAKING, SchemaType.AVRO).compatible


def test_soft_and_permanent_delete(client: SchemaRegistryClient) -> None:
    one = client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    client.register("orders-value", ORDER_V2, SchemaType.AVRO)
    with pytest.raises(errors.VersionNotSoftDeletedError):
        client.delete_version("orders-value", 1, permanent=True)
    assert client.delete_version("orders-value", 1) == 1
    assert client.list_versions("orders-value") == [2]
    assert client.list_versions("orders-value", include_deleted=True) == [1, 2]
    with pytest.raises(errors.VersionNotFoundError, match="soft-deleted"):
        client.get_version("orders-value", 1)
    deleted = client.get_version("orders-value", 1, include_deleted=True)
    assert deleted.deleted
    assert client.get_schema(one.id).text == ORDER_V1  # ids stay readable
    with pytest.raises(errors.VersionSoftDeletedError, match="soft-deleted"):  # Confluent 40406
        client.delete_version("orders-value", 1)
    assert client.delete_version("orders-value", 1, permanent=True) == 1
    assert client.list_versions("orders-value", include_deleted=True) == [2]
    with pytest.raises(errors.VersionNotFoundError):
        client.get_version("orders-value", 1, include_deleted=True)

    with pytest.raises(errors.SubjectNotSoftDeletedError):
        client.delete_subject("orders-value", permanent=True)
    assert client.delete_subject("orders-value") == [2]
    assert client.list_subjects() == []
    assert client.list_subjects(include_deleted=True) == ["orders-value"]
    with pytest.raises(errors.SubjectNotFoundError):
        client.get_version("orders-value")
    with pytest.raises(errors.SubjectSoftDeletedError):
        client.delete_subject("orders-value")
    assert client.delete_subject("orders-value", permanent=True) == [2]
    assert client.list_subjects(include_deleted=True) == []


def test_compatibility_config(client: SchemaRegistryClient) -> None:
    assert client.get_compatibility() == CompatibilityLevel.BACKWARD
    with pytest.raises(errors.CompatibilityNotConfiguredError):
        client.get_compatibility("orders-value")
    assert client.get_compatibility("orders-value", default_to_global=True) == "BACKWARD"
    assert client.set_compatibility("full", "orders-value") == CompatibilityLevel.FULL
    assert client.get_compatibility("orders-value") == CompatibilityLevel.FULL
    assert client.get_compatibility() == CompatibilityLevel.BACKWARD
    assert client.set_compatibility(CompatibilityLevel.NONE) == CompatibilityLevel.NONE
    assert client.get_compatibility("other", default_to_global=True) == CompatibilityLevel.NONE
    assert client.delete_compatibility("orders-value") == CompatibilityLevel.FULL
    with pytest.raises(errors.InvalidCompatibilityLevelError, match="BACKWARD_TRANSITIVE"):
        client.set_compatibility("SIDEWAYS")
    # With NONE in force, a breaking change registers.
    client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    assert client.register("orders-value", ORDER_BREAKING, SchemaType.AVRO).version == 2


def test_modes(client: SchemaRegistryClient) -> None:
    assert client.get_mode() == Mode.READWRITE
    with pytest.raises(errors.ModeNotConfiguredError):
        client.get_mode("orders-value")
    assert client.set_mode("READONLY", "orders-value") == Mode.READONLY
    assert client.get_mode("orders-value") == Mode.READONLY
    with pytest.raises(errors.OperationNotPermittedError, match="READONLY"):
        client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    assert client.register("other-value", ORDER_V1, SchemaType.AVRO).version == 1
    assert client.set_mode(Mode.READWRITE, "orders-value") == Mode.READWRITE
    assert client.register("orders-value", ORDER_V1, SchemaType.AVRO).version == 1
    with pytest.raises(errors.OperationNotPermittedError, match="IMPORT"):
        client.set_mode(Mode.IMPORT)
    assert client.set_mode(Mode.IMPORT, force=True) == Mode.IMPORT
    assert client.get_mode("anything", default_to_global=True) == Mode.IMPORT
    with pytest.raises(errors.InvalidModeError):
        client.set_mode("WRITEONLY")


def test_references_in_all_three_formats(client: SchemaRegistryClient) -> None:
    money = client.register("money-value", MONEY_AVRO, SchemaType.AVRO)
    invoice = client.register(
        "invoice-value",
        INVOICE_AVRO,
        SchemaType.AVRO,
        [SchemaReference("acme.Money", "money-value", 1)],
    )
    money_proto = client.register("money.proto", MONEY_PROTO, SchemaType.PROTOBUF)
    order_proto = client.register(
        "order-proto-value",
        ORDER_PROTO,
        SchemaType.PROTOBUF,
        [SchemaReference("money.proto", "money.proto", 1)],
    )
    client.register("address-value", ADDRESS_JSON, SchemaType.JSON)
    user = client.register(
        "user-value",
        USER_JSON,
        SchemaType.JSON,
        [SchemaReference("address.json", "address-value", 1)],
    )
    assert len({money.id, invoice.id, money_proto.id, order_proto.id, user.id}) == 5
    stored = client.get_schema(order_proto.id)
    assert stored.schema_type == SchemaType.PROTOBUF
    assert stored.references == (SchemaReference("money.proto", "money.proto", 1),)
    assert client.referenced_by("money-value", 1) == [invoice.id]
    assert client.referenced_by("money.proto", 1) == [order_proto.id]
    assert client.referenced_by("address-value", 1) == [user.id]
    assert client.referenced_by("invoice-value", 1) == []
    with pytest.raises(errors.ReferenceExistsError, match=str(invoice.id)):
        client.delete_version("money-value", 1)
    with pytest.raises(errors.ReferenceExistsError):
        client.delete_subject("address-value")


def test_broken_references(client: SchemaRegistryClient) -> None:
    with pytest.raises(errors.InvalidReferenceError, match="no-such-subject"):
        client.register(
            "invoice-value",
            INVOICE_AVRO,
            SchemaType.AVRO,
            [SchemaReference("acme.Money", "no-such-subject", 1)],
        )
    client.register("money-value", MONEY_AVRO, SchemaType.AVRO)
    with pytest.raises(errors.InvalidReferenceError, match="version 7"):
        client.register(
            "invoice-value",
            INVOICE_AVRO,
            SchemaType.AVRO,
            [SchemaReference("acme.Money", "money-value", 7)],
        )
    # The named type is not supplied at all: the Avro text itself is invalid.
    with pytest.raises((errors.InvalidSchemaError, errors.InvalidReferenceError)):
        client.register("invoice-value", INVOICE_AVRO, SchemaType.AVRO)
    with pytest.raises((errors.InvalidSchemaError, errors.InvalidReferenceError)):
        client.register("order-proto-value", ORDER_PROTO, SchemaType.PROTOBUF)
    with pytest.raises((errors.InvalidSchemaError, errors.InvalidReferenceError)):
        client.register("user-value", USER_JSON, SchemaType.JSON)
    assert client.list_subjects() == ["money-value"]


@pytest.mark.parametrize(
    ("schema_type", "text", "needle"),
    [
        (SchemaType.AVRO, '{"type": "record", "name": "X"}', "fields"),
        (SchemaType.AVRO, "{not json", "JSON"),
        (SchemaType.PROTOBUF, 'syntax = "proto3";\nmessage X { int32 a = ; }\n', "2"),
        (SchemaType.JSON, '{"type": 12}', "type"),
        (SchemaType.JSON, "[1,", "JSON"),
    ],
)
def test_invalid_schemas(client: SchemaRegistryClient, schema_type, text, needle) -> None:
    with pytest.raises(errors.InvalidSchemaError) as caught:
        client.register("bad-value", text, schema_type)
    assert needle in caught.value.message
    with pytest.raises(errors.InvalidSchemaError):
        client.check_compatibility("bad-value", text, schema_type)
    assert client.list_subjects(include_deleted=True) == []


def test_not_found_errors(client: SchemaRegistryClient) -> None:
    with pytest.raises(errors.SchemaNotFoundError, match="999"):
        client.get_schema(999)
    with pytest.raises(errors.SubjectNotFoundError, match="nope"):
        client.get_version("nope")
    with pytest.raises(errors.SubjectNotFoundError):
        client.list_versions("nope")
    with pytest.raises(errors.SubjectNotFoundError):
        client.delete_subject("nope")
    client.register("orders-value", ORDER_V1, SchemaType.AVRO)
    with pytest.raises(errors.VersionNotFoundError, match="99"):
        client.get_version("orders-value", 99)
    with pytest.raises(errors.VersionNotFoundError):
        client.check_compatibility("orders-value", ORDER_V2, SchemaType.AVRO, version=5)
    with pytest.raises(errors.VersionNotFoundError):
        client.referenced_by("orders-value", 3)


def test_bad_arguments_fail_before_sending(client: SchemaRegistryClient) -> None:
    with pytest.raises(errors.InvalidVersionError):
        client.get_version("orders-value", 0)
    with pytest.raises(errors.InvalidVersionError):
        client.get_version("orders-value", "newest")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError, match="XML"):
        client.register("orders-value", ORDER_V1, "XML")
    with pytest.raises(errors.InvalidArgumentError, match="empty"):
        client.register("orders-value", "  ", SchemaType.AVRO)
    with pytest.raises(errors.InvalidArgumentError, match="subject"):
        client.register("", ORDER_V1, SchemaType.AVRO)
    with pytest.raises(errors.InvalidArgumentError, match="schema id"):
        client.get_schema(0)
    with pytest.raises(errors.InvalidVersionError):
        client.register(
            "x", ORDER_V1, SchemaType.AVRO, [SchemaReference("acme.Money", "money-value", 0)]
        )
    with pytest.raises(errors.InvalidVersionError):
        client.register(
            "x",
            ORDER_V1,
            SchemaType.AVRO,
            [SchemaReference("a", "b", "latest")],  # type: ignore[arg-type]
        )
    with pytest.raises(errors.InvalidVersionError):
        client.referenced_by("orders-value", "latest")  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidCompatibilityLevelError):
        client.set_compatibility(7)  # type: ignore[arg-type]


def test_unreachable_server_is_unavailable() -> None:
    with (
        SchemaRegistryClient("127.0.0.1:1", timeout_s=5) as client,
        pytest.raises(errors.UnavailableError) as caught,
    ):
        client.list_subjects()
    assert caught.value.retriable


def test_closed_client_refuses_calls(server) -> None:
    client = SchemaRegistryClient(server.address)
    assert client.list_subjects() == []
    client.close()
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        client.list_subjects()


def test_get_schema_is_cached_and_latency(client: SchemaRegistryClient) -> None:
    """ids are immutable, so the second read of an id never reaches the server."""
    count = 50
    ids = [
        client.register(f"s{i}-value", avro_record(f"R{i}", ("id", "string")), "AVRO").id
        for i in range(count)
    ]
    calls = 0
    real = client._stub.GetSchema

    def counting(request, **kwargs):
        nonlocal calls
        calls += 1
        return real(request, **kwargs)

    client._stub.GetSchema = counting
    client.list_subjects()  # the channel is connected before timing

    uncached = []
    for schema_id in ids:
        start = time.perf_counter()
        client.get_schema(schema_id)
        uncached.append(time.perf_counter() - start)
    assert calls == count

    cached = []
    first = client.get_schema(ids[0])
    for _ in range(20):
        for schema_id in ids:
            start = time.perf_counter()
            client.get_schema(schema_id)
            cached.append(time.perf_counter() - start)
    assert calls == count
    assert client.get_schema(ids[0]) is first

    def us(values: list[float], q: float) -> float:
        return sorted(values)[int(q * (len(values) - 1))] * 1e6

    print(
        f"\nget_schema latency over loopback gRPC, n={len(uncached)} uncached / "
        f"{len(cached)} cached:\n"
        f"  uncached  median {statistics.median(uncached) * 1e6:8.1f} us"
        f"  p90 {us(uncached, 0.9):8.1f} us  max {max(uncached) * 1e6:8.1f} us\n"
        f"  cached    median {statistics.median(cached) * 1e6:8.2f} us"
        f"  p90 {us(cached, 0.9):8.2f} us  max {max(cached) * 1e6:8.2f} us"
    )
