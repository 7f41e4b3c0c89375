"""weir.sdk.Admin against a real server: topics, config, growth, deletion, offsets, errors."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator

import grpc
import pytest

from tests.integration.broker_helpers import Broker, record
from weir.core import errors
from weir.sdk import Admin, ListedOffset, PartitionInfo, TopicInfo


@pytest.fixture
def admin(server) -> Iterator[Admin]:
    with Admin(server.address, timeout_s=10) as client:
        yield client


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_create_describe_list(admin: Admin) -> None:
    created = admin.create_topic("orders", 3, {"retention.ms": "60000"})
    assert created == TopicInfo(
        name="orders",
        partition_count=3,
        config=created.config,
        partitions=tuple(PartitionInfo(p, 0, 0) for p in range(3)),
        internal=False,
    )
    assert dict(created.config) == {"retention.ms": "60000"}
    assert admin.describe_topic("orders") == created
    admin.create_topic("audit", 1)
    listed = admin.list_topics()
    assert [t.name for t in listed] == ["audit", "orders"]
    assert all(t.partitions == () for t in listed)  # listings leave partitions out
    internal = {t.name for t in admin.list_topics(include_internal=True) if t.internal}
    assert {"_schemas", "__consumer_offsets"} <= internal


def test_results_are_frozen(admin: Admin) -> None:
    topic = admin.create_topic("orders", 1)
    with pytest.raises(AttributeError):
        topic.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        topic.config["retention.ms"] = "1"  # type: ignore[index]


def test_alter_config_sets_and_removes(admin: Admin) -> None:
    admin.create_topic("orders", 1, {"retention.ms": "60000", "segment.bytes": "1048576"})
    altered = admin.alter_config(
        "orders", set={"on.invalid": "reject_record"}, remove=["segment.bytes"]
    )
    assert dict(altered.config) == {"on.invalid": "reject_record", "retention.ms": "60000"}
    assert dict(admin.describe_topic("orders").config) == dict(altered.config)


def test_add_partitions_grows_only(admin: Admin) -> None:
    admin.create_topic("orders", 2)
    grown = admin.add_partitions("orders", 5)
    assert grown.partition_count == 5
    assert [p.partition for p in grown.partitions] == [0, 1, 2, 3, 4]
    with pytest.raises(errors.InvalidArgumentError, match="must be larger"):
        admin.add_partitions("orders", 3)


def test_delete_topic(admin: Admin) -> None:
    admin.create_topic("orders", 1)
    admin.delete_topic("orders")
    assert admin.list_topics() == []
    with pytest.raises(errors.TopicNotFoundError, match="'orders' does not exist"):
        admin.describe_topic("orders")
    with pytest.raises(errors.TopicNotFoundError):
        admin.delete_topic("orders")
    with pytest.raises(errors.InvalidArgumentError, match="internal topic"):
        admin.delete_topic("_schemas")


def test_server_errors_come_back_as_their_classes(admin: Admin) -> None:
    admin.create_topic("orders", 1)
    with pytest.raises(errors.TopicAlreadyExistsError, match="already exists"):
        admin.create_topic("orders", 1)
    with pytest.raises(errors.InvalidConfigError, match=r"retention.mss") as caught:
        admin.create_topic("other", 1, {"retention.mss": "1"})
    assert caught.value.metadata["key"] == "retention.mss"
    with pytest.raises(errors.InvalidConfigError, match=r"on.invalid='maybe'"):
        admin.alter_config("orders", set={"on.invalid": "maybe"})
    with pytest.raises(errors.InvalidArgumentError, match=r"no override for retention.ms"):
        admin.alter_config("orders", remove=["retention.ms"])
    assert [t.name for t in admin.list_topics()] == ["orders"]  # nothing half-created


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.create_topic("bad name", 1), "topic name 'bad name' is not valid"),
        (lambda a: a.create_topic("x" * 250, 1), "is not valid"),
        (lambda a: a.create_topic("orders", 0), "partitions must be a positive integer"),
        (lambda a: a.create_topic("orders", True), "partitions must be a positive integer"),
        (lambda a: a.alter_config("orders"), "nothing to change"),
        (lambda a: a.alter_config("orders", {"a": "1"}, ["a"]), "cannot both set and remove a"),
        (lambda a: a.alter_config("orders", remove="retention.ms"), "not one string"),
        (lambda a: a.add_partitions("orders", -1), "total must be a positive integer"),
        (lambda a: a.list_offsets("orders", -1), "partition must be an integer >= 0"),
        (lambda a: a.list_offsets("orders", 0, "first"), "offset spec 'first' is not valid"),
        (lambda a: a.list_offsets("orders", 0, dt.datetime(2024, 1, 1)), "has no timezone"),
    ],
)
def test_bad_arguments_are_refused_before_sending(admin: Admin, call, message: str) -> None:
    with pytest.raises(errors.InvalidArgumentError, match=message):
        call(admin)


def test_list_offsets_earliest_latest_and_time(admin: Admin, broker: Broker) -> None:
    admin.create_topic("events", 2, {"value.schema.validation": "none"})
    broker.produce(
        "events", [record(b"a", timestamp_ms=1000), record(b"b", timestamp_ms=2000)], partition=1
    )
    broker.produce("events", [record(b"c", timestamp_ms=3000)], partition=1)
    assert admin.list_offsets("events", 1, "earliest") == ListedOffset(0, 0, 0, 3)
    assert admin.list_offsets("events", 1) == ListedOffset(3, 0, 0, 3)
    assert admin.list_offsets("events", 0, "latest").offset == 0
    at = admin.list_offsets("events", 1, 1500)
    assert (at.offset, at.timestamp_ms) == (1, 2000)
    when = dt.datetime.fromtimestamp(2.5, tz=dt.UTC)
    assert admin.list_offsets("events", 1, when).offset == 2
    assert admin.list_offsets("events", 1, 9999).offset is None
    described = admin.describe_topic("events")
    assert described.partitions == (PartitionInfo(0, 0, 0), PartitionInfo(1, 0, 3))
    with pytest.raises(errors.PartitionNotFoundError, match=r"partitions 0..1, not 7"):
        admin.list_offsets("events", 7)
    with pytest.raises(errors.TopicNotFoundError):
        admin.list_offsets("nope", 0)


def test_unreachable_server_is_unavailable() -> None:
    with (
        Admin(f"127.0.0.1:{free_port()}", timeout_s=2) as client,
        pytest.raises(errors.UnavailableError) as caught,
    ):
        client.list_topics()
    assert caught.value.retriable


def test_closed_client_refuses_calls(server) -> None:
    client = Admin(server.address)
    client.close()
    with pytest.raises(errors.FailedPreconditionError, match="closed"):
        client.list_topics()
    assert "Admin(server=" in repr(client)


@pytest.mark.parametrize(("server_arg", "timeout"), [("", 1.0), ("  ", 1.0), ("h:1", 0)])
def test_constructor_checks_arguments(server_arg: str, timeout: float) -> None:
    with pytest.raises(errors.InvalidArgumentError):
        Admin(server_arg, timeout_s=timeout)
