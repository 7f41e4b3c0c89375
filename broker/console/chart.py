"""A small inline SVG line chart of lag over time; no script, no external files."""

from __future__ import annotations

from collections.abc import Sequence

from weir.broker.console.markup import Markup, tag

WIDTH, HEIGHT = 460, 150
LEFT, RIGHT, TOP, BOTTOM = 56, 10, 12, 24


def line_chart(title: str, points: Sequence[tuple[int, float]], unit: str) -> Markup:
    """A chart of (time ms, value) points with the range and the latest value labelled."""
    if len(points) < 2:
        note = "collecting samples…" if points else "no samples yet"
        return tag("figure", tag("figcaption", title), tag("p", note, class_="empty"))
    t0, t1 = points[0][0], points[-1][0]
    top = max(*(v for _, v in points), 1e-9)
    span_t = max(t1 - t0, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(t: int, v: float) -> str:
        x = LEFT + (t - t0) / span_t * plot_w
        y = TOP + plot_h - v / top * plot_h
        return f"{x:.1f},{y:.1f}"

    line = " ".join(xy(t, v) for t, v in points)
    area = f"{LEFT},{TOP + plot_h} {line} {LEFT + plot_w},{TOP + plot_h}"
    span_s = span_t / 1000
    since = f"-{span_s:.0f} s" if span_s < 120 else f"-{span_s / 60:.1f} min"
    svg = tag(
        "svg",
        tag("title", f"{title}: latest {_fmt(points[-1][1])} {unit}"),
        tag("polygon", points=area, class_="area"),
        tag("polyline", points=line, class_="line"),
        tag("line", x1=LEFT, y1=TOP, x2=LEFT, y2=TOP + plot_h, class_="axis"),
        tag("line", x1=LEFT, y1=TOP + plot_h, x2=LEFT + plot_w, y2=TOP + plot_h, class_="axis"),
        tag("text", _fmt(top), x=LEFT - 6, y=TOP + 10, class_="tick", text_anchor="end"),
        tag("text", "0", x=LEFT - 6, y=TOP + plot_h, class_="tick", text_anchor="end"),
        tag("text", since, x=LEFT, y=HEIGHT - 6, class_="tick"),
        tag("text", "now", x=LEFT + plot_w, y=HEIGHT - 6, class_="tick", text_anchor="end"),
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {WIDTH} {HEIGHT}",
        width=WIDTH,
        height=HEIGHT,
        role="img",
        class_="chart",
    )
    caption = f"{title} (latest {_fmt(points[-1][1])} {unit})"
    return tag("figure", tag("figcaption", caption), svg)


def _fmt(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.1f}"
