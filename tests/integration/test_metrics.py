"""/metrics after known activity: every family checked against what the test did."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ServerThread
from tests.integration.broker_helpers import ORDER_AVSC, Broker, avro_bytes, record
from weir.v1 import errors_pb2
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc
from weir.v1 import log_service_pb2 as ls
from weir.v1 import registry_pb2 as rp
from weir.v1 import registry_service_pb2 as rs

MONITORING_README = Path(__file__).resolve().parents[2] / "examples" / "monitoring" / "README.md"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _two_minutes_ago_ms() -> int:
    """A record timestamp two minutes before now (taken when the test runs, not at import,
    since a full suite may import this module minutes before it runs the test)."""
    return int(time.time() * 1000) - 120_000


def scrape(server: ServerThread, accept: str | None = None) -> tuple[str, Samples]:
    request = urllib.request.Request(f"{server.http_url}/metrics")
    if accept is not None:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=10) as reply:
        text = reply.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    assert key in samples, (
        f"no sample {name}{labels}; have {sorted(k for k in samples if k[0] == name)}"
    )
    return samples[key]


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


@pytest.fixture
def broker(channel: grpc.Channel) -> Broker:
    return Broker(channel)


def _incompatible_avsc() -> str:
    changed = json.loads(json.dumps(ORDER_AVSC))
    changed["fields"][1]["type"] = "string"  # int -> string: not readable under BACKWARD
    return json.dumps(changed)


def test_every_family_reports_what_the_test_did(
    server: ServerThread, channel: grpc.Channel, broker: Broker
) -> None:
    # -- registry: one registration, one refused registration, one failed check -------------
    schema_id = broker.register("orders-value", "AVRO", json.dumps(ORDER_AVSC))
    broker.register("events-value", "AVRO", json.dumps(ORDER_AVSC))  # same schema, new subject
    bad = rs.SchemaInput(schema_type=rp.SCHEMA_TYPE_AVRO, schema=_incompatible_avsc())
    with pytest.raises(grpc.RpcError) as refused:
        broker.registry.RegisterSchema(rs.RegisterSchemaRequest(subject="orders-value", schema=bad))
    register_code = refused.value.code().name
    check = broker.registry.CheckCompatibility(
        rs.CheckCompatibilityRequest(subject="orders-value", schema=bad, latest=True)
    )
    rules = [i.rule for i in check.incompatibilities]
    assert rules, "the changed schema must be incompatible"

    # -- produce: 5 + 3 old records to orders, 2 valid + 2 invalid to a dead-letter topic ---
    broker.create_topic("orders", 2)
    broker.create_topic("events", 1, on_invalid="dead_letter")
    values = [avro_bytes(schema_id, {"id": f"o{i}", "qty": i}) for i in range(8)]
    old_ms = _two_minutes_ago_ms()
    broker.produce("orders", [record(v, timestamp_ms=old_ms) for v in values[:5]], partition=0)
    broker.produce("orders", [record(v, timestamp_ms=old_ms) for v in values[5:]], partition=1)
    garbage = values[0][:5] + b"\xff\xff\xff"  # the right schema id, an undecodable payload
    reply = broker.produce(
        "events", [record(values[0]), record(garbage), record(values[1]), record(garbage)]
    )
    errors = reply.results[0].errors
    assert len(errors) == 2
    reason = errors_pb2.ErrorReason.Name(errors[0].reason).removeprefix("ERROR_REASON_")
    subject = errors[0].subject
    with pytest.raises(grpc.RpcError):
        broker.produce("no-such-topic", [record(values[0])])

    # -- fetch: partition 0 of orders, and an unknown topic --------------------------------
    fetched = broker.fetch("orders", 0, 0)
    assert len(fetched.records) == 5
    broker.log.Fetch(ls.FetchRequest(partitions=[ls.FetchPartition(topic="nope", partition=0)]))

    # -- groups: g1 commits offset 2 of 5 standalone; g2 has one member reading orders -----
    groups = gs_grpc.GroupServiceStub(channel)
    groups.CommitOffsets(
        gs.CommitOffsetsRequest(
            group_id="g1",
            standalone=True,
            offsets=[gs.OffsetCommit(topic="orders", partition=0, offset=2)],
        )
    )
    join = gs.HeartbeatRequest(group_id="g2", session_timeout_ms=30_000)
    join.topics.names.append("orders")
    groups.Heartbeat(join)

    text, m = scrape(server)

    # broker
    assert value(m, "weir_produce_requests_total", topic="orders") == 2
    assert value(m, "weir_produce_records_total", topic="orders") == 8
    assert value(m, "weir_produce_bytes_total", topic="orders") == sum(map(len, values))
    assert value(m, "weir_produce_requests_total", topic="events") == 1
    assert value(m, "weir_produce_records_total", topic="events") == 2
    assert value(m, "weir_produce_bytes_total", topic="events") == len(values[0]) + len(values[1])
    assert value(m, "weir_fetch_requests_total", topic="orders") == 1
    assert value(m, "weir_fetch_records_total", topic="orders") == 5
    assert value(m, "weir_fetch_bytes_total", topic="orders") == sum(map(len, values[:5]))
    assert value(m, "weir_rpc_duration_seconds_count", method="Produce") == 4
    assert value(m, "weir_rpc_requests_total", method="Produce", code="OK") == 3
    assert value(m, "weir_rpc_requests_total", method="Produce", code="NOT_FOUND") == 1
    assert value(m, "weir_rpc_duration_seconds_count", method="Fetch") == 2
    assert value(m, "weir_rpc_requests_total", method="RegisterSchema", code=register_code) == 1
    assert value(m, "weir_log_append_duration_seconds_count", acks="all") == 3
    # unknown topics named by clients never become label values
    assert "no-such-topic" not in text
    assert 'topic="nope"' not in text

    # validation
    assert value(m, "weir_validation_accepted_records_total", topic="orders") == 8
    assert value(m, "weir_validation_accepted_records_total", topic="events") == 2
    assert (
        value(
            m,
            "weir_validation_rejected_records_total",
            topic="events",
            subject=subject,
            reason=reason,
        )
        == 2
    )
    assert subject == "events-value"
    assert value(m, "weir_validation_duration_seconds_count", topic="orders") == 2
    assert value(m, "weir_validation_duration_seconds_count", topic="events") == 1
    assert value(m, "weir_dead_letter_records_total", topic="events") == 2

    # log
    data = server.data_dir / "log"
    for partition, count in ((0, 5), (1, 3)):
        labels = {"topic": "orders", "partition": str(partition)}
        assert value(m, "weir_log_start_offset", **labels) == 0
        assert value(m, "weir_log_end_offset", **labels) == count
        files = sorted(Path(data / f"orders-{partition}").glob("*.log"))
        assert value(m, "weir_log_segments", **labels) == len(files) == 1
        assert value(m, "weir_log_size_bytes", **labels) == sum(f.stat().st_size for f in files)
        fsyncs = value(m, "weir_log_fsyncs_total", **labels)
        assert fsyncs >= 1
        assert value(m, "weir_log_fsync_duration_seconds_count", **labels) == fsyncs
        assert value(m, "weir_log_fsync_duration_seconds_sum", **labels) > 0
    assert value(m, "weir_log_end_offset", topic="events.dlq", partition="0") == 2
    assert value(m, "weir_log_recovery_seconds") > 0

    # groups: g1 committed 2 of 5 -> lag 3 records, the next record is ~120 s old
    assert value(m, "weir_group_lag_records", group="g1", topic="orders", partition="0") == 3
    lag_s = value(m, "weir_group_lag_seconds", group="g1", topic="orders", partition="0")
    assert 119 <= lag_s < 119 + 60
    assert value(m, "weir_group_members", group="g1") == 0
    assert value(m, "weir_group_members", group="g2") == 1
    assert value(m, "weir_group_rebalances_total", group="g2") >= 1
    # g2 never committed: lag runs from log start
    assert value(m, "weir_group_lag_records", group="g2", topic="orders", partition="1") == 3
    assert value(m, "weir_group_metrics_omitted") == 0

    # every family the docs list is exported, and the docs list every exported family
    documented = set(re.findall(r"`(weir_[a-z_]+)`", MONITORING_README.read_text()))
    exported = set(re.findall(r"^# TYPE (weir_[a-z_]+) ", text, flags=re.MULTILINE))
    assert documented == exported

    # registry
    assert value(m, "weir_registry_schemas") == 1
    assert value(m, "weir_registry_subjects") == 2
    assert value(m, "weir_registry_versions") == 2
    assert value(m, "weir_registry_registrations_total") == 2
    for rule in set(rules):
        expected = rules.count(rule)
        assert (
            value(m, "weir_registry_compatibility_failures_total", operation="check", rule=rule)
            == expected
        )
        assert (
            value(m, "weir_registry_compatibility_failures_total", operation="register", rule=rule)
            == expected
        )


def test_lag_moves_with_commits_and_new_records(
    server: ServerThread, channel: grpc.Channel, broker: Broker
) -> None:
    schema_id = broker.register("t-value", "AVRO", json.dumps(ORDER_AVSC))
    broker.create_topic("t", 1)
    groups = gs_grpc.GroupServiceStub(channel)

    def commit(offset: int) -> None:
        groups.CommitOffsets(
            gs.CommitOffsetsRequest(
                group_id="g",
                standalone=True,
                offsets=[gs.OffsetCommit(topic="t", partition=0, offset=offset)],
            )
        )

    def lag() -> tuple[float, float]:
        _, m = scrape(server)
        labels = {"group": "g", "topic": "t", "partition": "0"}
        return value(m, "weir_group_lag_records", **labels), value(
            m, "weir_group_lag_seconds", **labels
        )

    broker.produce("t", [record(avro_bytes(schema_id, {"id": "a", "qty": 1}))] * 4)
    commit(4)
    assert lag() == (0, 0)  # caught up: no lag in records or seconds
    broker.produce(
        "t",
        [record(avro_bytes(schema_id, {"id": "b", "qty": 2}), timestamp_ms=_two_minutes_ago_ms())]
        * 6,
    )
    records, seconds = lag()
    assert records == 6
    assert seconds >= 119
    commit(7)
    assert lag()[0] == 3


def test_each_server_has_its_own_registry(tmp_path: Path, server: ServerThread) -> None:
    other = ServerThread(tmp_path / "other")
    try:
        with grpc.insecure_channel(server.address) as ch:
            Broker(ch).create_topic("only-here", 1)
        text, _ = scrape(server)
        other_text, _ = scrape(other)
        assert 'topic="only-here"' in text
        assert 'topic="only-here"' not in other_text
    finally:
        other.stop()


def test_openmetrics_when_the_scraper_asks_and_text_for_plain_clients(
    server: ServerThread,
) -> None:
    prometheus_accept = (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
        "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    )
    request = urllib.request.Request(f"{server.http_url}/metrics")
    request.add_header("Accept", prometheus_accept)
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("application/openmetrics-text")
        assert reply.read().decode().rstrip().endswith("# EOF")
    request = urllib.request.Request(f"{server.http_url}/metrics")
    request.add_header("Accept", "text/plain")  # the registry's JSON negotiation would say 406
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert len(reply.headers["x-request-id"]) == 16
