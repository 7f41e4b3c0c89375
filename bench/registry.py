"""Registry benchmark: register, get by id and compatibility checks per format.

Each subject holds 100 versions (``--versions``); checks run at FULL_TRANSITIVE, so every
version is compared both ways. Everything runs against a `weir serve` process over gRPC
(loopback, sync client in this process); register and check are timed per call.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from bench._report import percentiles, report
from bench._server import ServerProcess
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


def run(versions: int, gets: int, checks_n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with ServerProcess() as server:
        channel = server.channel()
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

            reg = []
            last_id = 0
            for n in range(1, versions + 1):
                start = time.perf_counter()
                last_id = register(n)
                reg.append(time.perf_counter() - start)
            get = rs.GetSchemaRequest(id=last_id)
            stub.GetSchema(get)
            wire = timed(lambda g=get: stub.GetSchema(g), gets)
            check = rs.CheckCompatibilityRequest(
                subject=subject,
                schema=rs.SchemaInput(schema_type=kind, schema=make(versions + 1)),
            )
            checks = timed(lambda c=check: stub.CheckCompatibility(c), checks_n)
            rows.append(
                {
                    "format": schema_type.value,
                    "versions": versions,
                    "register_p50_ms": percentiles(reg)["p50_us"] / 1e3,
                    "register_last_ms": reg[-1] * 1e3,
                    "get_by_id_p50_us": percentiles(wire)["p50_us"],
                    "get_by_id_p99_us": percentiles(wire)["p99_us"],
                    "get_by_id_per_s": len(wire) / sum(wire),
                    "check_p50_ms": percentiles(checks)["p50_us"] / 1e3,
                    "check_max_ms": max(checks) * 1e3,
                }
            )
        channel.close()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    args = parser.parse_args(argv)
    versions, gets, checks_n = (5, 50, 3) if args.smoke else (100, 2000, 10)
    report(
        "registry",
        run(versions, gets, checks_n),
        notes=[
            "server: `weir serve` process; client: sync gRPC stub in this process, one call "
            "at a time (latency, not throughput)",
            "register_last_ms: registering version N (checked against all N-1 at "
            "FULL_TRANSITIVE); check_*: CheckCompatibility of version N+1 against 100 versions",
        ],
    )


if __name__ == "__main__":
    main()
