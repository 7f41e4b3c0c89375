"""A tiny synchronous HTTP client for the REST API tests (urllib, no extra dependency)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

V1 = "application/vnd.schemaregistry.v1+json"


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP response."""

    status: int
    """The HTTP status."""
    content_type: str
    """The Content-Type header."""
    text: str
    """The body as text."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.text)

    @property
    def error_code(self) -> int:
        """Confluent's error_code from an error body."""
        body = self.json()
        assert set(body) == {"error_code", "message"}, body
        assert isinstance(body["message"], str)
        assert body["message"]
        return int(body["error_code"])


class Rest:
    """Calls one server's REST API."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send a request; error statuses come back as replies, not exceptions."""
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": V1} if data is not None else {}
        sent.update(headers or {})
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return Reply(r.status, r.headers.get("Content-Type", ""), r.read().decode())
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.headers.get("Content-Type", ""), e.read().decode())

    def get(self, path: str, **kw: Any) -> Reply:
        """GET."""
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        """POST a JSON body."""
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        """PUT a JSON body."""
        return self.call("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        """DELETE."""
        return self.call("DELETE", path, **kw)

    def register(self, subject: str, schema: str, schema_type: str = "AVRO", **extra: Any) -> int:
        """Register and return the id; fails the test on any error."""
        body = {"schema": schema, "schemaType": schema_type, **extra}
        reply = self.post(f"/subjects/{subject}/versions", body)
        assert reply.status == 200, reply
        return int(reply.json()["id"])
