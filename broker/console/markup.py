"""A tiny HTML builder that escapes by default.

Plain ``str`` values are always escaped with ``html.escape``; only ``Markup`` (built by the
helpers here from escaped parts) passes through unchanged. Pages are assembled from these
helpers, so user-controlled text (topic names, keys, schema text, headers) cannot inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode


class Markup(str):
    """HTML that is already safe to emit."""

    __slots__ = ()


def render(value: object) -> str:
    """The HTML for one child: markup as is, anything else escaped (None is empty)."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    return html.escape(str(value))


def join(children: Iterable[object]) -> Markup:
    """Concatenate children, escaping the plain ones."""
    return Markup("".join(render(c) for c in children))


def tag(name: str, /, *children: object, **attrs: object) -> Markup:
    """``<name attrs>children</name>``; ``class_`` gives ``class``, True gives a bare attribute,
    False or None leaves it out."""
    parts = [name]
    for key, value in attrs.items():
        attr = key.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(attr)
        elif value is not None and value is not False:
            parts.append(f'{attr}="{html.escape(str(value), quote=True)}"')
    opening = "<" + " ".join(parts) + ">"
    if name in ("input", "br", "meta", "link"):
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{name}>")


def link(href: str, text: object, **attrs: object) -> Markup:
    """An anchor; ``href`` is escaped as an attribute."""
    return tag("a", text, href=href, **attrs)


def url(*segments: str | int, **query: object) -> str:
    """A console URL: each path segment percent-encoded, query values None left out."""
    path = "/ui/" + "/".join(quote(str(s), safe="") for s in segments)
    params = {k: str(v) for k, v in query.items() if v is not None}
    return f"{path}?{urlencode(params)}" if params else path


def table(
    headers: Iterable[object], rows: Iterable[Iterable[object]], class_: str | None = None
) -> Markup:
    """A table with a header row; an empty ``rows`` shows one 'nothing here' row."""
    names = list(headers)
    head = tag("tr", *(tag("th", h) for h in names))
    body = [tag("tr", *(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        body = [tag("tr", tag("td", "nothing here yet", colspan=len(names), class_="empty"))]
    return tag("table", tag("thead", head), tag("tbody", *body), class_=class_)


def definitions(items: Mapping[str, object]) -> Markup:
    """A definition list of label -> value."""
    return tag("dl", *(join((tag("dt", k), tag("dd", v))) for k, v in items.items()))


def pre(text: str, class_: str | None = None) -> Markup:
    """Preformatted, escaped text."""
    return tag("pre", text, class_=class_)


NAV = (
    ("topics", "Topics"),
    ("subjects", "Subjects"),
    ("groups", "Consumer groups"),
    ("dlq", "Dead letters"),
)


def page(title: str, body: Markup, section: str = "") -> str:
    """A whole HTML document with the console's navigation."""
    nav = tag(
        "nav",
        link("/ui/topics", "Weir", class_="brand"),
        *(
            link(f"/ui/{key}", label, class_="active" if key == section else None)
            for key, label in NAV
        ),
    )
    head = join(
        (
            Markup('<meta charset="utf-8">'),
            Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
            tag("title", f"{title} · Weir console"),
            tag("link", rel="stylesheet", href="/ui/static/console.css"),
        )
    )
    main = tag("main", tag("h1", title), body)
    return "<!doctype html>\n" + tag("html", tag("head", head), tag("body", nav, main), lang="en")
