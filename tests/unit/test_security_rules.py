"""The RPC table covers every Weir RPC; Kafka's ACL decision rules; the tokens-file format."""

from __future__ import annotations

import asyncio

import pytest

from weir.broker.security.acl import (
    AclBinding,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    authorize,
)
from weir.broker.security.rules import RULES
from weir.broker.security.tokens import TokenVerifier, hash_line, load_tokens, parse_line
from weir.core.errors import InvalidArgumentError
from weir.v1 import (
    acl_service_pb2,
    group_service_pb2,
    log_service_pb2,
    registry_service_pb2,
    topic_service_pb2,
)

MODULES = (
    acl_service_pb2,
    group_service_pb2,
    log_service_pb2,
    registry_service_pb2,
    topic_service_pb2,
)


def every_rpc() -> list[tuple[str, object]]:
    found = []
    for module in MODULES:
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                request = getattr(module, method.input_type.name)()
                found.append((f"{service.full_name}/{method.name}", request))
    return found


def test_every_rpc_has_exactly_one_rule() -> None:
    names = [name for name, _ in every_rpc()]
    assert sorted(names) == sorted(RULES)
    for name, request in every_rpc():
        needs = RULES[name].needs(request)  # an empty request still maps without error
        assert all(n.operation is not Operation.ALL for n in needs), name


def test_every_mutation_is_audited() -> None:
    audited = {name.split("/")[1] for name, rule in RULES.items() if rule.audit}
    assert audited == {
        "CreateTopic", "UpdateTopicConfig", "CreatePartitions", "DeleteTopic", "ResetOffsets",
        "DeleteGroup", "RegisterSchema", "DeleteSubject", "DeleteSchemaVersion",
        "SetCompatibility", "DeleteCompatibility", "SetMode", "CreateAcls", "DeleteAcls",
    }  # fmt: skip


def acl(principal, op, name="orders", *, deny=False, prefixed=False, kind=ResourceType.TOPIC):
    return AclBinding(
        principal,
        kind,
        name,
        PatternType.PREFIXED if prefixed else PatternType.LITERAL,
        Operation(op),
        Permission.DENY if deny else Permission.ALLOW,
    )


def allowed(acls, principal, op, name="orders", kind=ResourceType.TOPIC, *, supers=frozenset()):
    return authorize(
        acls, supers, principal, resource_type=kind, name=name, operation=Operation(op)
    )


@pytest.mark.parametrize(
    ("acls", "principal", "op", "name", "expected"),
    [
        ([], "User:alice", "read", "orders", False),  # deny by default
        ([acl("User:alice", "read")], "User:alice", "read", "orders", True),
        ([acl("User:alice", "read")], "User:alice", "write", "orders", False),
        ([acl("User:alice", "read")], "User:bob", "read", "orders", False),
        ([acl("User:alice", "read")], "User:alice", "read", "orders2", False),  # literal
        ([acl("User:alice", "read")], "User:alice", "describe", "orders", True),  # implied
        ([acl("User:alice", "create")], "User:alice", "describe", "orders", False),
        ([acl("User:alice", "all")], "User:alice", "delete", "orders", True),
        ([acl("User:*", "read")], "User:anyone", "read", "orders", True),
        ([acl("User:alice", "read", "*")], "User:alice", "read", "x", True),  # wildcard
        ([acl("User:alice", "read", "pay.", prefixed=True)], "User:alice", "read", "pay.x", True),
        ([acl("User:alice", "read", "pay.", prefixed=True)], "User:alice", "read", "pa", False),
        ([acl("User:*", "read"), acl("User:bob", "read", deny=True)], "User:bob", "read",
         "orders", False),  # deny wins
        ([acl("User:alice", "all"), acl("User:*", "write", deny=True)], "User:alice", "write",
         "orders", False),
        ([acl("User:alice", "read", deny=True), acl("User:alice", "describe")], "User:alice",
         "describe", "orders", True),  # a denied read does not deny describe
    ],
)  # fmt: skip
def test_kafka_decision_rules(acls, principal, op, name, expected) -> None:
    assert allowed(acls, principal, op, name) is expected


def test_super_users_and_resource_types() -> None:
    deny_all = [acl("User:*", "all", "*", deny=True)]
    assert allowed(deny_all, "User:root", "delete", supers=frozenset({"User:root"}))
    group_acl = [acl("User:alice", "read", "orders", kind=ResourceType.GROUP)]
    assert not allowed(group_acl, "User:alice", "read", "orders", ResourceType.TOPIC)
    assert allowed(group_acl, "User:alice", "read", "orders", ResourceType.GROUP)


def test_token_lines_round_trip_and_refuse_bad_lines(tmp_path) -> None:
    line = hash_line("alice", "s3cret", iterations=10)
    assert "s3cret" not in line
    assert line.startswith("alice:pbkdf2_sha256$10$")
    parsed = parse_line(line, "f:1")
    assert parsed.principal == "User:alice"
    assert parsed.check("s3cret")
    assert not parsed.check("s3cret ")
    assert parse_line(hash_line("Svc:etl", "t", 5), "f:2").principal == "Svc:etl"
    for bad in ("alice:plain-token", "alice:pbkdf2_sha256$x$00$00", "pbkdf2_sha256$1$00$00"):
        with pytest.raises(InvalidArgumentError, match="f:3"):
            parse_line(bad, "f:3")
    path = tmp_path / "tokens"
    path.write_text(f"# comment\n\n{line}\n{hash_line('bob', 'other', iterations=10)}\n")
    verifier = TokenVerifier(load_tokens(path))
    assert len(verifier) == 2
    assert asyncio.run(verifier.principal("other")) == "User:bob"
    assert asyncio.run(verifier.principal("s3cret")) == "User:alice"
    assert asyncio.run(verifier.principal("guess")) is None
    path.write_text("alice:nope\n")
    with pytest.raises(InvalidArgumentError, match=r"tokens:1"):
        load_tokens(path)
