"""ACLs across services: allow, deny, prefixes, deny wins, super users, default deny per
resource type and operation, and persistence across a restart (mTLS principals)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.security_fixtures import ADMIN, Start, mtls, pki, start, tls_settings
from tests.security_helpers import Pki
from weir.core.errors import FailedPreconditionError, GroupNotFoundError, PermissionDeniedError
from weir.sdk import Admin, Credentials, Producer, SchemaRegistryClient
from weir.sdk._client import GrpcClient
from weir.v1 import acl_pb2, acl_service_pb2, acl_service_pb2_grpc

__all__ = ["pki", "start"]

RAW = {"value.schema.validation": "none"}
AVRO = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'


class Acls(GrpcClient):
    """AclService for tests."""

    def __init__(self, address: str, credentials: Credentials) -> None:
        super().__init__(address, credentials=credentials)
        self.stub = acl_service_pb2_grpc.AclServiceStub(self._channel)

    def add(self, principal: str, op: str, kind: str, name: str, *, prefixed=False, deny=False):
        acl = acl_pb2.Acl(
            principal=principal,
            resource_type=getattr(acl_pb2, f"ACL_RESOURCE_TYPE_{kind.upper()}"),
            name=name,
            pattern_type=acl_pb2.ACL_PATTERN_TYPE_PREFIXED
            if prefixed
            else acl_pb2.ACL_PATTERN_TYPE_LITERAL,
            operation=getattr(acl_pb2, f"ACL_OPERATION_{op.upper()}"),
            permission=acl_pb2.ACL_PERMISSION_DENY if deny else acl_pb2.ACL_PERMISSION_ALLOW,
        )
        request = acl_service_pb2.CreateAclsRequest(acls=[acl])
        return self._call(self.stub.CreateAcls, request).created

    def listed(self) -> list[tuple[str, str]]:
        reply = self._call(self.stub.ListAcls, acl_service_pb2.ListAclsRequest())
        return [(a.principal, a.name) for a in reply.acls]


def secured(start: Start, pki: Pki, data: str = "data", **extra: object):
    return start(data, **tls_settings(pki), acl_enabled=True, super_users=ADMIN, **extra)


def denied(call, *words: str) -> PermissionDeniedError:
    with pytest.raises(PermissionDeniedError) as caught:
        call()
    for word in words:
        assert word in caught.value.message, caught.value.message
    return caught.value


def test_topic_acls_allow_deny_prefix_and_super_user(pki: Pki, start: Start) -> None:
    server = secured(start, pki)
    admin_creds = mtls(pki, "admin")
    with (
        Admin(server.address, credentials=admin_creds) as admin,
        Acls(server.address, admin_creds) as acls,
    ):
        for name in ("orders", "pay.cards", "pay.refunds", "other"):
            admin.create_topic(name, 1, RAW)  # a super user needs no ACL
        acls.add("User:alice", "write", "topic", "orders")
        acls.add("User:alice", "read", "topic", "pay.", prefixed=True)
        acls.add("User:*", "describe", "topic", "*")
        acls.add("User:bob", "describe", "topic", "other", deny=True)  # deny wins over User:*
    with Producer(server.address, credentials=mtls(pki, "alice"), linger_ms=0) as producer:
        meta = producer.produce("orders", b"o-1").result(timeout=10)
        assert meta.offset == 0
        refused = producer.produce("other", b"x")
        with pytest.raises(PermissionDeniedError) as caught:
            refused.result(timeout=10)
        assert "User:alice" in caught.value.message
        assert "write" in caught.value.message
    with Admin(server.address, credentials=mtls(pki, "alice")) as alice:
        assert alice.describe_topic("pay.cards").name == "pay.cards"  # read implies describe
        assert alice.describe_topic("other").name == "other"  # User:* describe
        error = denied(lambda: alice.create_topic("new", 1), "User:alice", "create", "'new'")
        assert error.metadata["resource_type"] == "topic"
        denied(lambda: alice.delete_topic("orders"), "delete")
        every = ["orders", "other", "pay.cards", "pay.refunds"]
        assert sorted(t.name for t in alice.list_topics()) == every  # User:* describe *
        denied(lambda: alice.add_partitions("orders", 2), "alter")
    with Admin(server.address, credentials=mtls(pki, "bob")) as bob:
        assert bob.describe_topic("orders").name == "orders"
        denied(lambda: bob.describe_topic("other"), "User:bob", "describe topic 'other'")
        assert sorted(t.name for t in bob.list_topics()) == ["orders", "pay.cards", "pay.refunds"]


def test_group_subject_cluster_and_acl_service_default_deny(pki: Pki, start: Start) -> None:
    server = secured(start, pki)
    admin_creds = mtls(pki, "admin")
    with (
        Acls(server.address, admin_creds) as acls,
        Admin(server.address, credentials=admin_creds) as admin,
    ):
        admin.create_topic("orders", 1, RAW)
        acls.add("User:alice", "read", "group", "billing")
        acls.add("User:alice", "read", "topic", "orders")
        acls.add("User:alice", "write", "subject", "orders-", prefixed=True)
        acls.add("User:alice", "read", "subject", "orders-value")
        acls.add("User:alice", "all", "subject", "orders-key", deny=True)
    alice = mtls(pki, "alice")
    with SchemaRegistryClient(server.address, credentials=alice) as registry:
        assert registry.register("orders-value", AVRO, "AVRO").version == 1
        assert registry.list_versions("orders-value") == [1]
        denied(lambda: registry.register("orders-key", AVRO, "AVRO"), "write subject")
        denied(lambda: registry.register("payments-value", AVRO, "AVRO"), "'payments-value'")
        denied(lambda: registry.delete_subject("orders-value"), "delete subject")
        assert registry.list_subjects() == ["orders-value"]  # filtered, not refused
    with Admin(server.address, credentials=alice) as admin:
        with pytest.raises(GroupNotFoundError):  # allowed (read implies describe): no such group
            admin.describe_group("billing")
        denied(lambda: admin.describe_group("audit"), "describe group 'audit'")
        denied(lambda: admin.delete_group("billing"), "delete group 'billing'")
        assert admin.list_groups() == []  # no group yet; filtered, not refused
    with Acls(server.address, alice) as acls:
        denied(lambda: acls.add("User:alice", "all", "cluster", "weir-cluster"), "alter cluster")
        denied(acls.listed, "describe cluster")


def test_acls_survive_a_restart(pki: Pki, start: Start, tmp_path: Path) -> None:
    server = secured(start, pki)
    with Acls(server.address, mtls(pki, "admin")) as acls:
        assert len(acls.add("User:alice", "write", "topic", "orders")) == 1
        assert acls.add("User:alice", "write", "topic", "orders") == []  # already there
        acls.add("User:bob", "read", "topic", "t-", prefixed=True)
    server.stop()
    again = secured(start, pki)
    with Acls(again.address, mtls(pki, "admin")) as acls:
        assert sorted(acls.listed()) == [("User:alice", "orders"), ("User:bob", "t-")]
        request = acl_service_pb2.DeleteAclsRequest(
            filters=[acl_pb2.AclFilter(principal="User:bob")]
        )
        assert len(acls._call(acls.stub.DeleteAcls, request).deleted) == 1
    again.stop()
    third = secured(start, pki)
    with Acls(third.address, mtls(pki, "admin")) as acls:
        assert acls.listed() == [("User:alice", "orders")]
    internal = {t.name: t for t in third.server.topics.list(include_internal=True)}
    assert internal["__acls"].internal


def test_acl_service_refuses_when_acls_are_off(pki: Pki, start: Start) -> None:
    server = start()
    with Acls(server.address, None) as acls, pytest.raises(FailedPreconditionError, match="acl"):
        acls.listed()
