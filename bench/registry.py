"""Registry benchmark: register, get by id and compatibility checks per format.

Each subject holds 100 versions (``--versions``); checks run at FULL_TRANSITIVE, so every
version is compared both ways. Get by id is measured over a real gRPC channel (loopback,
sync client) and in-process (the registry's own lookup).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from bench._report import percentiles, report
from weir.broker.embedded import EmbeddedServer
from weir.core.convert import to_proto
from weir.core.types import CompatibilityLevel, SchemaType
from weir.v1 import registry_service_pb2 as rs
from weir.v1 import registry_service_pb2_grpc as rs_grpc


def avro(n: int) -> str:
    fields = [{"name": f"f{i}", "type": "long", "default": 0} for i in range(n)]
    return json.dumps({"type": "record", "name": "Bench", "fields": fields})


def proto(n: int) -> str:
    body = "".join(f"  int64 f{i} = {i + 1};\n" for i in range(n))
    return f'syntax = "proto3";\npackage bench;\nmessage Bench {{\n{body}}}\n'


def json_schema(n: int) -> str:
    # Adding a property to an open content model breaks FORWARD or BACKWARD either way, so
    # versions differ by title over a fixed set of properties: compatible both ways.
    props = {f"f{i}": {"type": "integer"} for i in range(20)}
    return json.dumps({"type": "object", "title": f"v{n}", "properties": props})


MAKERS: dict[SchemaType, Callable[[int], str]] = {
    SchemaType.AVRO: avro,
    SchemaType.PROTOBUF: proto,
    SchemaType.JSON: json_schema,
}


def timed(fn: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(versions: int, gets: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedServer(Path(tmp)) as server:
        channel = grpc.insecure_channel(server.address)
        stub = rs_grpc.RegistryServiceStub(channel)
        for schema_type, make in MAKERS.items():
            subject = f"bench-{schema_type.value.lower()}"
            kind = to_proto(schema_type)
            stub.SetCompatibility(
                rs.SetCompatibilityRequest(
                    subject=subject, level=to_proto(CompatibilityLevel.FULL_TRANSITIVE)
                )
            )

            def register(n: int, s: str = subject, k: int = kind, mk: Any = make) -> int:
                req = rs.RegisterSchemaRequest(
                    subject=s, schema=rs.SchemaInput(schema_type=k, schema=mk(n))
                )
                return int(stub.RegisterSchema(req).id)

            reg = [0.0]
            for n in range(1, versions + 1):
                start = time.perf_counter()
                last_id = register(n)
                reg[0] += time.perf_counter() - start
            get = rs.GetSchemaRequest(id=last_id)
            stub.GetSchema(get)
            wire = timed(lambda g=get: stub.GetSchema(g), gets)
            local = timed(lambda i=last_id: server.server.registry.get_schema(i), gets)
            check = rs.CheckCompatibilityRequest(
                subject=subject,
                schema=rs.SchemaInput(schema_type=kind, schema=make(versions + 1)),
            )
            checks = timed(lambda c=check: stub.CheckCompatibility(c), 5)
            rows.append(
                {
                    "format": schema_type.value,
                    "versions": versions,
                    "register_avg_ms": reg[0] / versions * 1e3,
                    "get_by_id_grpc_p50_us": percentiles(wire)["p50_us"],
                    "get_by_id_grpc_p99_us": percentiles(wire)["p99_us"],
                    "get_by_id_inproc_p50_us": percentiles(local)["p50_us"],
                    "check_full_transitive_ms": percentiles(checks)["p50_us"] / 1e3,
                }
            )
        channel.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    versions, gets = (5, 50) if args.smoke else (100, 2000)
    report("registry", run(versions, gets))


if __name__ == "__main__":
    main()
