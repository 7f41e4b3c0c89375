"""Consumer groups: the list with total lag, and one group's members, assignment and lag."""

from __future__ import annotations

from aiohttp import web

from weir.broker.console.chart import line_chart
from weir.broker.console.context import Console
from weir.broker.console.formatting import seconds, when
from weir.broker.console.markup import join, link, page, table, tag, url
from weir.broker.groups.model import MemberView
from weir.core.errors import NotFoundError


async def groups_page(c: Console, request: web.Request) -> str:
    """Every group with its state, member count and lag."""
    rows = []
    for view in c.groups.list_groups():
        try:
            described = await c.groups.describe(view.group_id)
        except NotFoundError:  # deleted meanwhile
            continue
        lags = described.partitions
        rows.append(
            (
                link(url("groups", view.group_id), view.group_id),
                described.view.state,
                len(described.view.members),
                sum(p.lag_records for p in lags),
                seconds(max((p.lag_ms for p in lags), default=0)),
            )
        )
    headers = ("Group", "State", "Members", "Lag (records)", "Lag (oldest unconsumed)")
    return page("Consumer groups", table(headers, rows, class_="groups"), "groups")


async def group_page(c: Console, request: web.Request) -> str:
    """Members, assignment, lag per partition, and charts of recent lag."""
    group_id = request.match_info["group"]
    described = await c.groups.describe(group_id)
    view = described.view
    members = table(
        ("Member", "Instance", "Epoch", "State", "Assigned", "Subscription"),
        (
            (m.member_id, m.instance_id or "", m.member_epoch, m.state, _assigned(m), _sub(m))
            for m in view.members
        ),
        class_="members",
    )
    partitions = table(
        (
            "Topic",
            "Partition",
            "Committed",
            "Log end",
            "Lag (records)",
            "Lag (seconds)",
            "Owner",
            "Committed at",
        ),
        (
            (
                link(url("topics", p.tp.topic), p.tp.topic),
                p.tp.partition,
                "none" if p.committed is None else p.committed.offset,
                p.log_end,
                p.lag_records,
                seconds(p.lag_ms),
                _owner(view.owner(p.tp)),
                when(p.committed.commit_time_ms) if p.committed else "—",
            )
            for p in described.partitions
        ),
        class_="lag",
    )
    history = c.lag.samples(group_id)
    charts = tag(
        "div",
        line_chart("Lag in records", [(s.at_ms, float(s.records)) for s in history], "records"),
        line_chart("Lag in seconds", [(s.at_ms, s.seconds) for s in history], "s"),
        class_="charts",
    )
    summary = (
        f"state {view.state} · group epoch {view.group_epoch} · assignor {view.assignor} · "
        f"sampled every {c.lag.interval_ms / 1000:g} s"
    )
    body = join(
        (
            tag("p", summary),
            tag("p", link(url("reset", group=group_id), "Reset offsets…", class_="button")),
            tag("h2", "Lag"),
            charts,
            partitions,
            tag("h2", "Members"),
            members,
        )
    )
    return page(f"Group {group_id}", body, "groups")


def _assigned(m: MemberView) -> str:
    parts = sorted(m.assignment, key=lambda tp: (tp.topic, tp.partition))
    return ", ".join(f"{tp.topic}-{tp.partition}" for tp in parts) or "nothing"


def _sub(m: MemberView) -> str:
    if m.subscription.regex is not None:
        return f"regex {m.subscription.regex}"
    return ", ".join(sorted(m.subscription.topics))


def _owner(m: MemberView | None) -> str:
    return "unassigned" if m is None else m.member_id
