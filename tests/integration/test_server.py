"""The composed server: health, reflection, and a bad bind address."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from weir.broker.server import create_server
from weir.core.config import ServerConfig, load_config
from weir.core.errors import InvalidArgumentError, UnavailableError


def test_health_reports_serving(channel: grpc.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "weir.v1.RegistryService"):
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_registry(channel: grpc.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    reply = next(iter(stub.ServerReflectionInfo(iter([request]))))
    names = {s.name for s in reply.list_services_response.service}
    assert {"weir.v1.RegistryService", "grpc.health.v1.Health"} <= names


def test_bind_failure_is_a_clear_error(tmp_path: Path) -> None:
    config = ServerConfig(data_dir=tmp_path, grpc_address="256.0.0.1:99999")
    with pytest.raises(UnavailableError, match="cannot bind"):
        asyncio.run(create_server(config))


def test_config_rejects_unknown_keys_and_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "weir.toml"
    path.write_text('data_dir = "d"\nretention = 5\n')
    with pytest.raises(InvalidArgumentError, match="retention"):
        load_config(path, env={})
    with pytest.raises(InvalidArgumentError, match="shutdown_grace_ms"):
        load_config(None, env={"WEIR_SHUTDOWN_GRACE_MS": "soon"})
    config = load_config(None, env={"WEIR_DATA_DIR": "/x"}, overrides={"grpc_address": "0.0.0.0:1"})
    assert config.data_dir == Path("/x")
    assert config.grpc_address == "0.0.0.0:1"


def test_serve_with_an_unusable_data_dir_exits_2_without_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    weir = Path(sys.executable).with_name("weir")
    done = subprocess.run(
        [
            str(weir),
            "serve",
            "--data-dir",
            str(blocker / "data"),
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "--data-dir" in done.stderr
