"""Bearer tokens (good, bad, missing), the REST API, /metrics and /ui behind the same
authentication and ACLs, and the audit log's lines."""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.security_fixtures import (
    ADMIN,
    Start,
    mtls,
    pki,
    start,
    tls_settings,
    write_tokens,
)
from tests.security_helpers import Pki
from weir.core.errors import PermissionDeniedError, UnauthenticatedError
from weir.sdk import Admin, Credentials, SchemaRegistryClient
from weir.v1 import acl_pb2, acl_service_pb2, acl_service_pb2_grpc

__all__ = ["pki", "start"]

AVRO = '{"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}'
TOKENS = {"admin": "admin-secret-token", "alice": "alice-secret-token"}


def http(server, pki: Pki, method: str, path: str, token: str | None = None, *, body=None):
    """(status, JSON body) of one HTTPS request, with an optional bearer token."""
    url = server.http_url.replace("http://", "https://") + path
    headers = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as reply:
            text = reply.read()
            return reply.status, json.loads(text) if text.startswith((b"{", b"[")) else text
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture
def token_server(pki: Pki, start: Start, tmp_path: Path):
    tokens = write_tokens(tmp_path / "tokens.txt", TOKENS)
    return start(
        **tls_settings(pki, client_auth=False),
        auth_tokens_file=str(tokens),
        acl_enabled=True,
        super_users=ADMIN,
    )


def creds(pki: Pki, token: str | None) -> Credentials:
    return Credentials(ca_file=pki.ca.cert, token=token)


def test_tokens_good_bad_and_missing(pki: Pki, token_server) -> None:
    with Admin(token_server.address, credentials=creds(pki, "admin-secret-token")) as admin:
        assert admin.create_topic("orders", 1).name == "orders"
    with (
        Admin(token_server.address, credentials=creds(pki, "wrong")) as bad,
        pytest.raises(UnauthenticatedError, match="not valid"),
    ):
        bad.list_topics()
    with (
        Admin(token_server.address, credentials=creds(pki, None)) as missing,
        pytest.raises(UnauthenticatedError, match="requires authentication"),
    ):
        missing.list_topics()
    with Admin(token_server.address, credentials=creds(pki, "alice-secret-token")) as alice:
        assert alice.list_topics() == []  # no ACLs: an empty list, not a refusal
        with pytest.raises(PermissionDeniedError, match="User:alice"):
            alice.describe_topic("orders")


def test_rest_api_honours_tokens_and_acls(pki: Pki, token_server) -> None:
    body = {"schema": AVRO}
    assert http(token_server, pki, "GET", "/subjects")[0] == 401
    status, error = http(token_server, pki, "GET", "/subjects", token="nope")
    assert (status, error["error_code"]) == (401, 40101)
    assert http(token_server, pki, "GET", "/subjects", token="admin-secret-token")[0] == 200
    status, error = http(
        token_server,
        pki,
        "POST",
        "/subjects/orders-value/versions",
        "alice-secret-token",
        body=body,
    )
    assert (status, error["error_code"]) == (403, 40301)
    assert "User:alice" in error["message"]
    assert "write subject" in error["message"]
    with SchemaRegistryClient(token_server.address, credentials=creds(pki, TOKENS["admin"])) as r:
        stub = acl_service_pb2_grpc.AclServiceStub(r._channel)
        acl = acl_pb2.Acl(
            principal="User:alice",
            resource_type=acl_pb2.ACL_RESOURCE_TYPE_SUBJECT,
            name="orders-",
            pattern_type=acl_pb2.ACL_PATTERN_TYPE_PREFIXED,
            operation=acl_pb2.ACL_OPERATION_WRITE,
            permission=acl_pb2.ACL_PERMISSION_ALLOW,
        )
        r._call(stub.CreateAcls, acl_service_pb2.CreateAclsRequest(acls=[acl]))
    status, reply = http(
        token_server,
        pki,
        "POST",
        "/subjects/orders-value/versions",
        "alice-secret-token",
        body=body,
    )
    assert (status, reply["id"]) == (200, 1)
    assert http(token_server, pki, "GET", "/schemas/ids/1", token="alice-secret-token")[0] == 200
    assert http(token_server, pki, "GET", "/metrics")[0] == 401
    assert http(token_server, pki, "GET", "/metrics", token="alice-secret-token")[0] == 403
    assert http(token_server, pki, "GET", "/metrics", token="admin-secret-token")[0] == 200
    assert http(token_server, pki, "GET", "/ui/topics", token="alice-secret-token")[0] == 403


def audit_lines(server) -> list[dict]:
    path = server.data_dir / "audit.log"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_audit_log_records_who_what_when_and_outcome(pki: Pki, start: Start) -> None:
    server = start(**tls_settings(pki), acl_enabled=True, super_users=ADMIN)
    with Admin(server.address, credentials=mtls(pki, "admin")) as admin:
        admin.create_topic("orders", 1)
        admin.alter_config("orders", {"retention.ms": "1000"})
        with pytest.raises(Exception, match="already exists"):
            admin.create_topic("orders", 1)
        admin.delete_topic("orders")
    with SchemaRegistryClient(server.address, credentials=mtls(pki, "admin")) as registry:
        registry.register("orders-value", AVRO, "AVRO")
        registry.list_subjects()  # a read: not audited
    with Admin(server.address, credentials=mtls(pki, "alice")) as alice:
        with pytest.raises(PermissionDeniedError):
            alice.create_topic("sneaky", 1)
        with pytest.raises(PermissionDeniedError):
            alice.describe_topic("orders")  # refused too, but a read: not audited
    lines = audit_lines(server)
    seen = [(x["principal"], x["action"].split("/")[-1], x["outcome"]) for x in lines]
    assert seen == [
        ("User:admin", "CreateTopic", "ok"),
        ("User:admin", "UpdateTopicConfig", "ok"),
        ("User:admin", "CreateTopic", "TOPIC_ALREADY_EXISTS"),
        ("User:admin", "DeleteTopic", "ok"),
        ("User:admin", "RegisterSchema", "ok"),
        ("User:alice", "CreateTopic", "PERMISSION_DENIED"),
    ]
    first = lines[0]
    assert first["resources"] == [{"type": "topic", "name": "orders", "operation": "create"}]
    assert first["time"].endswith("+00:00")
    assert first["transport"] == "grpc"
    assert lines[-1]["resources"][0]["name"] == "sneaky"


def test_audit_log_with_security_off_names_anonymous_and_rest(start: Start, tmp_path) -> None:
    audit = tmp_path / "elsewhere" / "audit.jsonl"
    server = start(audit_log_file=str(audit))
    with Admin(server.address) as admin:
        admin.create_topic("orders", 1)
    body = json.dumps({"schema": AVRO}).encode()
    request = urllib.request.Request(
        server.http_url + "/subjects/orders-value/versions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200
    bad = urllib.request.Request(
        server.http_url + "/config/orders-value",
        data=b'{"compatibility": "SIDEWAYS"}',
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(bad, timeout=10)
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(x["principal"], x["action"], x["outcome"][:8]) for x in lines] == [
        ("User:ANONYMOUS", "weir.v1.TopicService/CreateTopic", "ok"),
        ("User:ANONYMOUS", "POST /subjects/{subject}/versions", "ok"),
        ("User:ANONYMOUS", "PUT /config/{subject}", "HTTP 422"),
    ]
    assert lines[1]["transport"] == "http"
    assert all(len(x["request_id"]) == 16 for x in lines)  # the id the call was answered with


def test_a_failing_audit_log_does_not_fail_the_change(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    server = start(audit_log_file="/dev/full")  # every write: ENOSPC, as on a full disk
    with caplog.at_level(logging.ERROR, logger="weir.audit"), Admin(server.address) as admin:
        assert admin.create_topic("orders", 1).name == "orders"  # best-effort: the change stands
        assert [t.name for t in admin.list_topics()] == ["orders"]
        admin.delete_topic("orders")
    errors = [r.getMessage() for r in caplog.records if r.name == "weir.audit"]
    assert len(errors) == 2, errors
    assert all("/dev/full" in e and "not recorded" in e for e in errors), errors
    assert "CreateTopic" in errors[0]
