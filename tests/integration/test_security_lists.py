"""List results filtered by ACL, as Kafka does: ListTopics, ListGroups, ListSubjects (gRPC, the
SDK sync and asyncio clients) and the REST routes listing subjects return only the names the
caller may describe; a caller with no ACLs gets empty lists, not PERMISSION_DENIED; describe
on the cluster (or a super user) sees everything."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.request

from tests.integration.security_fixtures import ADMIN, Start, mtls, pki, start, tls_settings
from tests.integration.test_security_acl import Acls
from tests.security_helpers import Pki
from weir.sdk import (
    Admin,
    AsyncAdmin,
    AsyncSchemaRegistryClient,
    Consumer,
    SchemaRegistryClient,
    TopicPartition,
)
from weir.sdk._client import GrpcClient
from weir.v1 import group_service_pb2, group_service_pb2_grpc

__all__ = ["pki", "start"]

RAW = {"value.schema.validation": "none"}
TOPICS = ["orders", "other", "pay.cards", "pay.refunds"]
GROUPS = ["billing", "pay-cards", "pay-refunds"]
SUBJECTS = ["orders-value", "other-value", "pay.cards-value", "pay.refunds-value"]
AVRO = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'
OTHER = '{"type": "record", "name": "Other", "fields": [{"name": "n", "type": "long"}]}'


class Groups(GrpcClient):
    """GroupService, to make groups by committing offsets."""

    def __init__(self, address: str, credentials) -> None:
        super().__init__(address, credentials=credentials)
        self.stub = group_service_pb2_grpc.GroupServiceStub(self._channel)

    def commit(self, group: str, topic: str) -> None:
        request = group_service_pb2.CommitOffsetsRequest(
            group_id=group,
            standalone=True,
            offsets=[group_service_pb2.OffsetCommit(topic=topic, partition=0, offset=0)],
        )
        self._call(self.stub.CommitOffsets, request)


def rest(server, pki: Pki, user: str, path: str):
    """GET ``path`` over HTTPS with ``user``'s client certificate: (status, JSON)."""
    url = server.http_url.replace("http://", "https://") + path
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    context.load_cert_chain(pki.folder / f"{user}.crt", pki.folder / f"{user}.key")
    with urllib.request.urlopen(url, context=context, timeout=10) as reply:
        return reply.status, json.loads(reply.read())


def populated(start: Start, pki: Pki):
    """A secured server with TOPICS, GROUPS and SUBJECTS; alice may see the pay ones only."""
    server = start(**tls_settings(pki), acl_enabled=True, super_users=ADMIN)
    admin = mtls(pki, "admin")
    with (
        Admin(server.address, credentials=admin) as client,
        SchemaRegistryClient(server.address, credentials=admin) as registry,
        Groups(server.address, admin) as groups,
        Acls(server.address, admin) as acls,
    ):
        for name in TOPICS:
            client.create_topic(name, 1, RAW)
        for group in GROUPS:
            groups.commit(group, "orders")
        # One schema id under a subject alice may see and one she may not.
        for subject in SUBJECTS:
            registry.register(subject, OTHER if subject.startswith("other") else AVRO, "AVRO")
        acls.add("User:alice", "read", "topic", "pay.", prefixed=True)
        acls.add("User:alice", "describe", "topic", "pay.refunds", deny=True)  # deny wins
        acls.add("User:alice", "write", "topic", "orders-archive")  # no such topic: nothing
        acls.add("User:alice", "read", "group", "pay-", prefixed=True)
        acls.add("User:alice", "read", "subject", "pay.", prefixed=True)
        acls.add("User:alice", "create", "subject", "orders-value")  # create: not describe
    return server


def test_grpc_lists_keep_what_the_caller_may_describe(pki: Pki, start: Start) -> None:
    server = populated(start, pki)
    with (
        Admin(server.address, credentials=mtls(pki, "alice")) as alice,
        SchemaRegistryClient(server.address, credentials=mtls(pki, "alice")) as registry,
    ):
        assert [t.name for t in alice.list_topics()] == ["pay.cards"]
        internal = [t.name for t in alice.list_topics(include_internal=True)]
        assert internal == ["pay.cards"]  # __acls, _schemas ... need describe too
        assert [g.group_id for g in alice.list_groups()] == ["pay-cards", "pay-refunds"]
        assert registry.list_subjects() == ["pay.cards-value", "pay.refunds-value"]
        assert registry.list_subjects(prefix="pay.c") == ["pay.cards-value"]
        shared = registry.get_schema_versions(1)  # id 1 is under orders-value and pay.*-value
        assert sorted(v.subject for v in shared) == ["pay.cards-value", "pay.refunds-value"]
    with (
        Admin(server.address, credentials=mtls(pki, "bob")) as bob,
        SchemaRegistryClient(server.address, credentials=mtls(pki, "bob")) as registry,
    ):
        assert bob.list_topics() == []  # nothing allowed: empty, not PERMISSION_DENIED
        assert bob.list_groups() == []
        assert registry.list_subjects() == []
        assert registry.get_schema_versions(1) == []
    with Acls(server.address, mtls(pki, "admin")) as acls:
        acls.add("User:bob", "describe", "cluster", "weir-cluster")
    with (
        Admin(server.address, credentials=mtls(pki, "bob")) as bob,
        SchemaRegistryClient(server.address, credentials=mtls(pki, "bob")) as registry,
    ):
        assert [t.name for t in bob.list_topics()] == TOPICS  # the ACL change is seen at once
        assert [g.group_id for g in bob.list_groups()] == GROUPS
        assert registry.list_subjects() == SUBJECTS
    with Admin(server.address, credentials=mtls(pki, "admin")) as admin:  # super user
        assert [t.name for t in admin.list_topics()] == TOPICS


def test_asyncio_sdk_lists_are_filtered(pki: Pki, start: Start) -> None:
    server = populated(start, pki)

    async def as_alice() -> tuple[list[str], list[str], list[str]]:
        creds = mtls(pki, "alice")
        async with (
            AsyncAdmin(server.address, credentials=creds) as admin,
            AsyncSchemaRegistryClient(server.address, credentials=creds) as registry,
        ):
            topics = [t.name for t in await admin.list_topics()]
            groups = [g.group_id for g in await admin.list_groups()]
            return topics, groups, await registry.list_subjects()

    topics, groups, subjects = asyncio.run(as_alice())
    assert (topics, groups) == (["pay.cards"], ["pay-cards", "pay-refunds"])
    assert subjects == ["pay.cards-value", "pay.refunds-value"]


def test_rest_routes_list_only_visible_subjects(pki: Pki, start: Start) -> None:
    server = populated(start, pki)
    assert rest(server, pki, "alice", "/subjects") == (
        200,
        ["pay.cards-value", "pay.refunds-value"],
    )
    assert rest(server, pki, "bob", "/subjects") == (200, [])
    assert rest(server, pki, "admin", "/subjects")[1] == SUBJECTS
    assert rest(server, pki, "alice", "/subjects?deleted=true")[1] == [
        "pay.cards-value",
        "pay.refunds-value",
    ]
    status, schemas = rest(server, pki, "alice", "/schemas")
    assert status == 200
    assert sorted(s["subject"] for s in schemas) == ["pay.cards-value", "pay.refunds-value"]
    assert rest(server, pki, "bob", "/schemas") == (200, [])
    assert len(rest(server, pki, "admin", "/schemas")[1]) == 4
    assert rest(server, pki, "alice", "/schemas/ids/1/versions")[1] == [
        {"subject": "pay.cards-value", "version": 1},
        {"subject": "pay.refunds-value", "version": 1},
    ]
    assert rest(server, pki, "alice", "/schemas/ids/1/subjects")[1] == [
        "pay.cards-value",
        "pay.refunds-value",
    ]
    assert rest(server, pki, "bob", "/schemas/ids/1/subjects") == (200, [])
    admin_view = rest(server, pki, "admin", "/schemas/ids/1/subjects")[1]
    assert admin_view == ["orders-value", "pay.cards-value", "pay.refunds-value"]
    # Paging applies to the visible list: the first visible subject, not the first of all.
    assert rest(server, pki, "alice", "/subjects?offset=0&limit=1")[1] == ["pay.cards-value"]


def test_lists_are_unfiltered_and_open_when_acls_are_off(start: Start) -> None:
    server = start()
    with Admin(server.address) as admin, SchemaRegistryClient(server.address) as registry:
        admin.create_topic("orders", 1, RAW)
        registry.register("orders-value", AVRO, "AVRO")
        assert [t.name for t in admin.list_topics()] == ["orders"]
        assert registry.list_subjects() == ["orders-value"]
    with urllib.request.urlopen(server.http_url + "/subjects", timeout=10) as reply:
        assert json.loads(reply.read()) == ["orders-value"]


def test_a_regex_subscription_matches_only_topics_the_member_may_describe(
    pki: Pki, start: Start
) -> None:
    """Kafka (KIP-848) resolves a regex to the topics the member is authorized to describe:
    alice's '.*' gets pay.cards only (not orders, other, or pay.refunds, which a deny hides)."""
    server = populated(start, pki)
    with (
        Consumer(
            "pay-cards",
            "^.*",
            server=server.address,
            credentials=mtls(pki, "alice"),
            session_timeout_ms=3000,
        ) as alice,
        Admin(server.address, credentials=mtls(pki, "admin")) as admin,
    ):
        deadline = time.monotonic() + 10
        while not alice.assignment() and time.monotonic() < deadline:
            alice.poll(0.1)
        assert alice.assignment() == [TopicPartition("pay.cards", 0)]
        alice.poll(0.5)  # a later heartbeat changes nothing
        assert alice.assignment() == [TopicPartition("pay.cards", 0)]
        (member,) = admin.describe_group("pay-cards").members
        assert member.assignment == (("pay.cards", 0),)
