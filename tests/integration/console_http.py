"""HTTP and HTML helpers for the console tests: GET a page, read table cells and text."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import Any

from weir.broker.embedded import EmbeddedServer


def get(server: EmbeddedServer, path: str, **query: Any) -> tuple[int, str, str]:
    """GET a console path: (status, body, final URL after redirects)."""
    url = server.http_url + path
    if query:
        url += "?" + urllib.parse.urlencode(query)
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read().decode(), reply.url
    except urllib.error.HTTPError as e:
        kind = e.headers.get_content_type()
        return e.code, e.read().decode() if kind == "text/html" else f"not HTML: {kind}", url


def post(server: EmbeddedServer, path: str, form: dict[str, str]) -> tuple[int, str]:
    """POST a form: (status, body)."""
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(server.http_url + path, data=data, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class _Cells(HTMLParser):
    def __init__(self, table_class: str) -> None:
        super().__init__()
        self.want = table_class
        self.depth = 0
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and (self.depth or self.want in classes):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def cells(body: str, table_class: str) -> list[list[str]]:
    """The text of each body row's cells in the table with that class (header rows left out)."""
    parser = _Cells(table_class)
    parser.feed(body)
    return [row for row in parser.rows if row]


def text(body: str) -> str:
    """The page's text with tags removed, entities decoded and whitespace collapsed."""
    plain = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html.unescape(plain).split())
