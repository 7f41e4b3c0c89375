"""Offset reset from the console: dry-run preview, confirmation, CSRF, and the write switch."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.console_seed import Seeded, seed
from tests.integration.console_http import cells, get, post, text
from weir.broker.embedded import EmbeddedServer
from weir.broker.groups.service import OffsetCommitInput

PREVIEW = {"group": "billing", "topic": "orders", "kind": "earliest", "value": ""}


def _start(tmp_path: Path, **settings) -> tuple[EmbeddedServer, Seeded]:
    server = EmbeddedServer(tmp_path / "data", **settings)
    try:
        return server, seed(server)
    except BaseException:
        server.stop()
        raise


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, Seeded]]:
    server, seeded = _start(tmp_path, console_allow_writes=True)
    yield server, seeded
    server.stop()


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, Seeded]]:
    server, seeded = _start(tmp_path)
    yield server, seeded
    server.stop()


def _committed(server: EmbeddedServer) -> list[int | None]:
    found = server.server.groups.fetch("billing", None, require=False)
    return [None if c is None else c.offset for _, c in found]


def _hidden(body: str) -> dict[str, str]:
    form = body[body.index('class="confirm"') :]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def _leave(server: EmbeddedServer, seeded: Seeded) -> None:
    server.call(server.server.groups.leave("billing", seeded.member_id, False))


def test_preview_only_when_writes_are_off(read_only):
    server, _ = read_only
    status, body, _ = get(server, "/ui/reset", **PREVIEW)
    assert status == 200
    assert cells(body, "reset-preview") == [
        ["orders", "0", "4", "0", "4", "0", "12"],
        ["orders", "1", "4", "0", "4", "0", "12"],
    ]
    assert "console_allow_writes = true" in text(body)
    assert 'method="post"' not in body
    assert "csrf" not in body
    status, body = post(server, "/ui/reset", {**PREVIEW, "confirm": "yes", "csrf": "x"})
    assert status == 403
    assert "Applying resets from the console is off" in text(body)
    assert _committed(server) == [4, 4]


def test_preview_confirm_apply(writable):
    server, seeded = writable
    _leave(server, seeded)
    status, body, _ = get(server, "/ui/reset", **{**PREVIEW, "kind": "offset", "value": "10"})
    assert status == 200
    assert [row[2:6] for row in cells(body, "reset-preview")] == [["4", "10", "0", "6"]] * 2
    assert _committed(server) == [4, 4]  # the preview changed nothing
    form = _hidden(body)
    assert set(form) == {"group", "topic", "kind", "value", "preview", "csrf"}
    assert 'name="confirm"' in body
    status, body = post(server, "/ui/reset", {**form, "confirm": "yes"})
    assert status == 200
    assert "Reset applied to 2 partition(s)." in text(body)
    assert _committed(server) == [10, 10]


def test_apply_needs_the_csrf_token(writable):
    server, seeded = writable
    _leave(server, seeded)
    _, body, _ = get(server, "/ui/reset", **PREVIEW)
    form = {**_hidden(body), "confirm": "yes"}
    without = {k: v for k, v in form.items() if k != "csrf"}
    for bad in (without, {**form, "csrf": "guessed"}):
        status, body = post(server, "/ui/reset", bad)
        assert status == 403
        assert "CSRF token is missing or wrong" in text(body)
    assert _committed(server) == [4, 4]


def test_apply_needs_the_confirmation(writable):
    server, seeded = writable
    _leave(server, seeded)
    _, body, _ = get(server, "/ui/reset", **PREVIEW)
    status, body = post(server, "/ui/reset", _hidden(body))
    assert status == 400
    assert "tick the confirmation box" in text(body)
    assert _committed(server) == [4, 4]


def test_stale_preview_is_shown_again_not_applied(writable):
    server, seeded = writable
    _leave(server, seeded)
    _, body, _ = get(server, "/ui/reset", **PREVIEW)
    form = {**_hidden(body), "confirm": "yes"}
    orders = server.server.topics.get("orders")
    server.call(
        server.server.groups.commit("billing", None, [OffsetCommitInput(orders.partition(0), 7)])
    )
    status, body = post(server, "/ui/reset", form)
    assert status == 409
    assert "changed since the preview was shown; nothing was applied" in text(body)
    assert cells(body, "reset-preview")[0][2] == "7"
    assert _committed(server) == [7, 4]


def test_apply_refused_while_the_group_has_members(writable):
    server, _ = writable
    _, body, _ = get(server, "/ui/reset", **PREVIEW)
    assert "1 active member(s)" in text(body)
    status, body = post(server, "/ui/reset", {**_hidden(body), "confirm": "yes"})
    assert status == 409
    assert "active member(s); stop its consumers first" in text(body)
    assert _committed(server) == [4, 4]
