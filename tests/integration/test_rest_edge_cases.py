"""REST edge cases against a real server: requests aiohttp cannot parse get Confluent's JSON
error body (no Python reprs), and PUT /config and /mode refuse bodies that set nothing."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.hostile_cases import LEAKS
from tests.integration.rest_helpers import V1, Rest
from weir.broker.embedded import EmbeddedServer

LEVEL_WORDS = "Valid values are none, backward, forward, full"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    running = EmbeddedServer(tmp_path_factory.mktemp("rest-edges") / "data")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def rest(server: EmbeddedServer) -> Rest:
    return Rest(server.http_url)


def raw_http(server: EmbeddedServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; (status, headers, body) of the answer."""
    port = int(server.http_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def json_error(
    server: EmbeddedServer, request: bytes, status: int
) -> tuple[dict[str, Any], dict[str, str]]:
    got, headers, body = raw_http(server, request)
    assert got == status, (got, body[:300])
    assert headers["Content-Type"].startswith(V1), headers
    error = json.loads(body)
    assert set(error) == {"error_code", "message"}, error
    assert error["error_code"] == status, error
    for leak in ("bytearray", "b'", 'b"'):
        assert leak not in error["message"], error
    assert not LEAKS.search(error["message"]), error
    return error, headers


def test_a_url_over_the_line_limit_is_a_json_414(server: EmbeddedServer, rest: Rest) -> None:
    for size in (8200, 70_000):
        request = b"GET /subjects/" + b"n" * size + b"/versions HTTP/1.1\r\nHost: x\r\n\r\n"
        error, _ = json_error(server, request, 414)  # raw_http read to EOF: it was closed
        assert "over the limit of 8190 bytes" in error["message"], error
    assert rest.get("/subjects").status == 200  # the server still serves


def test_a_header_over_the_field_limit_is_a_json_431(server: EmbeddedServer) -> None:
    request = b"GET /subjects HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n"
    error, _ = json_error(server, request, 431)
    assert "over the limit of 8190 bytes" in error["message"], error


@pytest.mark.parametrize(
    ("request_bytes", "words"),
    [
        (b"G\x00T /subjects HTTP/1.1\r\nHost: x\r\n\r\n", "Invalid method"),
        (b"GET /subjects HTTP/9.9\r\nHost: x\r\n\r\n", "Bad status line"),
        (b"GET /subjects HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "Content-Length"),
        (b"\x16\x03\x01\x00\x05hello\r\n\r\n", "HTTPS"),
    ],
)
def test_malformed_http_is_a_json_400(
    server: EmbeddedServer, request_bytes: bytes, words: str
) -> None:
    error, _ = json_error(server, request_bytes, 400)
    assert error["message"].startswith("Bad Request: not valid HTTP/1.1"), error
    assert words in error["message"], error


@pytest.mark.parametrize("path", ["/config", "/config/edge-subject"])
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"compatibility": None},
        {"compatibilityLevel": None},
        {"compatibility": 5},
        {"compatibility": ["FULL"]},
        {"compatibility": {"level": "FULL"}},
        {"compatibility": True},
        {"compatibilityLevel": 1.5},
        {"normalize": True},
    ],
    ids=repr,
)
def test_put_config_without_a_level_is_42203(rest: Rest, path: str, body: dict[str, Any]) -> None:
    reply = rest.put(path, body)
    assert (reply.status, reply.error_code) == (422, 42203), (body, reply)
    assert LEVEL_WORDS in reply.json()["message"]
    assert rest.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    assert rest.get("/config/edge-subject").error_code == 40408  # nothing was set


def test_put_config_names_what_was_wrong(rest: Rest) -> None:
    assert "the body names no level" in rest.put("/config", {}).json()["message"]
    assert "got 5" in rest.put("/config", {"compatibility": 5}).json()["message"]
    assert 'got ["FULL"]' in rest.put("/config", {"compatibility": ["FULL"]}).json()["message"]


def test_put_config_takes_either_key(rest: Rest) -> None:
    reply = rest.put("/config/either", {"compatibility": None, "compatibilityLevel": "full"})
    assert reply.status == 200, reply
    assert reply.json()["compatibility"] == "FULL"
    assert rest.get("/config/either").json() == {"compatibilityLevel": "FULL"}
    assert rest.put("/config/either", {"compatibility": "none"}).status == 200
    assert rest.get("/config/either").json() == {"compatibilityLevel": "NONE"}


@pytest.mark.parametrize("path", ["/mode", "/mode/edge-subject"])
@pytest.mark.parametrize(
    "body",
    [{}, {"mode": None}, {"mode": 5}, {"mode": ["READONLY"]}, {"mode": False}, {"force": True}],
    ids=repr,
)
def test_put_mode_without_a_mode_is_42204(rest: Rest, path: str, body: dict[str, Any]) -> None:
    reply = rest.put(path, body)
    assert (reply.status, reply.error_code) == (422, 42204), (body, reply)
    assert "Valid values are READWRITE, READONLY and IMPORT" in reply.json()["message"]
    assert rest.get("/mode").json() == {"mode": "READWRITE"}
    assert rest.get("/mode/edge-subject").error_code == 40409
