"""The web console (/ui) against a real server with data: every page, errors, escaping."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser.console_seed import Seeded, seed
from tests.integration.console_http import cells, get, text
from weir.broker.console import Console
from weir.broker.console.context import CONSOLE_KEY
from weir.broker.embedded import EmbeddedServer
from weir.core.config import load_config
from weir.core.errors import InvalidArgumentError
from weir.core.types import SchemaType
from weir.registry.model import SchemaInput


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedServer, Seeded]]:
    server = EmbeddedServer(tmp_path_factory.mktemp("console") / "data", console_lag_sample_ms=50)
    try:
        yield server, seed(server)
    finally:
        server.stop()


def test_home_redirects_to_topics(ui):
    status, _body, final = get(ui[0], "/ui")
    assert status == 200
    assert final.endswith("/ui/topics")


def test_pages_are_html_whatever_the_accept_header(ui):
    for accept in ("text/html", "application/json", "*/*"):
        request = urllib.request.Request(ui[0].http_url + "/ui/topics", headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200
            assert reply.headers.get_content_type() == "text/html"
    request = urllib.request.Request(ui[0].http_url + "/subjects", headers={"Accept": "text/html"})
    with pytest.raises(urllib.error.HTTPError) as refused:  # the REST API still negotiates
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 406


def test_topics_list_partitions_records_and_size(ui):
    status, body, _ = get(ui[0], "/ui/topics")
    assert status == 200
    rows = {r[0]: r for r in cells(body, "topics")}
    assert rows["orders"][1:3] == ["2", "24"]
    assert rows["orders"][5] == "dead_letter"
    assert rows["payments"][1:3] == ["1", "5"]
    assert rows["orders.dlq"][2] == "1"
    assert rows["orders.dlq"][6] == "dead letters"
    assert rows["_schemas"][6] == "internal"
    assert rows["orders"][3].endswith(("B", "KiB"))


def test_topic_page_offsets_sizes_and_config(ui):
    server, _ = ui
    status, body, _ = get(server, "/ui/topics/orders")
    assert status == 200
    partitions = cells(body, "partitions")
    assert [p[:4] for p in partitions] == [["0", "0", "12", "12"], ["1", "0", "12", "12"]]
    on_disk = server.server.log_store.partition(server.server.topics.get("orders").partition(0))
    assert f'title="{sum(s.size for s in on_disk.segments())} bytes"' in body
    config = {row[0]: row[1:] for row in cells(body, "config")}
    assert config["on.invalid"] == ["dead_letter", "override"]
    assert config["value.schema.validation"] == ["strict", ""]


def test_records_decoded_with_avro_and_paging(ui):
    status, body, _ = get(ui[0], "/ui/topics/orders/1?offset=3&limit=2")
    assert status == 200
    page = text(body)
    assert "offset 3" in page
    assert "offset 4" in page
    assert "offset 5" not in page
    assert '"id": "o-1-3"' in page
    assert '"qty": 3' in page
    assert "AVRO id 1 · orders-value v1" in page
    assert "key: k3" in page
    assert "/ui/topics/orders/1?offset=5&amp;limit=2" in body  # newer
    assert "/ui/topics/orders/1?offset=1&amp;limit=2" in body  # older


def test_records_decoded_with_json_and_protobuf(ui):
    _, seeded = ui
    _, body, _ = get(ui[0], "/ui/topics/payments/0?offset=2&limit=1")
    assert '"id": "p-2"' in text(body)
    assert f"JSON id {seeded.payments_id}" in text(body)
    _, body, _ = get(ui[0], "/ui/topics/shipments/0?offset=1&limit=1")
    assert '"id": "s-1"' in text(body)
    assert f"PROTOBUF id {seeded.shipments_id}" in text(body)


def test_records_seek_by_time(ui):
    _, seeded = ui
    at = seeded.base_ms + 5 * 60_000 - 1
    iso = datetime.fromtimestamp(at / 1000, UTC).isoformat()
    for given in (str(at), iso):
        status, body, _ = get(ui[0], "/ui/topics/orders/0", time=given, limit=1)
        assert status == 200
        assert "first record at or after" in text(body)
        assert 'id="record-5"' in body
        assert 'id="record-6"' not in body
    _, body, _ = get(ui[0], "/ui/topics/orders/0", time=str(seeded.base_ms + 10 * 3_600_000))
    assert "no record at or after" in text(body)


def test_subjects_history_with_compatibility_per_step(ui):
    status, body, _ = get(ui[0], "/ui/subjects")
    assert status == 200
    subjects = {r[0]: r for r in cells(body, "subjects")}
    assert subjects["orders-value"][1:3] == ["3", "AVRO"]
    assert subjects["shipments-value"][2] == "PROTOBUF"
    _, body, _ = get(ui[0], "/ui/subjects/orders-value")
    history = cells(body, "history")
    assert history[0][3] == "first version"
    assert history[1][3] == "compatible (BACKWARD)"
    assert history[2][3].startswith("incompatible (BACKWARD)")
    assert "TYPE_MISMATCH at /fields/1/type (BACKWARD, against v2)" in history[2][3]


def test_schema_diff_side_by_side(ui):
    status, body, _ = get(ui[0], "/ui/diff/orders-value", old=1, new=2)
    assert status == 200
    rows = cells(body, "diff")
    inserted = [r for r in rows if r[0] == "" and '"name": "note"' in r[3]]
    assert inserted, rows
    assert "compatible (BACKWARD)" in text(body)
    _, body, _ = get(ui[0], "/ui/diff/orders-value", old=2, new=3)
    changed = [r for r in cells(body, "diff") if '"type": "int"' in r[1]]
    assert changed
    assert '"type": "string"' in changed[0][3]
    assert "TYPE_MISMATCH" in text(body)


def test_groups_lag_in_records_and_seconds(ui):
    server, seeded = ui
    status, body, _ = get(server, "/ui/groups")
    assert status == 200
    group = cells(body, "groups")[0]
    assert group[:4] == ["billing", "stable", "1", "16"]
    _, body, _ = get(server, "/ui/groups/billing")
    lag = cells(body, "lag")
    assert [row[:5] for row in lag] == [["orders", p, "4", "12", "8"] for p in ("0", "1")]
    age_s = float(lag[0][5].removesuffix(" s"))
    expected = (time.time() * 1000 - (seeded.base_ms + 4 * 60_000)) / 1000
    assert abs(age_s - expected) < 30
    assert lag[0][6] == seeded.member_id
    members = cells(body, "members")
    assert members[0][0] == seeded.member_id
    assert members[0][4] == "orders-0, orders-1"


def test_group_chart_from_sampled_history(ui):
    server, _ = ui
    deadline = time.monotonic() + 5
    while len(_console(server).lag.samples("billing")) < 3:
        assert time.monotonic() < deadline, "the sampler took no samples"
        time.sleep(0.05)
    _, body, _ = get(server, "/ui/groups/billing")
    assert body.count("<svg") == 2
    assert "<polyline" in body
    assert "latest 16 records" in text(body)


def test_dead_letters_with_reasons(ui):
    status, body, _ = get(ui[0], "/ui/dlq")
    assert status == 200
    assert cells(body, "dlq-summary") == [["INVALID_RECORD", "decode", "1"]]
    [row] = cells(body, "dlq")
    assert row[0] == "0:0"
    assert row[2:6] == ["orders-0", "orders-value", "INVALID_RECORD", "decode"]
    assert "Avro decode failed" in row[6]


def test_user_text_is_escaped(ui):
    server, _ = ui
    hostile = "<script>alert(1)</script>-value"
    schema = SchemaInput(SchemaType.JSON, '{"type": "object", "title": "<b>bold</b>"}')
    server.call(_register(server, hostile, schema))
    _, body, _ = get(server, "/ui/subjects")
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;-value" in body
    _, body, _ = get(server, "/ui/subjects/" + hostile.replace("/", "%2F"))
    assert "<b>bold</b>" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body


def _console(server: EmbeddedServer) -> Console:
    return server.server.http.runner.app[CONSOLE_KEY]


async def _register(server: EmbeddedServer, subject: str, schema: SchemaInput) -> None:
    server.server.registry.register(subject, schema)


BAD = [
    ("/ui/topics/nope", 404, "topic 'nope' does not exist"),
    ("/ui/topics/nope/0", 404, "topic 'nope' does not exist"),
    ("/ui/topics/orders/7", 404, "has partitions 0..1, not 7"),
    ("/ui/topics/orders/x", 400, "partition must be a whole number"),
    ("/ui/topics/orders/0?offset=99", 400, "offset 99 is outside partition orders-0's range 0..12"),
    ("/ui/topics/orders/0?offset=-1", 400, "offset must be at least 0"),
    ("/ui/topics/orders/0?offset=abc", 400, "offset must be a whole number"),
    ("/ui/topics/orders/0?time=yesterday", 400, "neither epoch milliseconds nor ISO 8601"),
    ("/ui/topics/orders/0?limit=0", 400, "limit must be at least 1"),
    ("/ui/topics/orders/0?limit=5000", 400, "limit must be at most 200"),
    ("/ui/groups/nope", 404, "consumer group 'nope' does not exist"),
    ("/ui/subjects/nope", 404, "subject 'nope' not found"),
    ("/ui/diff/orders-value?old=9", 404, "version 9 of subject 'orders-value' not found"),
    ("/ui/diff/orders-value?old=0", 400, "old must be at least 1"),
    ("/ui/reset", 400, "group is required"),
    ("/ui/reset?group=nope", 404, "consumer group 'nope' does not exist"),
    ("/ui/reset?group=billing&kind=sideways", 400, "kind must be one of earliest"),
    ("/ui/reset?group=billing&kind=offset&value=x", 400, "must be a whole number"),
    ("/ui/reset?group=billing&kind=duration&value=soon", 400, "duration 'soon' is not valid"),
    ("/ui/dlq?limit=nope", 400, "limit must be a whole number"),
    ("/ui/no/such/page", 404, "no console page at /ui/no/such/page"),
    ("/ui/static/evil.js", 404, "no static file"),
]


@pytest.mark.parametrize(("path", "status", "message"), BAD)
def test_bad_input_is_a_clear_4xx_page(ui, path, status, message):
    got, body, _ = get(ui[0], path)
    assert got == status
    assert message in text(body)
    assert "Traceback" not in body
    assert "<html" in body


def test_sampler_stops_with_the_server(tmp_path: Path):
    server = EmbeddedServer(tmp_path / "data", console_lag_sample_ms=20)
    try:
        assert _sampler_tasks(server) == 1
        server.call(server.server.stop(0))
        assert _sampler_tasks(server) == 0
    finally:
        server.close()


def _sampler_tasks(server: EmbeddedServer) -> int:
    async def count() -> int:
        return sum("LagHistory.run" in repr(t.get_coro()) for t in asyncio.all_tasks())

    return server.call(count())


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("False", False)])
def test_console_allow_writes_from_env(raw, expected):
    config = load_config(env={"WEIR_CONSOLE_ALLOW_WRITES": raw})
    assert config.console_allow_writes is expected


def test_console_allow_writes_rejects_other_words():
    with pytest.raises(InvalidArgumentError, match="not true or false"):
        load_config(env={"WEIR_CONSOLE_ALLOW_WRITES": "maybe"})
