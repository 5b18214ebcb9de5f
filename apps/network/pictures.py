"""The Network page's pictures, server-drawn SVG built with format_html (nothing the stats API
says is written unescaped): bars for the network's figures, and apps.operations.charts' line
chart for the fleet over time."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join

from apps.network import history
from apps.network.compare import percent
from apps.network.parse import VERSION, version_tuple
from apps.operations import charts

BAR_W, ROW_H, LABEL_W, VALUE_W = 360, 18, 90, 70
MAX_BARS = 8
FAILING = ("down", "error", "dos", "unconfirmed")


def bars(title: str, rows: list[tuple[str, int]], *, total: int | None = None, key: str = ""):
    """Horizontal bars: one per (label, count), longest first as given, with the count and its
    share of `total` (default: the sum) written at the end."""
    rows = rows[:MAX_BARS]
    total = total if total is not None else sum(count for _, count in rows)
    top = max((count for _, count in rows), default=0) or 1
    plot_w = BAR_W - LABEL_W - VALUE_W
    parts = format_html_join("", (
        '<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"/>'
        '<text x="{}" y="{}" class="chart-label bar-value">{} · {} %</text>'), (
        (LABEL_W - 4, i * ROW_H + 13, label, LABEL_W, i * ROW_H + 3, round(count / top * plot_w, 1),
         ROW_H - 6, LABEL_W + round(count / top * plot_w, 1) + 4, i * ROW_H + 13, count,
         percent(count, total) or 0)
        for i, (label, count) in enumerate(rows)))
    height = max(len(rows), 1) * ROW_H + 4
    if not rows:
        parts = format_html('<text x="{}" y="13" class="chart-empty">no figures yet</text>', LABEL_W)
    return format_html(
        '<figure class="stats-chart" data-chart="{}"><figcaption>{}</figcaption>'
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg></figure>',
        key or title.lower(), title, BAR_W, height, title, parts)


def newest_version(versions: dict) -> str:
    found = [v for v in versions if VERSION.match(v)]
    return max(found, key=version_tuple) if found else ""


def state_chart(points: list[tuple[datetime, dict]], *, now: datetime):
    confirmed = [(at, float(c.get("confirmed", 0))) for at, c in points]
    failing = [(at, float(sum(c.get(s, 0) for s in FAILING))) for at, c in points]
    return charts.chart("Nodes by state", "count",
                        [charts.Line("confirmed", "chart-a", confirmed),
                         charts.Line("not confirmed or not answering", "chart-b", failing)],
                        now=now, span=history.SPAN, gap_s=history.SPAN.total_seconds(),
                        time_format="%d %b", span_text="the last 7 days")


def version_chart(points: list[tuple[datetime, dict]], *, now: datetime):
    newest = newest_version(points[-1][1]) if points else ""
    current = [(at, float(v.get(newest, 0))) for at, v in points]
    older = [(at, float(sum(v.values()) - v.get(newest, 0))) for at, v in points]
    return charts.chart("FluxOS versions", "count",
                        [charts.Line(f"on {newest or 'the newest'}", "chart-a", current),
                         charts.Line("older", "chart-b", older)],
                        now=now, span=timedelta(days=history.MAX_DAYS), gap_s=2 * 86400,
                        time_format="%d %b", span_text=f"the last {history.MAX_DAYS} days")
