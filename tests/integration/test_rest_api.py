"""The Confluent-compatible REST API over raw HTTP against a real server.

Every route, every Confluent error code the API can give, the three content types, and a
cross-check that REST and gRPC share one registry.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from tests.integration.rest_helpers import V1, Rest
from weir.broker.embedded import EmbeddedServer
from weir.sdk import SchemaRegistryClient

STRING = '{"type": "string"}'
INT = '{"type": "int"}'


def record(*fields: tuple[str, str] | tuple[str, str, object]) -> str:
    """An Avro record acme.Order; each field is (name, type) or (name, type, default)."""
    out = []
    for f in fields:
        entry: dict[str, object] = {"name": f[0], "type": f[1]}
        if len(f) == 3:
            entry["default"] = f[2]
        out.append(entry)
    return json.dumps({"type": "record", "name": "Order", "namespace": "acme", "fields": out})


V1_ORDER = record(("id", "string"))
V2_ORDER = record(("id", "string"), ("qty", "int", 0))
BREAKING = record(("id", "string"), ("qty", "int"))
PROTO = 'syntax = "proto3";\npackage acme;\nmessage Ping { string id = 1; }\n'
JSON_SCHEMA = json.dumps({"type": "object", "properties": {"a": {"type": "string"}}})


@pytest.fixture
def rest(server: EmbeddedServer) -> Rest:
    return Rest(server.http_url)


# ----- server-level routes ----------------------------------------------------------------


def test_root_types_contexts_and_metadata(rest: Rest) -> None:
    assert rest.get("/").json() == {}
    assert sorted(rest.get("/schemas/types").json()) == ["AVRO", "JSON", "PROTOBUF"]
    assert rest.get("/contexts").json() == ["."]
    meta = rest.get("/v1/metadata/id").json()
    assert set(meta) == {"id", "scope"}
    assert set(meta["scope"]["clusters"]) == {
        "kafka-cluster",
        "schema-registry-cluster",
    }
    assert rest.get("/v1/metadata/version").json()["version"]


def test_openapi_document_lists_every_served_route(rest: Rest, server: EmbeddedServer) -> None:
    doc = rest.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    app = server.server.http.runner.app
    assert app is not None
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        mounted = path and path.startswith(("/ui", "/metrics"))  # the console and metrics
        if route.method != "HEAD" and path and "{tail" not in path and not mounted:
            served.add((route.method, path))
    assert served - documented == set()
    assert documented - served <= {("GET", "/associations/resources/{namespace}/{name}")}


def test_associations_unknown_routes_and_methods_answer_json_errors(rest: Rest) -> None:
    for path in ("/associations/resources/acme/orders", "/associations", "/no/such/route"):
        reply = rest.get(path)
        assert (reply.status, reply.error_code) == (404, 404)
        assert reply.content_type == V1
    assert rest.post("/associations", {}).status == 404
    reply = rest.call("PATCH", "/subjects")
    assert (reply.status, reply.error_code) == (405, 405)


# ----- content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, V1),
        ("*/*", V1),
        ("application/json", "application/json"),
        ("application/vnd.schemaregistry+json", "application/vnd.schemaregistry+json"),
        (
            "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, "
            "application/json",
            V1,
        ),
        ("application/json;q=0.9, application/vnd.schemaregistry+json;q=0.1", "application/json"),
    ],
)
def test_response_content_type_is_negotiated(rest: Rest, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    assert rest.get("/subjects", headers=headers).content_type == expected
    assert rest.get("/subjects/missing/versions", headers=headers).content_type == expected


def test_unacceptable_accept_is_406(rest: Rest) -> None:
    reply = rest.get("/subjects", headers={"Accept": "text/html"})
    assert (reply.status, reply.error_code) == (406, 406)


@pytest.mark.parametrize(
    "content_type",
    [V1, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream"],
)
def test_every_confluent_request_content_type_is_accepted(rest: Rest, content_type: str) -> None:
    reply = rest.post(
        "/subjects/ct/versions", {"schema": STRING}, headers={"Content-Type": content_type}
    )
    assert reply.status == 200
    assert reply.json()["id"] == 1


def test_bad_bodies(rest: Rest) -> None:
    reply = rest.post(
        "/subjects/s/versions", {"schema": STRING}, headers={"Content-Type": "text/plain"}
    )
    assert (reply.status, reply.error_code) == (415, 415)
    reply = rest.post("/subjects/s/versions", raw=b"{not json")
    assert (reply.status, reply.error_code) == (400, 400)
    for body in ([1, 2], {"schema": 5}, {"schema": STRING, "references": "x"}):
        reply = rest.post("/subjects/s/versions", body)
        assert (reply.status, reply.error_code) == (422, 422), body
    reply = rest.post("/subjects/s/versions", raw=b"")
    assert (reply.status, reply.error_code) == (422, 422)


# ----- schemas, subjects and versions --------------------------------------------------------


def test_register_get_and_lookup(rest: Rest) -> None:
    reply = rest.post("/subjects/orders-value/versions", {"schema": V1_ORDER})
    assert reply.status == 200
    assert reply.content_type == V1
    body = reply.json()
    assert body["id"] == 1
    assert body["version"] == 1
    assert "schemaType" not in body
    again = rest.post("/subjects/orders-value/versions", {"schema": V1_ORDER, "schemaType": "AVRO"})
    assert again.json()["id"] == 1
    assert again.json()["version"] == 1
    assert rest.get("/schemas/ids/1").json() == {"schema": V1_ORDER}
    assert json.loads(rest.get("/schemas/ids/1/schema").text) == json.loads(V1_ORDER)
    latest = rest.get("/subjects/orders-value/versions/latest").json()
    assert latest == {"subject": "orders-value", "version": 1, "id": 1, "schema": V1_ORDER}
    assert rest.get("/subjects/orders-value/versions/-1").json() == latest
    assert rest.get("/subjects/orders-value/versions/1").json() == latest
    assert json.loads(rest.get("/subjects/orders-value/versions/1/schema").text)["name"] == "Order"
    # Whitespace and key order do not matter for lookup.
    spaced = json.dumps(json.loads(V1_ORDER), indent=4)
    assert rest.post("/subjects/orders-value", {"schema": spaced}).json() == latest
    assert rest.get("/subjects").json() == ["orders-value"]
    assert rest.get("/subjects/orders-value/versions").json() == [1]
    assert rest.get("/schemas/ids/1/subjects").json() == ["orders-value"]
    assert rest.get("/schemas/ids/1/versions").json() == [{"subject": "orders-value", "version": 1}]


def test_protobuf_and_json_answers_carry_their_type(rest: Rest) -> None:
    pid = rest.register("pings-value", PROTO, "PROTOBUF")
    jid = rest.register("docs-value", JSON_SCHEMA, "JSON")
    assert rest.get(f"/schemas/ids/{pid}").json()["schemaType"] == "PROTOBUF"
    assert rest.get(f"/schemas/ids/{jid}").json()["schemaType"] == "JSON"
    assert rest.get("/subjects/pings-value/versions/1").json()["schemaType"] == "PROTOBUF"
    assert "message Ping" in rest.get(f"/schemas/ids/{pid}/schema").text


def test_references_and_referencedby(rest: Rest) -> None:
    money = json.dumps(
        {
            "type": "record",
            "name": "Money",
            "namespace": "acme",
            "fields": [{"name": "c", "type": "long"}],
        }
    )
    mid = rest.register("money", money)
    invoice = json.dumps(
        {
            "type": "record",
            "name": "Invoice",
            "namespace": "acme",
            "fields": [{"name": "total", "type": "acme.Money"}],
        }
    )
    refs = [{"name": "acme.Money", "subject": "money", "version": 1}]
    iid = rest.register("invoices-value", invoice, references=refs)
    assert iid != mid
    assert rest.get(f"/schemas/ids/{iid}").json()["references"] == refs
    assert rest.get("/subjects/invoices-value/versions/1").json()["references"] == refs
    assert rest.get("/subjects/money/versions/1/referencedby").json() == [iid]
    assert rest.get("/subjects/money/versions/latest/referencedby").json() == [iid]
    # Deleting a referenced version is refused with 42206.
    reply = rest.delete("/subjects/money/versions/1")
    assert (reply.status, reply.error_code) == (422, 42206)
    reply = rest.delete("/subjects/money")
    assert (reply.status, reply.error_code) == (422, 42206)
    # An unknown reference is an invalid schema.
    bad = [{"name": "acme.Money", "subject": "money", "version": 7}]
    reply = rest.post("/subjects/x/versions", {"schema": invoice, "references": bad})
    assert (reply.status, reply.error_code) == (422, 42201)


def test_schema_listing_filters_and_pages(rest: Rest) -> None:
    rest.register("a-value", V1_ORDER)
    rest.register("a-value", V2_ORDER)
    rest.register("b-value", STRING)
    every = rest.get("/schemas").json()
    assert [(s["subject"], s["version"]) for s in every] == [
        ("a-value", 1),
        ("a-value", 2),
        ("b-value", 1),
    ]
    latest = rest.get("/schemas?latestOnly=true").json()
    assert [(s["subject"], s["version"]) for s in latest] == [("a-value", 2), ("b-value", 1)]
    assert [s["subject"] for s in rest.get("/schemas?subjectPrefix=b").json()] == ["b-value"]
    assert len(rest.get("/schemas?offset=1&limit=1").json()) == 1
    assert rest.get("/subjects?subjectPrefix=a").json() == ["a-value"]
    assert rest.get("/subjects?subjectPrefix=:*:").json() == ["a-value", "b-value"]
    assert rest.get("/subjects?limit=1").json() == ["a-value"]
    assert rest.get("/subjects?offset=1").json() == ["b-value"]
    assert rest.get("/schemas/ids/1?fetchMaxId=true").json()["maxId"] == 3
    reply = rest.get("/subjects?offset=abc")
    assert (reply.status, reply.error_code) == (404, 404)


def test_soft_then_permanent_delete(rest: Rest) -> None:
    rest.register("d", V1_ORDER)
    rest.register("d", V2_ORDER)
    assert rest.delete("/subjects/d/versions/1").json() == 1
    assert rest.get("/subjects/d/versions").json() == [2]
    assert rest.get("/subjects/d/versions?deleted=true").json() == [1, 2]
    assert rest.get("/subjects/d/versions?deletedOnly=true").json() == [1]
    assert rest.get("/subjects/d/versions/1?deleted=true").json()["version"] == 1
    reply = rest.get("/subjects/d/versions/1")
    assert (reply.status, reply.error_code) == (404, 40402)
    assert rest.get("/schemas/ids/1/subjects").json() == []
    assert rest.get("/schemas/ids/1/subjects?deleted=true").json() == ["d"]
    assert rest.delete("/subjects/d/versions/1?permanent=true").json() == 1
    assert rest.get("/subjects/d/versions?deleted=true").json() == [2]
    assert rest.delete("/subjects/d").json() == [2]
    assert rest.get("/subjects").json() == []
    assert rest.get("/subjects?deleted=true").json() == ["d"]
    assert rest.get("/subjects?deletedOnly=true").json() == ["d"]
    assert rest.delete("/subjects/d?permanent=true").json() == [2]
    assert rest.get("/subjects?deleted=true").json() == []
    reply = rest.get("/schemas/ids/2")
    assert (reply.status, reply.error_code) == (404, 40403)


# ----- every error code ----------------------------------------------------------------------


def test_every_not_found_code(rest: Rest) -> None:
    rest.register("s", V1_ORDER)
    cases = [
        (rest.get("/subjects/nope/versions"), 40401),
        (rest.get("/subjects/nope/versions/1"), 40401),
        (rest.post("/subjects/nope", {"schema": V1_ORDER}), 40401),
        (rest.delete("/subjects/nope"), 40401),
        (rest.get("/subjects/s/versions/9"), 40402),
        (rest.delete("/subjects/s/versions/9"), 40402),
        (rest.get("/schemas/ids/999"), 40403),
        (rest.get("/schemas/ids/999/schema"), 40403),
        (rest.get("/schemas/ids/999/subjects"), 40403),
        (rest.get("/schemas/ids/999/versions"), 40403),
        (rest.post("/subjects/s", {"schema": STRING}), 40403),
        (rest.delete("/subjects/s?permanent=true"), 40405),
        (rest.delete("/subjects/s/versions/1?permanent=true"), 40407),
        (rest.get("/config/s"), 40408),
        (rest.get("/mode/s"), 40409),
        (rest.delete("/config/s"), 40401),
        (rest.delete("/mode/s"), 40401),
    ]
    for reply, code in cases:
        assert (reply.status, reply.error_code) == (404, code), reply
    assert rest.delete("/subjects/s/versions/1").status == 200
    reply = rest.delete("/subjects/s/versions/1")
    assert (reply.status, reply.error_code) == (404, 40406)
    rest.register("t", STRING)
    assert rest.delete("/subjects/t").status == 200
    reply = rest.delete("/subjects/t")
    assert (reply.status, reply.error_code) == (404, 40404)


def test_incompatible_schema_is_409(rest: Rest) -> None:
    rest.register("orders", V1_ORDER)
    reply = rest.post("/subjects/orders/versions", {"schema": BREAKING})
    assert (reply.status, reply.error_code) == (409, 409)
    assert "incompatible" in reply.json()["message"]
    assert "qty" in reply.json()["message"]
    assert rest.get("/subjects/orders/versions").json() == [1]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"schema": '{"type": "nope"}'}, 42201),
        ({"schema": "{"}, 42201),
        ({"schema": "message {", "schemaType": "PROTOBUF"}, 42201),
        ({"schema": STRING, "schemaType": "XML"}, 42201),
        ({}, 42201),
    ],
)
def test_invalid_schema_is_42201(rest: Rest, body: dict[str, object], code: int) -> None:
    reply = rest.post("/subjects/s/versions", body)
    assert (reply.status, reply.error_code) == (422, code)


@pytest.mark.parametrize("version", ["0", "-2", "abc", "2147483648", "1.5"])
def test_invalid_version_is_42202(rest: Rest, version: str) -> None:
    rest.register("s", STRING)
    for reply in (
        rest.get(f"/subjects/s/versions/{version}"),
        rest.get(f"/subjects/s/versions/{version}/schema"),
        rest.delete(f"/subjects/s/versions/{version}"),
        rest.post(f"/compatibility/subjects/s/versions/{version}", {"schema": STRING}),
    ):
        assert (reply.status, reply.error_code) == (422, 42202)


def test_invalid_level_and_mode(rest: Rest) -> None:
    for path in ("/config", "/config/s"):
        reply = rest.put(path, {"compatibility": "SIDEWAYS"})
        assert (reply.status, reply.error_code) == (422, 42203)
    for path in ("/mode", "/mode/s"):
        for body in ({"mode": "WRITEONLY"}, {}):
            reply = rest.put(path, body)
            assert (reply.status, reply.error_code) == (422, 42204)


def test_operation_not_permitted_is_42205(rest: Rest) -> None:
    rest.register("s", STRING)
    reply = rest.post("/subjects/s/versions", {"schema": INT, "id": 50})
    assert (reply.status, reply.error_code) == (422, 42205)
    reply = rest.put("/mode", {"mode": "IMPORT"})
    assert (reply.status, reply.error_code) == (422, 42205)
    assert rest.put("/mode/s", {"mode": "READONLY"}).json() == {"mode": "READONLY"}
    for reply in (
        rest.post("/subjects/s/versions", {"schema": INT}),
        rest.delete("/subjects/s"),
        rest.delete("/subjects/s/versions/1"),
    ):
        assert (reply.status, reply.error_code) == (422, 42205)


# ----- compatibility, config and mode --------------------------------------------------------


def test_compatibility_checks(rest: Rest) -> None:
    base = "/compatibility/subjects/orders/versions"
    # No versions yet: latest and "all" are compatible; a numbered version is not found.
    assert rest.post(f"{base}/latest", {"schema": V1_ORDER}).json() == {"is_compatible": True}
    assert rest.post(base, {"schema": V1_ORDER}).json() == {"is_compatible": True}
    reply = rest.post(f"{base}/1", {"schema": V1_ORDER})
    assert (reply.status, reply.error_code) == (404, 40402)
    rest.register("orders", V1_ORDER)
    assert rest.post(f"{base}/1", {"schema": V2_ORDER}).json() == {"is_compatible": True}
    assert rest.post(f"{base}/latest?verbose=true", {"schema": V2_ORDER}).json() == {
        "is_compatible": True,
        "messages": [],
    }
    for path in (f"{base}/latest", f"{base}/1", f"{base}/-1", base):
        assert rest.post(path, {"schema": BREAKING}).json() == {"is_compatible": False}
        verbose = rest.post(f"{path}?verbose=true", {"schema": BREAKING}).json()
        assert verbose["is_compatible"] is False
        assert verbose["messages"]
        assert any("qty" in m for m in verbose["messages"])
    reply = rest.post(f"{base}/latest", {"schema": "{"})
    assert (reply.status, reply.error_code) == (422, 42201)
    verbose = rest.post(f"{base}/latest?verbose=true", {"schema": "{"}).json()
    assert verbose["is_compatible"] is False
    assert len(verbose["messages"]) == 1
    # Under NONE the breaking change is fine.
    rest.put("/config/orders", {"compatibility": "NONE"})
    assert rest.post(f"{base}/latest", {"schema": BREAKING}).json() == {"is_compatible": True}


def test_config_routes(rest: Rest) -> None:
    assert rest.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert rest.put("/config", {"compatibility": "full"}).json() == {"compatibility": "FULL"}
    assert rest.get("/config").json() == {"compatibilityLevel": "FULL"}
    assert rest.get("/config/s?defaultToGlobal=true").json() == {"compatibilityLevel": "FULL"}
    assert rest.put("/config/s", {"compatibility": "NONE"}).json() == {"compatibility": "NONE"}
    assert rest.get("/config/s").json() == {"compatibilityLevel": "NONE"}
    assert rest.delete("/config/s").json() == {"compatibilityLevel": "NONE"}
    assert rest.get("/config/s").error_code == 40408
    assert rest.delete("/config").json() == {"compatibilityLevel": "FULL"}
    assert rest.get("/config").json() == {"compatibilityLevel": "BACKWARD"}


def test_mode_routes_and_import(rest: Rest) -> None:
    assert rest.get("/mode").json() == {"mode": "READWRITE"}
    assert rest.put("/mode", {"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
    assert rest.get("/mode/s?defaultToGlobal=true").json() == {"mode": "IMPORT"}
    reply = rest.post("/subjects/s/versions", {"schema": STRING, "id": 42, "version": 7})
    assert reply.json()["id"] == 42
    assert reply.json()["version"] == 7
    assert rest.get("/subjects/s/versions/7").json()["id"] == 42
    assert rest.put("/mode", {"mode": "READWRITE"}).json() == {"mode": "READWRITE"}
    assert rest.register("s2", INT) == 43
    reply = rest.put("/mode/s2", {"mode": "IMPORT"})
    assert (reply.status, reply.error_code) == (422, 42205)
    assert rest.put("/mode/s2?force=true", {"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
    assert rest.get("/mode/s2").json() == {"mode": "IMPORT"}
    assert rest.delete("/mode/s2").json() == {"mode": "IMPORT"}
    assert rest.get("/mode/s2").error_code == 40409


# ----- REST and gRPC share one registry ------------------------------------------------------


def test_rest_and_grpc_see_each_others_writes(rest: Rest, server: EmbeddedServer) -> None:
    with SchemaRegistryClient(server.address) as grpc_client:
        sid = rest.register("shared", V1_ORDER)
        assert grpc_client.get_schema(sid).text == V1_ORDER
        assert grpc_client.list_versions("shared") == [1]
        registered = grpc_client.register("shared", V2_ORDER, "AVRO")
        assert rest.get("/subjects/shared/versions/latest").json()["id"] == registered.id
        assert rest.get(f"/schemas/ids/{registered.id}").json() == {"schema": V2_ORDER}
        grpc_client.set_compatibility("NONE", "shared")
        assert rest.get("/config/shared").json() == {"compatibilityLevel": "NONE"}
        rest.delete("/subjects/shared/versions/1")
        assert grpc_client.list_versions("shared") == [2]


PROTO2 = """syntax = "proto2";
package acme.legacy;
option java_package = "com.acme.legacy";
option optimize_for = SPEED;
message Account {
  required string id = 1;
  optional int32 level = 2 [default = 3];
  optional string label = 3 [default = "a \\"b\\""];
  repeated int64 ids = 4 [packed = true];
  optional Kind kind = 5 [default = GOLD];
  map<string, Account> children = 6;
  oneof contact { string email = 7; string phone = 8; }
  enum Kind { SILVER = 1; GOLD = 2; reserved 10 to 12; }
  message Note { optional string text = 1 [deprecated = true]; }
  optional Note note = 9;
  extensions 100 to 199;
  reserved 20, 30 to 35;
  reserved "old";
}
extend Account { optional string nickname = 100; }
service Accounts {
  rpc Get(Account) returns (Account);
  rpc Watch(stream Account) returns (stream Account);
}
"""


def test_protobuf_sent_as_base64_descriptor_is_the_same_schema(rest: Rest, tmp_path: Path) -> None:
    """A descriptor in base64 (as confluent-kafka sends it) registers as its .proto text."""
    (tmp_path / "account.proto").write_text(PROTO2)
    out = tmp_path / "set.pb"
    assert (
        protoc.main(["protoc", f"-I{tmp_path}", f"--descriptor_set_out={out}", "account.proto"])
        == 0
    )
    file = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    encoded = base64.b64encode(file.SerializeToString()).decode()
    from_text = rest.register("legacy-text", PROTO2, "PROTOBUF")
    from_descriptor = rest.register("legacy-b64", encoded, "PROTOBUF")
    assert from_descriptor == from_text
    for path in ("/schemas/ids/1", "/subjects/legacy-b64/versions/1"):
        body = rest.get(f"{path}?format=serialized").json()
        round_trip = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(body["schema"]))
        assert [m.name for m in round_trip.message_type] == ["Account"]
        assert rest.get(path).json()["schema"] == PROTO2
    # A lookup with the base64 form finds the version too.
    found = rest.post("/subjects/legacy-text", {"schema": encoded, "schemaType": "PROTOBUF"})
    assert found.json()["id"] == from_text
