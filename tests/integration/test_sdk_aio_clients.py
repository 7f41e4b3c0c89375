"""AsyncSchemaRegistryClient and AsyncAdmin against a real in-process server, in asyncio.

Each test is a plain function that runs ``asyncio.run(main())``. Where it matters, the sync
client reads the same server and must give equal values: both clients parse replies with
the same shared code, so the async one may differ only in how it waits.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import json
import time
from typing import Any

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.core import errors
from weir.sdk import (
    Admin,
    AsyncAdmin,
    AsyncSchemaRegistryClient,
    CompatibilityLevel,
    ListedOffset,
    Mode,
    PartitionInfo,
    RegisteredSchema,
    SchemaRegistryClient,
    SchemaType,
    SubjectVersion,
    TopicInfo,
)
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc

HOUR_MS = 3_600_000


def avro(name: str, *fields: tuple[str, str, Any]) -> str:
    """An Avro record of (name, type, default) fields; default ... means none."""
    out = [{"name": n, "type": t} | ({} if d is ... else {"default": d}) for n, t, d in fields]
    return json.dumps({"type": "record", "name": name, "namespace": "acme", "fields": out})


ORDER_V1 = avro("Order", ("id", "string", ...))
ORDER_V2 = avro("Order", ("id", "string", ...), ("qty", "int", 0))
ORDER_BREAKING = avro("Order", ("id", "string", ...), ("qty", "int", ...))


# ----- AsyncSchemaRegistryClient -----------------------------------------------------------


def test_registry_register_get_lookup_check_config_delete(server) -> None:
    async def main() -> None:
        async with AsyncSchemaRegistryClient(server.address, timeout_s=10) as registry:
            first = await registry.register("orders-value", ORDER_V1, "AVRO")
            assert first == RegisteredSchema(first.id, 1)
            assert await registry.register("orders-value", ORDER_V1, SchemaType.AVRO) == first

            schema = await registry.get_schema(first.id)
            assert schema.id == first.id
            assert schema.schema_type is SchemaType.AVRO
            assert json.loads(schema.text)["name"] == "Order"

            found = await registry.lookup("orders-value", ORDER_V1, "avro")
            assert (found.subject, found.version, found.deleted) == ("orders-value", 1, False)
            assert found.schema is not None
            assert found.schema.id == first.id

            good = await registry.check_compatibility("orders-value", ORDER_V2, "AVRO")
            assert good.compatible
            assert good.level is CompatibilityLevel.BACKWARD
            bad = await registry.check_compatibility("orders-value", ORDER_BREAKING, "AVRO")
            assert not bad.compatible
            assert bad.incompatibilities
            assert any("qty" in i.path or "qty" in i.message for i in bad.incompatibilities)
            with pytest.raises(errors.IncompatibleSchemaError):
                await registry.register("orders-value", ORDER_BREAKING, "AVRO")

            second = await registry.register("orders-value", ORDER_V2, "AVRO")
            assert second.version == 2
            assert await registry.list_versions("orders-value") == [1, 2]
            latest = await registry.get_version("orders-value")
            assert (latest.version, latest.schema and latest.schema.id) == (2, second.id)
            assert (await registry.get_version("orders-value", 1)).version == 1
            assert await registry.list_subjects() == ["orders-value"]
            assert await registry.get_schema_versions(first.id) == [
                SubjectVersion("orders-value", 1, None, False)
            ]
            assert await registry.referenced_by("orders-value", 1) == []

            # configuration: global and per subject
            assert await registry.get_compatibility() is CompatibilityLevel.BACKWARD
            assert await registry.set_compatibility("full", "orders-value") is (
                CompatibilityLevel.FULL
            )
            assert await registry.get_compatibility("orders-value") is CompatibilityLevel.FULL
            with pytest.raises(errors.CompatibilityNotConfiguredError):
                await registry.get_compatibility("other-value")
            assert (
                await registry.get_compatibility("other-value", default_to_global=True)
                is CompatibilityLevel.BACKWARD
            )
            assert await registry.delete_compatibility("orders-value") is CompatibilityLevel.FULL
            assert await registry.get_mode() is Mode.READWRITE
            assert await registry.set_mode("READONLY", "orders-value") is Mode.READONLY
            with pytest.raises(errors.OperationNotPermittedError):
                await registry.register("orders-value", ORDER_V1 + " ", "AVRO")
            assert await registry.set_mode(Mode.READWRITE, "orders-value") is Mode.READWRITE

            # deletes: one version, then the subject, soft then permanent
            assert await registry.delete_version("orders-value", 2) == 2
            assert await registry.list_versions("orders-value") == [1]
            assert await registry.list_versions("orders-value", include_deleted=True) == [1, 2]
            assert await registry.delete_subject("orders-value") == [1]
            with pytest.raises(errors.SubjectNotFoundError):
                await registry.get_version("orders-value")
            assert await registry.list_subjects(include_deleted=True) == ["orders-value"]
            assert await registry.delete_subject("orders-value", permanent=True) == [1, 2]
            assert await registry.list_subjects(include_deleted=True) == []

    asyncio.run(main())


def test_registry_errors_are_the_servers_classes(server) -> None:
    async def main() -> None:
        async with AsyncSchemaRegistryClient(server.address) as registry:
            with pytest.raises(errors.SubjectNotFoundError, match="nope-value"):
                await registry.get_version("nope-value")
            with pytest.raises(errors.SchemaNotFoundError):
                await registry.get_schema(999)
            with pytest.raises(errors.InvalidSchemaError):
                await registry.register("x-value", "{not avro", "AVRO")
            # refused before anything is sent, as the sync client does
            with pytest.raises(errors.InvalidVersionError):
                await registry.get_version("x-value", 0)
            with pytest.raises(errors.InvalidArgumentError, match="schema id"):
                await registry.get_schema(0)
            with pytest.raises(errors.InvalidCompatibilityLevelError):
                await registry.set_compatibility("SIDEWAYS")

    asyncio.run(main())


def test_registry_caches_schemas_by_id(server) -> None:
    async def main() -> int:
        async with AsyncSchemaRegistryClient(server.address) as registry:
            ids = [
                (
                    await registry.register(f"s{i}-value", avro(f"R{i}", ("a", "int", ...)), "AVRO")
                ).id
                for i in range(5)
            ]
            sent = 0
            real = registry._stub.GetSchema

            def counting(request: Any, **kwargs: Any) -> Any:
                nonlocal sent
                sent += 1
                return real(request, **kwargs)

            registry._stub.GetSchema = counting
            first = [await registry.get_schema(i) for i in ids]
            again = [await registry.get_schema(i) for i in ids * 3]
            assert again == first * 3
            assert all(a is b for a, b in zip(again, first * 3, strict=True))
            return sent

    assert asyncio.run(main()) == 5


def test_registry_async_and_sync_clients_agree(server) -> None:
    with SchemaRegistryClient(server.address) as sync:
        sync.register("a-value", ORDER_V1, "AVRO")
        sync.register("a-value", ORDER_V2, "AVRO")
        sync.set_compatibility("FORWARD", "a-value")
        expected = (
            sync.get_version("a-value"),
            sync.get_version("a-value", 1),
            sync.list_subjects(),
            sync.lookup("a-value", ORDER_V1, "AVRO"),
            sync.check_compatibility("a-value", ORDER_BREAKING, "AVRO", version="latest"),
            sync.get_compatibility("a-value"),
            sync.get_schema(1),
        )

    async def main() -> tuple[Any, ...]:
        async with AsyncSchemaRegistryClient(server.address) as aio:
            return (
                await aio.get_version("a-value"),
                await aio.get_version("a-value", 1),
                await aio.list_subjects(),
                await aio.lookup("a-value", ORDER_V1, "AVRO"),
                await aio.check_compatibility("a-value", ORDER_BREAKING, "AVRO", version="latest"),
                await aio.get_compatibility("a-value"),
                await aio.get_schema(1),
            )

    assert asyncio.run(main()) == expected


# ----- AsyncAdmin --------------------------------------------------------------------------


def test_admin_topics_configs_and_partitions(server) -> None:
    async def main() -> None:
        async with AsyncAdmin(server.address, timeout_s=10) as admin:
            created = await admin.create_topic("orders", 2, {"retention.ms": "60000"})
            assert created.partition_count == 2
            assert created.partitions == (PartitionInfo(0, 0, 0), PartitionInfo(1, 0, 0))
            with pytest.raises(errors.TopicAlreadyExistsError):
                await admin.create_topic("orders", 1)

            assert await admin.describe_config("orders") == {"retention.ms": "60000"}
            altered = await admin.alter_config(
                "orders", set={"cleanup.policy": "compact"}, remove=["retention.ms"]
            )
            assert dict(altered.config) == {"cleanup.policy": "compact"}
            assert await admin.describe_config("orders") == {"cleanup.policy": "compact"}
            with pytest.raises(errors.InvalidConfigError):
                await admin.alter_config("orders", set={"retention.ms": "soon"})

            grown = await admin.add_partitions("orders", 4)
            assert grown.partition_count == 4
            assert [p.partition for p in grown.partitions] == [0, 1, 2, 3]
            described = await admin.describe_topic("orders")
            assert described == grown

            listed = await admin.list_topics()
            assert [t.name for t in listed] == ["orders"]
            assert "_schemas" in {t.name for t in await admin.list_topics(include_internal=True)}

            await admin.delete_topic("orders")
            with pytest.raises(errors.TopicNotFoundError, match="orders"):
                await admin.describe_topic("orders")
            with pytest.raises(errors.TopicNotFoundError):
                await admin.describe_config("orders")

    asyncio.run(main())


def test_sync_admin_describe_config(server) -> None:
    with Admin(server.address) as admin:
        admin.create_topic("plain", 1)
        assert admin.describe_config("plain") == {}
        admin.create_topic("kept", 1, {"retention.ms": "-1", "max.message.bytes": "2048"})
        config = admin.describe_config("kept")
        assert list(config) == ["max.message.bytes", "retention.ms"]  # sorted
        assert config == admin.describe_topic("kept").config
        with pytest.raises(TypeError):
            config["retention.ms"] = "1"  # type: ignore[index]
        with pytest.raises(errors.TopicNotFoundError):
            admin.describe_config("missing")
        with pytest.raises(errors.InvalidArgumentError, match="topic name"):
            admin.describe_config("bad name")


def test_admin_list_offsets_by_time(server) -> None:
    now = int(time.time() * 1000)
    stamps = [now - 3 * HOUR_MS, now - 2 * HOUR_MS, now - HOUR_MS]
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("clicks", 1, **{"value.schema.validation": "none"})
        broker.produce("clicks", [record(b"v", timestamp_ms=ts) for ts in stamps], partition=0)

    async def main() -> list[ListedOffset]:
        async with AsyncAdmin(server.address) as admin:
            return [
                await admin.list_offsets("clicks", 0, "earliest"),
                await admin.list_offsets("clicks", 0),
                await admin.list_offsets("clicks", 0, stamps[1]),
                await admin.list_offsets(
                    "clicks", 0, dt.datetime.fromtimestamp((stamps[1] + 1) / 1000, dt.UTC)
                ),
                await admin.list_offsets("clicks", 0, now + HOUR_MS),
            ]

    earliest, latest, at_second, after_second, future = asyncio.run(main())
    assert (earliest.offset, latest.offset) == (0, 3)
    assert (at_second.offset, at_second.timestamp_ms) == (1, stamps[1])
    assert (after_second.offset, after_second.timestamp_ms) == (2, stamps[2])
    assert future == ListedOffset(None, future.timestamp_ms, 0, 3)


def test_admin_groups_describe_reset_delete(server) -> None:
    now = int(time.time() * 1000)
    with grpc.insecure_channel(server.address) as channel:
        broker = Broker(channel)
        broker.create_topic("orders", 1, **{"value.schema.validation": "none"})
        broker.produce(
            "orders", [record(b"v", timestamp_ms=now - 10_000 + i) for i in range(6)], partition=0
        )
        gs_grpc.GroupServiceStub(channel).CommitOffsets(  # type: ignore[no-untyped-call]
            gs.CommitOffsetsRequest(
                group_id="billing",
                standalone=True,
                offsets=[gs.OffsetCommit(topic="orders", partition=0, offset=2)],
            )
        )

    async def main() -> None:
        async with AsyncAdmin(server.address) as admin:
            [summary] = await admin.list_groups()
            assert (summary.group_id, summary.state, summary.member_count) == (
                "billing",
                "empty",
                0,
            )
            group = await admin.describe_group("billing")
            [lag] = group.partitions
            assert (lag.committed_offset, lag.log_end_offset, lag.lag_records) == (2, 6, 4)
            assert lag.lag_ms > 0
            assert group.total_lag_records == 4
            [committed] = await admin.committed_offsets("billing", {"orders": [0]})
            assert (committed.topic, committed.partition, committed.offset) == ("orders", 0, 2)

            preview = await admin.reset_offsets("billing", "orders", to="earliest", dry_run=True)
            assert not preview.applied
            assert preview.redelivered_records == 2
            assert preview.records_to_read == 6
            assert (await admin.committed_offsets("billing"))[0].offset == 2  # not stored
            done = await admin.reset_offsets("billing", to=4)
            assert done.applied
            assert [r.new_offset for r in done.resets] == [4]
            assert (await admin.committed_offsets("billing"))[0].offset == 4

            deleted = await admin.delete_group("billing")
            assert (deleted.group_id, deleted.deleted_offsets) == ("billing", 1)
            assert await admin.list_groups() == []
            with pytest.raises(errors.GroupNotFoundError, match="billing"):
                await admin.describe_group("billing")

    asyncio.run(main())


def test_admin_async_and_sync_clients_agree(server) -> None:
    with Admin(server.address) as sync:
        sync.create_topic("a", 3, {"retention.ms": "1000"})
        sync.create_topic("b", 1)
        expected = (sync.list_topics(), sync.describe_topic("a"), sync.describe_config("a"))

    async def main() -> tuple[list[TopicInfo], TopicInfo, Any]:
        async with AsyncAdmin(server.address) as aio:
            return (
                await aio.list_topics(),
                await aio.describe_topic("a"),
                await aio.describe_config("a"),
            )

    assert asyncio.run(main()) == expected


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(SchemaRegistryClient, AsyncSchemaRegistryClient), (Admin, AsyncAdmin)],
    ids=["registry", "admin"],
)
def test_async_clients_mirror_the_sync_signatures(sync_cls: type, async_cls: type) -> None:
    """Same public methods, parameters, defaults and return annotations; only ``async``."""

    def public(cls: type) -> dict[str, Any]:
        return {
            name: member
            for klass in cls.__mro__
            if klass.__module__.startswith("weir.sdk")
            for name, member in vars(klass).items()
            if not name.startswith("_") and inspect.isfunction(member)
        }

    sync_methods, async_methods = public(sync_cls), public(async_cls)
    assert sorted(sync_methods) == sorted(async_methods)
    assert len(sync_methods) >= 13
    for name, method in sync_methods.items():
        twin = async_methods[name]
        assert inspect.iscoroutinefunction(twin), name
        assert not inspect.iscoroutinefunction(method), name
        assert inspect.signature(twin) == inspect.signature(method), name
    assert inspect.signature(async_cls.__init__) == inspect.signature(sync_cls.__init__)
