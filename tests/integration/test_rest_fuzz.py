"""Schemathesis fuzzes every operation in /openapi.json against a real server.

Bounded: a few examples per operation, so the whole run stays well under a minute. Every
response must be documented (status code, content type, body schema) and none may be a 5xx.
"""

from __future__ import annotations

import json
import urllib.request

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from weir.broker.embedded import EmbeddedServer

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def _seed(base: str) -> None:
    """Register one schema so reads by id and version also reach their 200 answers."""
    body = json.dumps({"schema": '{"type": "string"}'}).encode()
    request = urllib.request.Request(
        f"{base}/subjects/seed/versions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["id"] == 1


def test_openapi_fuzz_finds_no_5xx_and_no_undocumented_response(server: EmbeddedServer) -> None:
    base = server.http_url
    _seed(base)
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, [op.label for op in operations]
    exercised = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, timeout=10)
            case.validate_response(response, checks=CHECKS)

        run()
        exercised.append(operation.label)
    assert "POST /subjects/{subject}/versions" in exercised
