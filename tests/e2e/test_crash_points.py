"""Deterministic crash points (``weir.core.crash_points``): for every point, start a real
`weir serve` with ``WEIR_CRASH_AT`` naming it, drive the workload that reaches it, require the
process to end there with 137 (a point never reached fails the test), restart it without the
point and check:

* it starts (no traceback in its log since the restart; SIGTERM later ends it with 0);
* every acknowledged record is at the offset its acknowledgement gave, with its value; no value
  is stored twice (the idempotent producer's retry after the restart is a duplicate, or
  appended once); offsets are dense (compacted topics: the newest acknowledged value of every
  key survives, and every stored record is one that was sent at that offset);
* committed offsets never went backwards (nor past what was sent);
* acknowledged schemas resolve by id, acknowledged ACLs are listed (removed ones are not);
* topics acknowledged as created exist with their partitions and config, topics acknowledged
  as deleted stay deleted and come back empty when created again; the operation the crash
  cut short is all-or-nothing and can be retried;
* a second restart shows exactly what the first one did.

Cases with ``then`` arm a second point for the first restart, so recovery's own writes (the
rebuilt topics.json, removing a half-deleted topic's partitions, the next cleanup) crash too.
The default run covers every point once (the cleanup-driven ones, retention and compaction, are
marked slow) plus two recovery crashes; ``WEIR_TEST_LONG=1`` adds later hits, the other
workloads' paths through the shared points, and more recovery crashes.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.e2e.fault_helpers import LONG, FixedServe, read_all, start_or_exit, wait_exit
from weir.core.crash_points import EXIT_CODE, POINTS
from weir.sdk import Admin, Producer, RetryPolicy, SchemaRegistryClient
from weir.v1 import acl_pb2, acl_service_pb2, acl_service_pb2_grpc
from weir.v1 import group_service_pb2 as gs
from weir.v1 import group_service_pb2_grpc as gs_grpc

PATIENT = RetryPolicy(attempts=400, initial_backoff_s=0.05, max_backoff_s=0.25)
FAST_CLEANUP = {"WEIR_LOG_CLEANUP_INTERVAL_MS": "150"}
QUIET = {"WEIR_LOG_CLEANUP_INTERVAL_MS": "3600000"}  # no cleanup while the state is compared
ACLS_ON = {"WEIR_ACL_ENABLED": "true", "WEIR_SUPER_USERS": "User:ANONYMOUS"}
GROUP = "crash-group"
SUBJECT = "crash-value"
NONE = {"value.schema.validation": "none"}


# ----- what the workloads saw ------------------------------------------------------------------


@dataclass
class Seen:
    """What a workload sent and what the server acknowledged."""

    stop: threading.Event = field(default_factory=threading.Event)
    acked: dict[tuple[str, int, int], bytes] = field(default_factory=dict)
    """(topic, partition, offset) -> value of every acknowledged record."""
    keys: dict[bytes, bytes] = field(default_factory=dict)
    """value -> key of every record sent."""
    topics: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    """Topics acknowledged as created (or grown): partition count and config."""
    deleted: set[str] = field(default_factory=set)
    """Topics acknowledged as deleted."""
    in_doubt: tuple[str, str, int] | None = None
    """The admin operation the crash cut short: (verb, topic, partition count)."""
    commits: list[int] = field(default_factory=list)
    """Acknowledged commits of partition 0, in order."""
    sent_commit: int = 0
    """The largest commit sent."""
    schemas: dict[int, str] = field(default_factory=dict)
    """Acknowledged schema id -> schema text."""
    acls: set[str] = field(default_factory=set)
    """Principals with an acknowledged (and not removed) ACL."""
    acl_doubt: str | None = None
    """The principal whose ACL change was cut short."""
    errors: list[str] = field(default_factory=list)


def admin_step(seen: Seen, verb: str, topic: str, count: int, call: Callable[[], Any]) -> bool:
    """Run one admin call; False (and the call recorded as in doubt) when it failed."""
    try:
        call()
    except Exception:
        seen.in_doubt = (verb, topic, count)
        return False
    return True


def producer(address: str) -> Producer:
    return Producer(address, linger_ms=2, delivery_timeout_ms=120_000, retry=PATIENT)


def produce_until_stopped(
    address: str, seen: Seen, topic: str, *, keys: int = 0, **kw: Any
) -> None:
    """Idempotent acks=all batches of 20 until told to stop; waits for the last batch's fate
    (its retries run on into the restarted server)."""
    n = 0
    with producer(address) as p:
        while not seen.stop.is_set():
            futures = []
            for _ in range(20):
                value = f"{topic}-v{n}-".encode() + b"x" * 60
                key = f"k{n % keys}".encode() if keys else None
                seen.keys[value] = key or b""
                futures.append((value, p.produce(topic, value, key=key, **kw)))
                n += 1
            for value, future in futures:
                try:
                    meta = future.result(timeout=150)
                except Exception as exc:
                    seen.errors.append(f"{value!r}: {exc}")
                    continue
                seen.acked[(topic, meta.partition, meta.offset)] = value


# ----- workloads -------------------------------------------------------------------------------


def w_boot(address: str, seen: Seen) -> None:
    """Nothing: the point fires while the server starts."""


def w_produce(address: str, seen: Seen) -> None:
    """Produce to a 2-partition topic with small segments (rolls, index saves)."""
    with Admin(address) as admin:
        admin.create_topic("p", 2, {**NONE, "segment.bytes": "3000"})
    produce_until_stopped(address, seen, "p")


def w_retention(address: str, seen: Seen) -> None:
    """Ancient records in small segments: retention deletes several segments per pass."""
    with Admin(address) as admin:
        admin.create_topic("r", 1, {**NONE, "segment.bytes": "1500", "retention.ms": "1000"})
    produce_until_stopped(address, seen, "r", timestamp=1000)


def w_compact(address: str, seen: Seen) -> None:
    """Keyed records on a compacted topic with small segments."""
    config = {**NONE, "cleanup.policy": "compact", "segment.bytes": "1500"}
    with Admin(address) as admin:
        admin.create_topic("c", 1, {**config, "min.compaction.lag.ms": "0"})
    produce_until_stopped(address, seen, "c", keys=7)


def w_topics(address: str, seen: Seen) -> None:
    """Create (3 partitions, a record in each), grow to 5, and delete every other topic."""
    with Admin(address) as admin, producer(address) as p:
        i = 0
        while not seen.stop.is_set():
            name, config = f"t{i}", {**NONE, "retention.ms": str(100_000 + i)}
            if not admin_step(
                seen, "create", name, 3, partial(admin.create_topic, name, 3, config)
            ):
                return
            seen.topics[name] = (3, config)
            for part in range(3):
                value = f"{name}-{part}".encode()
                meta = p.produce(name, value, partition=part).result(timeout=30)
                seen.acked[(name, part, meta.offset)] = value
            if not admin_step(seen, "grow", name, 5, partial(admin.add_partitions, name, 5)):
                return
            seen.topics[name] = (5, config)
            if i % 2:
                if not admin_step(seen, "delete", name, 5, partial(admin.delete_topic, name)):
                    return
                del seen.topics[name]
                seen.deleted.add(name)
            i += 1


def w_groups(address: str, seen: Seen) -> None:
    """Standalone commits of growing offsets on a topic with 300 records."""
    with Admin(address) as admin:
        admin.create_topic("g", 1, NONE)
    with producer(address) as p:
        futures = [p.produce("g", b"r%d" % i, partition=0) for i in range(300)]
        for f in futures:
            f.result(timeout=30)
    with grpc.insecure_channel(address) as channel:
        stub = gs_grpc.GroupServiceStub(channel)
        for offset in range(1, 301):
            if seen.stop.is_set():
                return
            seen.sent_commit = offset
            request = gs.CommitOffsetsRequest(
                group_id=GROUP,
                standalone=True,
                offsets=[gs.OffsetCommit(topic="g", partition=0, offset=offset)],
            )
            try:
                stub.CommitOffsets(request, timeout=10)
            except grpc.RpcError:
                return
            seen.commits.append(offset)


def avro(i: int) -> str:
    fields = [{"name": f"f{j}", "type": "int", "default": j} for j in range(i + 1)]
    return json.dumps({"type": "record", "name": "Crash", "fields": fields})


def w_schemas(address: str, seen: Seen) -> None:
    """Register a growing (backward compatible) Avro schema, one version at a time."""
    with SchemaRegistryClient(address) as registry:
        for i in range(200):
            if seen.stop.is_set():
                return
            try:
                registered = registry.register(SUBJECT, avro(i), "AVRO")
            except Exception:
                return
            seen.schemas[registered.id] = avro(i)


def acl(principal: str) -> acl_pb2.Acl:
    return acl_pb2.Acl(
        principal=principal,
        resource_type=acl_pb2.ACL_RESOURCE_TYPE_TOPIC,
        name="orders",
        pattern_type=acl_pb2.ACL_PATTERN_TYPE_LITERAL,
        operation=acl_pb2.ACL_OPERATION_READ,
        permission=acl_pb2.ACL_PERMISSION_ALLOW,
    )


def w_acls(address: str, seen: Seen) -> None:
    """Add an ACL per user; remove every third user's again."""
    with grpc.insecure_channel(address) as channel:
        stub = acl_service_pb2_grpc.AclServiceStub(channel)
        for i in range(200):
            if seen.stop.is_set():
                return
            user = f"User:u{i}"
            seen.acl_doubt = user
            try:
                stub.CreateAcls(acl_service_pb2.CreateAclsRequest(acls=[acl(user)]), timeout=10)
                seen.acls.add(user)
                if i % 3 == 2:
                    gone = f"User:u{i - 1}"
                    seen.acl_doubt = gone
                    selector = acl_pb2.AclFilter(principal=gone)
                    stub.DeleteAcls(
                        acl_service_pb2.DeleteAclsRequest(filters=[selector]), timeout=10
                    )
                    seen.acls.discard(gone)
            except grpc.RpcError:
                return
            seen.acl_doubt = None


WORKLOADS: dict[str, Callable[[str, Seen], None]] = {
    "boot": w_boot,
    "produce": w_produce,
    "retention": w_retention,
    "compact": w_compact,
    "topics": w_topics,
    "groups": w_groups,
    "schemas": w_schemas,
    "acls": w_acls,
}


# ----- reading the state back ------------------------------------------------------------------


def snapshot(address: str, acls: bool) -> dict[str, Any]:
    """Everything observable: topics, their config and records, commits, schemas, ACLs."""
    state: dict[str, Any] = {}
    with Admin(address, retry=PATIENT) as admin:
        for topic in admin.list_topics():
            info = admin.describe_topic(topic.name)
            state[f"topic {topic.name}"] = (info.partition_count, dict(info.config))
            for p in range(info.partition_count):
                state[f"log {topic.name}-{p}"] = read_all(address, topic.name, p)
        state["commits"] = sorted(
            (c.topic, c.partition, c.offset)
            for c in admin.committed_offsets(GROUP)
            if c.offset is not None
        )
    with SchemaRegistryClient(address, retry=PATIENT) as registry:
        versions = registry.list_versions(SUBJECT) if SUBJECT in registry.list_subjects() else []
        state["schemas"] = [(v, registry.get_version(SUBJECT, v).schema.text) for v in versions]
    if acls:
        with grpc.insecure_channel(address) as channel:
            stub = acl_service_pb2_grpc.AclServiceStub(channel)
            listed = stub.ListAcls(acl_service_pb2.ListAclsRequest(), timeout=10).acls
            state["acls"] = sorted(a.principal for a in listed)
    return state


# ----- the invariants --------------------------------------------------------------------------


def check_records(address: str, seen: Seen) -> None:
    """Acknowledged records at their offsets, nothing twice, dense offsets from log start."""
    logs: dict[tuple[str, int], tuple[int, list[tuple[int, bytes]]]] = {}
    gone = seen.deleted | ({seen.in_doubt[1]} if seen.in_doubt else set())  # check_topics'
    for topic, part, _ in seen.acked:
        if (topic, part) not in logs and topic not in gone:
            logs[(topic, part)] = read_all(address, topic, part)
    compacted = {"c"}
    for (topic, part), (start, records) in logs.items():
        values = [v for _, v in records]
        assert len(values) == len(set(values)), f"{topic}-{part}: a record is stored twice"
        offsets = [o for o, _ in records]
        assert offsets == sorted(offsets), f"{topic}-{part}: offsets out of order"
        if topic not in compacted:
            assert offsets == list(range(start, start + len(records))), f"{topic}-{part}: gaps"
        stored = dict(records)
        for (t, p, offset), value in seen.acked.items():
            if (t, p) != (topic, part):
                continue
            if topic in compacted:
                continue
            if offset >= start:
                assert stored.get(offset) == value, (
                    f"acknowledged {value!r} at {topic}-{part}@{offset} is "
                    f"{stored.get(offset)!r} (log start {start})"
                )
        for offset, value in records:  # nothing stored that was not sent, or sent elsewhere
            assert value in seen.keys or topic.startswith("t") or topic == "g", value
            acked_there = seen.acked.get((topic, part, offset))
            assert acked_there in (None, value), f"{topic}-{part}@{offset} changed"
        if topic in compacted:
            check_compacted(seen, part, records)


def check_compacted(seen: Seen, part: int, records: list[tuple[int, bytes]]) -> None:
    """The newest acknowledged value of every key is still there (or a newer one)."""
    newest_acked: dict[bytes, tuple[int, bytes]] = {}
    for (t, p, offset), value in sorted(seen.acked.items()):
        if (t, p) == ("c", part):
            newest_acked[seen.keys[value]] = (offset, value)
    newest_stored: dict[bytes, tuple[int, bytes]] = {}
    for offset, value in records:
        newest_stored[seen.keys[value]] = (offset, value)
    for key, (offset, value) in newest_acked.items():
        found = newest_stored.get(key)
        assert found is not None, f"key {key!r} lost by compaction (newest acked at {offset})"
        assert found[0] >= offset, f"key {key!r}: newest is {found}, acked {offset} is gone"
        if found[0] == offset:
            assert found[1] == value


def check_topics(address: str, seen: Seen) -> None:
    """Acknowledged topics as acknowledged; the cut-short operation all or nothing, then
    retried; deleted topics come back empty."""
    with Admin(address) as admin:
        listed = {t.name: t for t in admin.list_topics()}
        doubt = seen.in_doubt[1] if seen.in_doubt else None
        for name in seen.deleted:
            assert name not in listed, f"{name} was deleted and is back"
        for name, (count, config) in seen.topics.items():
            if name == doubt:
                continue
            assert name in listed, f"acknowledged topic {name} is gone"
            info = admin.describe_topic(name)
            assert info.partition_count == count, name
            assert dict(info.config) == config, name
        unknown = set(listed) - set(seen.topics) - {doubt} - {"p", "r", "c", "g"}
        assert not unknown, f"topics nobody created: {unknown}"
        if seen.in_doubt is not None:
            retry_in_doubt(address, admin, seen, listed)
        for name in sorted(seen.deleted):  # recreated: nothing of the old topic
            admin.create_topic(name, 5, NONE)
            for p in range(5):
                assert read_all(address, name, p) == (0, []), f"{name}-{p} kept old records"
            admin.delete_topic(name)


def retry_in_doubt(address: str, admin: Admin, seen: Seen, listed: dict[str, Any]) -> None:
    assert seen.in_doubt is not None
    verb, name, _ = seen.in_doubt
    config = {**NONE, "retention.ms": str(100_000 + int(name[1:]))}
    if verb == "create":
        if name in listed:  # it happened: whole, with its config, every partition readable
            info = admin.describe_topic(name)
            assert (info.partition_count, dict(info.config)) == (3, config)
            for p in range(3):
                assert read_all(address, name, p) == (0, [])
        else:
            admin.create_topic(name, 3, config)
        seen.topics[name] = (3, config)
        return
    if verb == "grow":
        info = admin.describe_topic(name)
        assert info.partition_count in (3, 5), info
        assert dict(info.config) == config
        if info.partition_count == 3:
            admin.add_partitions(name, 5)
        for p in range(5):
            read_all(address, name, p)
        seen.topics[name] = (5, config)
        return
    assert verb == "delete", verb
    if name in listed:  # not deleted: every partition still has its record
        info = admin.describe_topic(name)
        assert info.partition_count == 5
        for p in range(3):
            _, records = read_all(address, name, p)
            assert [v for _, v in records] == [f"{name}-{p}".encode()], (name, p, records)
        admin.delete_topic(name)
    seen.topics.pop(name, None)
    seen.deleted.add(name)


def check_commits(address: str, seen: Seen) -> None:
    with Admin(address) as admin:
        found = [c.offset for c in admin.committed_offsets(GROUP) if c.offset is not None]
    if not seen.commits:
        return
    assert found, "every commit was lost"
    assert seen.commits[-1] <= found[0] <= seen.sent_commit, (found, seen.commits[-1])


def check_schemas(address: str, seen: Seen) -> None:
    with SchemaRegistryClient(address) as registry:
        for schema_id, text in seen.schemas.items():
            assert json.loads(registry.get_schema(schema_id).text) == json.loads(text)
        if seen.schemas:  # the next registration still works and the subject is in order
            versions = registry.list_versions(SUBJECT)
            assert versions == list(range(1, len(versions) + 1))
            assert len(versions) >= len(seen.schemas)
            again = registry.register(SUBJECT, avro(len(versions)), "AVRO")
            assert again.version == len(versions) + 1


def check_acls(address: str, seen: Seen) -> None:
    with grpc.insecure_channel(address) as channel:
        stub = acl_service_pb2_grpc.AclServiceStub(channel)
        listed = {a.principal for a in stub.ListAcls(acl_service_pb2.ListAclsRequest()).acls}
    doubt = {seen.acl_doubt} if seen.acl_doubt else set()
    assert listed - doubt == seen.acls - doubt, (sorted(listed ^ seen.acls), doubt)


CHECKS: dict[str, list[Callable[[str, Seen], None]]] = {
    "boot": [],
    "produce": [check_records],
    "retention": [check_records],
    "compact": [check_records],
    "topics": [check_records, check_topics],
    "groups": [check_commits],
    "schemas": [check_schemas],
    "acls": [check_acls],
}


# ----- the cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One armed run: WEIR_CRASH_AT and the workload that reaches it."""

    spec: str
    workload: str
    heavy: bool = False
    then: str = ""
    """A second point, armed for the first restart (a crash during recovery)."""

    @property
    def point(self) -> str:
        return self.spec.partition(":")[0]


CASES = [
    Case("data_lock.after_lock", "boot"),
    Case("topics.write.after_tmp", "boot"),  # first boot: _schemas being created
    Case("topics.write.after_rename:2", "boot"),
    Case("topics.create.after_save", "boot"),
    Case("partition.append.after_write:40", "produce"),
    Case("partition.flush.after_fsync:20", "produce"),
    Case("partition.roll.after_new_file:3", "produce"),
    Case("partition.flush.before_index_save:2", "produce"),
    Case("partition.flush.after_index_save:2", "produce"),
    Case("index.save.after_offset_index:2", "produce"),
    Case("index.write.after_tmp:3", "produce"),
    Case("topics.create.after_first_partition:2", "topics"),
    Case("topics.create.after_partitions:4", "topics"),
    Case("topics.create.after_save:4", "topics"),
    Case("topics.write.after_tmp:5", "topics"),
    Case("topics.add_partitions.after_first:2", "topics"),
    Case("topics.add_partitions.after_partitions", "topics"),
    Case("topics.delete.after_save", "topics"),
    Case("topics.delete.after_first_partition", "topics"),
    Case("partition.delete.after_close:3", "topics"),
    Case("partition.delete.after_rename", "topics"),
    Case("groups.commit.after_append:5", "groups"),
    Case("schemas.append.after_append:3", "schemas"),
    Case("acl.add.after_append:4", "acls"),
    Case("acl.remove.after_append:2", "acls"),
    Case("log_start.after_tmp:2", "retention", heavy=True),
    Case("log_start.after_rename:2", "retention", heavy=True),
    Case("segments.drop.before_log_start:2", "retention", heavy=True),
    Case("segments.drop.after_log_start:2", "retention", heavy=True),
    Case("segments.drop.between_deletes", "retention", heavy=True),
    Case("compaction.after_cleaned_written:2", "compact", heavy=True),
    Case("compaction.after_index_removed:2", "compact", heavy=True),
    Case("compaction.after_rename:2", "compact", heavy=True),
    Case("compaction.between_segments", "compact", heavy=True),
]
CASES += [  # crashes during recovery: the first restart does the cleanup and crashes in it
    Case("topics.write.after_tmp", "boot", then="topics.write.after_tmp"),  # rebuilding
    Case("topics.delete.after_save", "topics", then="partition.delete.after_rename"),
]
LONG_CASES = [
    Case(
        "topics.add_partitions.after_partitions",
        "topics",
        heavy=True,
        then="partition.delete.after_rename:2",
    ),
    Case(
        "topics.create.after_partitions:4",
        "topics",
        heavy=True,
        then="partition.delete.after_close",
    ),
    Case("compaction.after_rename:2", "compact", heavy=True, then="compaction.after_rename"),
    Case("segments.drop.between_deletes", "retention", heavy=True, then="log_start.after_tmp"),
    Case("partition.append.after_write:3", "schemas", heavy=True),  # the sync _schemas path
    Case("partition.append.after_write:8", "groups", heavy=True),
    Case("partition.append.after_write:4", "acls", heavy=True),
    Case("partition.flush.after_fsync:5", "acls", heavy=True),
    Case("partition.roll.after_new_file:9", "produce", heavy=True),
    Case("partition.append.after_write:333", "produce", heavy=True),
    Case("topics.write.after_tmp:12", "topics", heavy=True),
    Case("topics.write.after_rename:9", "topics", heavy=True),
    Case("partition.delete.after_rename:4", "topics", heavy=True),
    Case("groups.commit.after_append:77", "groups", heavy=True),
    Case("schemas.append.after_append:9", "schemas", heavy=True),
    Case("compaction.after_rename:5", "compact", heavy=True),
    Case("segments.drop.between_deletes:3", "retention", heavy=True),
    Case("index.write.after_tmp:1", "produce", heavy=True),
]


def params(cases: list[Case]) -> list[Any]:
    return [
        pytest.param(
            c,
            id=c.spec + (f"+{c.then}" if c.then else ""),
            marks=[pytest.mark.slow] if c.heavy else [],
        )
        for c in cases
    ]


def test_every_crash_point_has_a_case() -> None:
    assert {c.point for c in CASES} == POINTS
    assert all(c.workload in WORKLOADS for c in CASES + LONG_CASES)


def server_env(case: Case) -> dict[str, str]:
    return {**(ACLS_ON if case.workload == "acls" else {}), **QUIET}


def new_log_text(server: FixedServe, since: int) -> str:
    return server.log.read_bytes()[since:].decode(errors="replace")


def server_env_for(server: FixedServe) -> dict[str, str]:
    return {k: v for k, v in server.env.items() if k != "WEIR_CRASH_AT"} | QUIET


def run_case(tmp_path: Path, case: Case) -> None:
    armed = {**server_env(case), **FAST_CLEANUP, "WEIR_CRASH_AT": case.spec}
    server = FixedServe(tmp_path / "data", tmp_path / "serve.log", **armed)
    seen = Seen()
    worker: threading.Thread | None = None
    code = start_or_exit(server)
    if code is None:
        worker = threading.Thread(target=WORKLOADS[case.workload], args=(server.address, seen))
        worker.start()
        code = wait_exit(server, timeout_s=40)
    log = server.log.read_text(errors="replace")
    assert code == EXIT_CODE, f"{case.spec}: exit {code}, not the crash point; log:\n{log[-3000:]}"
    assert f"weir: crash point {case.point} hit" in log
    seen.stop.set()
    if case.then:  # crash again, on the way back up (or in its first cleanup)
        server.env = {**armed, "WEIR_CRASH_AT": case.then}
        code = start_or_exit(server)
        if code is None:
            code = wait_exit(server, timeout_s=40)
        assert code == EXIT_CODE, f"{case.then}: exit {code}, not the crash point"
        assert f"weir: crash point {case.then.partition(':')[0]} hit" in server.log.read_text()
    since = server.log.stat().st_size
    server.env = server_env_for(server)
    server.start()
    if worker is not None:
        worker.join(timeout=150)
        assert not worker.is_alive(), "the workload hung after the restart"
    for check in CHECKS[case.workload]:
        check(server.address, seen)
    first = snapshot(server.address, case.workload == "acls")
    assert server.kill(signal.SIGTERM) == 0
    after_first = new_log_text(server, since)
    assert "Traceback" not in after_first, after_first[-3000:]
    since = server.log.stat().st_size
    server.start()
    second = snapshot(server.address, case.workload == "acls")
    assert server.kill(signal.SIGTERM) == 0
    assert "Traceback" not in new_log_text(server, since)
    assert second == first, "the second restart differs from the first"
    if case.workload == "produce":
        assert len(seen.acked) >= 20, "the workload acknowledged almost nothing"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("case", params(CASES + (LONG_CASES if LONG else [])))
def test_crash_point(tmp_path: Path, case: Case) -> None:
    started = time.monotonic()
    run_case(tmp_path, case)
    print(f"{case.spec}: survived in {time.monotonic() - started:.1f} s")
