"""Structured logs: `weir serve --log-format json` writes one JSON object per line, each with
a request id; slow requests name the RPC, duration, peer and id. Also in-process via caplog."""

from __future__ import annotations

import json
import logging
import queue
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

import grpc
import pytest

from tests.conftest import ServerThread
from tests.e2e.conftest import WEIR, clean_env
from weir.core.log_format import JsonFormatter
from weir.v1 import topic_service_pb2 as ts
from weir.v1 import topic_service_pb2_grpc as ts_grpc


def _serve_json(tmp_path: Path) -> tuple[subprocess.Popen[str], str, str, Path]:
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [
                *(str(WEIR), "serve", "--data-dir", str(tmp_path / "data")),
                *("--log-format", "json", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"),
            ],
            env=clean_env(WEIR_SLOW_REQUEST_MS="0"),  # every request counts as slow
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    found: dict[str, str] = {}
    while len(found) < 2:
        line = lines.get(timeout=30)
        for kind in ("gRPC", "HTTP"):
            prefix = f"weir: serving {kind} on "
            if line.startswith(prefix):
                found[kind] = line.removeprefix(prefix).strip()
    return process, found["gRPC"], found["HTTP"], log


def test_weir_serve_json_lines_have_request_ids(tmp_path: Path) -> None:
    process, grpc_address, http_address, log = _serve_json(tmp_path)
    try:
        with grpc.insecure_channel(grpc_address) as channel:
            stub = ts_grpc.TopicServiceStub(channel)
            _, call = stub.CreateTopic.with_call(
                ts.CreateTopicRequest(name="t", partition_count=1),
                metadata=[("x-request-id", "e2e-grpc-1")],
            )
            assert ("x-request-id", "e2e-grpc-1") in call.trailing_metadata()
        request = urllib.request.Request(f"http://{http_address}/subjects")
        request.add_header("x-request-id", "e2e-http-1")
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.headers["x-request-id"] == "e2e-http-1"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        if process.stdout is not None:
            process.stdout.close()
    entries = [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON
    assert entries
    assert all({"ts", "level", "logger", "msg", "request_id"} <= set(e) for e in entries)
    assert any(e["msg"].startswith("weir serving gRPC") and e["request_id"] == "-" for e in entries)
    slow = [e for e in entries if e.get("rpc") == "CreateTopic"]
    assert len(slow) == 1
    assert slow[0]["request_id"] == "e2e-grpc-1"
    assert slow[0]["level"] == "warning"
    assert slow[0]["status"] == "OK"
    assert slow[0]["duration_ms"] >= 0
    assert slow[0]["peer"].startswith("ipv4:127.0.0.1:")
    assert "CreateTopic" in slow[0]["msg"]
    assert "e2e-grpc-1" in slow[0]["msg"]
    http = [e for e in entries if e.get("http") == "GET /subjects"]
    assert len(http) == 1
    assert http[0]["request_id"] == "e2e-http-1"
    assert http[0]["status"] == 200
    assert http[0]["peer"] == "127.0.0.1"


def test_in_process_records_carry_the_call_request_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = ServerThread(tmp_path / "data", slow_request_ms=0)
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = ts_grpc.TopicServiceStub(channel)
            with pytest.raises(grpc.RpcError) as failed:
                stub.GetTopic(
                    ts.GetTopicRequest(name="missing"),
                    metadata=[("x-request-id", "caplog-1")],
                )
            assert ("x-request-id", "caplog-1") in failed.value.trailing_metadata()
            _, call = stub.ListTopics.with_call(ts.ListTopicsRequest())
            fresh = dict(call.trailing_metadata())["x-request-id"]
    finally:
        server.stop()
    entries = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    slow = {e["rpc"]: e for e in entries if "rpc" in e}
    assert slow["GetTopic"]["request_id"] == "caplog-1"
    assert slow["GetTopic"]["status"] == "NOT_FOUND"
    assert slow["ListTopics"]["request_id"] == fresh
    assert len(fresh) == 16
