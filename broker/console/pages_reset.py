"""Offset reset: a dry-run preview first, then (only with writes on) a confirmed apply.

The preview is a GET and changes nothing. Applying is a POST that needs console_allow_writes,
the server's CSRF token, a ticked confirmation, and a preview that still matches: if the
group committed since the preview was shown, the new preview is shown instead of applying.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from weir.broker.console.context import Console
from weir.broker.console.errors import ConsoleError, bad_request
from weir.broker.console.markup import Markup, join, link, page, table, tag, url
from weir.broker.console.reset_input import ResetRequest, fingerprint, parse_reset
from weir.broker.groups.positions import ResetKind, ResetOutcome

ENABLE_HINT = (
    "Applying resets from the console is off. Start the server with "
    "console_allow_writes = true in its config file (or WEIR_CONSOLE_ALLOW_WRITES=true) to "
    "enable it, or apply this reset with `weir group reset`."
)


async def reset_page(c: Console, request: web.Request) -> str:
    """The reset form, and with a target chosen, the dry-run preview."""
    group = request.query.get("group", "")
    if not group:
        raise bad_request("group is required: open the reset form from a group's page")
    c.groups.coordinator.get(group)  # 404 for an unknown group
    if "kind" not in request.query:
        return _page(c, group, None, Markup(""))
    ask = parse_reset(request.query)
    outcomes = await c.groups.reset(group, ask.topic, ask.spec, force=False, dry_run=True)
    return _page(c, group, ask, _preview(c, ask, outcomes))


async def apply_reset(c: Console, request: web.Request) -> web.Response:
    """Apply a previewed reset (POST)."""
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    if not c.allow_writes:
        raise ConsoleError(403, ENABLE_HINT)
    if not hmac.compare_digest(form.get("csrf", ""), c.csrf_token):
        raise ConsoleError(403, "the form's CSRF token is missing or wrong; reload the page")
    ask = parse_reset(form)
    c.groups.coordinator.get(ask.group)
    if form.get("confirm") != "yes":
        raise bad_request("tick the confirmation box to apply the reset")
    preview = await c.groups.reset(ask.group, ask.topic, ask.spec, force=False, dry_run=True)
    if fingerprint(preview) != form.get("preview", ""):
        note = tag(
            "p",
            "The group's committed offsets changed since the preview was shown; nothing was "
            "applied. Review the new preview below.",
            class_="warning",
        )
        body = join((note, _preview(c, ask, preview)))
        return _html(_page(c, ask.group, ask, body), 409)
    applied = await c.groups.reset(ask.group, ask.topic, ask.spec, force=False, dry_run=False)
    done = join(
        (
            tag("p", f"Reset applied to {len(applied)} partition(s).", class_="ok", id="applied"),
            _outcomes(applied),
            tag("p", link(url("groups", ask.group), f"back to group {ask.group}")),
        )
    )
    return _html(page(f"Reset {ask.group}", done, "groups"), 200)


def _html(text: str, status: int) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _page(c: Console, group: str, ask: ResetRequest | None, below: Markup) -> str:
    topics = [t.name for t in c.topics.list()]
    chosen_topic = ask.topic if ask else None
    chosen_kind = ask.kind if ask else ResetKind.EARLIEST
    form = tag(
        "form",
        tag("input", type="hidden", name="group", value=group),
        tag(
            "label",
            "Topic ",
            tag(
                "select",
                tag("option", "every topic of the group", value=""),
                *(tag("option", t, value=t, selected=t == chosen_topic) for t in topics),
                name="topic",
                id="reset-topic",
            ),
        ),
        tag(
            "label",
            " to ",
            tag(
                "select",
                *(
                    tag("option", k.value, value=k.value, selected=k is chosen_kind)
                    for k in ResetKind
                ),
                name="kind",
                id="reset-kind",
            ),
        ),
        tag(
            "label",
            " value ",
            tag(
                "input",
                name="value",
                value=ask.value if ask else "",
                id="reset-value",
                placeholder="offset, time (ISO 8601 / epoch ms) or duration (15m)",
            ),
        ),
        " ",
        tag("button", "Preview (dry run)", type="submit", id="preview"),
        method="get",
        action="/ui/reset",
        class_="reset",
    )
    intro = tag("p", link(url("groups", group), f"« group {group}"))
    return page(f"Reset offsets of {group}", join((intro, form, below)), "groups")


def _preview(c: Console, ask: ResetRequest, outcomes: list[ResetOutcome]) -> Markup:
    members = c.groups.coordinator.active_members(ask.group)
    warning = (
        tag(
            "p",
            f"The group has {members} active member(s): stop its consumers before applying.",
            class_="warning",
        )
        if members
        else None
    )
    if c.allow_writes:
        confirm = tag(
            "form",
            *(
                tag("input", type="hidden", name=k, value=v)
                for k, v in (
                    ("group", ask.group),
                    ("topic", ask.topic or ""),
                    ("kind", ask.kind.value),
                    ("value", ask.value),
                    ("preview", fingerprint(outcomes)),
                    ("csrf", c.csrf_token),
                )
            ),
            tag(
                "label",
                tag(
                    "input",
                    type="checkbox",
                    name="confirm",
                    value="yes",
                    required=True,
                    id="confirm",
                ),
                " I have checked the preview; move the committed offsets as shown.",
            ),
            " ",
            tag("button", "Apply reset", type="submit", id="apply"),
            method="post",
            action="/ui/reset",
            class_="confirm",
        )
    else:
        confirm = tag("p", ENABLE_HINT, class_="note", id="writes-off")
    heading = tag("h2", f"Dry run: reset to {ask.kind.value} {ask.value}".rstrip())
    return join((heading, warning, _outcomes(outcomes), confirm))


def _outcomes(outcomes: list[ResetOutcome]) -> Markup:
    return table(
        ("Topic", "Partition", "Previous", "New", "Re-delivered", "Skipped", "To read"),
        (
            (
                o.tp.topic,
                o.tp.partition,
                "none" if o.previous is None else o.previous,
                o.target,
                o.redelivered,
                o.skipped,
                o.to_read,
            )
            for o in outcomes
        ),
        class_="reset-preview",
    )
