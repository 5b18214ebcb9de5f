"""The Stats page's charts: the last hour of one container's samples as server-rendered SVG (no
JavaScript, no chart library), in the style of apps/nodes/timeline.py.

Four charts per container: CPU %, memory (used against the limit), network (receive and send
rates from consecutive counters) and disk (used). A line breaks where samples are missing (more
than GAP_S between two, or a figure the node did not give), so an hour nobody watched is empty,
not a straight line. A counter that went down means the container restarted: that interval has no
rate (never a negative spike). All markup is built with format_html: nothing a node says is
written unescaped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join

SPAN = timedelta(hours=1)
GAP_S = 45  # the page samples every 10 s; more than this between two samples is a gap
WIDTH, HEIGHT = 360, 110
LEFT, RIGHT, TOP, BOTTOM = 58, 6, 8, 18  # room for the axis labels
BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


@dataclass
class Line:
    label: str
    css: str  # class of the path: chart-a (first figure) or chart-b (second)
    points: list[tuple[datetime, float | None]]  # None breaks the line


# ---------------------------------------------------------------------------- figures


def values(samples, name: str) -> list[tuple[datetime, float | None]]:
    return [(s.taken_at, getattr(s, name)) for s in samples]


def rates(samples, name: str) -> list[tuple[datetime, float | None]]:
    """Bytes per second between consecutive counter readings, at the later one. No rate across a
    gap, a missing reading or a counter that went down (the container restarted)."""
    out = []
    for before, after in zip(samples, samples[1:], strict=False):
        a, b = getattr(before, name), getattr(after, name)
        seconds = (after.taken_at - before.taken_at).total_seconds()
        if a is None or b is None or b < a or not 0 < seconds <= GAP_S:
            out.append((after.taken_at, None))
        else:
            out.append((after.taken_at, (b - a) / seconds))
    return out


# ---------------------------------------------------------------------------- units


def byte_unit(top: float) -> tuple[str, float]:
    """The unit the axis of byte figures up to `top` is labelled in, and its size."""
    size, index = 1, 0
    while top >= size * 1024 and index < len(BYTE_UNITS) - 1:
        size, index = size * 1024, index + 1
    return BYTE_UNITS[index], size


def nice_top(top: float) -> float:
    """The axis maximum: `top` rounded up to a round number (1, 1.2, 1.5, 2, … 8 times a power of
    ten), so the line uses most of the height and the labels stay short."""
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
        if top <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"


def axis(kind: str, top: float) -> tuple[float, str, float]:
    """(axis maximum, unit text, unit size) for figures up to `top` of a kind: "percent",
    "bytes" or "rate" (bytes per second)."""
    if kind == "percent":
        return nice_top(max(top, 1.0)), "%", 1.0
    if kind == "count":
        return nice_top(max(top, 1.0)), "nodes", 1.0
    unit, size = byte_unit(top)
    if nice_top(top / size) >= 1000:  # "1000 MiB" reads better as 1 GiB
        unit, size = byte_unit(size * 1024)
    return nice_top(top / size) * size, unit + ("/s" if kind == "rate" else ""), size


def label(value: float, unit: str, size: float) -> str:
    return f"{_number(value / size)} {unit}"


def figure(value: float | None, kind: str) -> str:
    """One current figure for the card: "12.5 %", "300 MiB", "4.2 KiB/s", "–" when unknown."""
    if value is None:
        return "–"
    _, unit, size = axis(kind, value)
    return label(value, unit, size)


# ---------------------------------------------------------------------------- drawing


def _runs(points, start: datetime, gap_s: float = GAP_S):
    """The drawable runs of (x seconds, value): split at None and at gaps longer than `gap_s`."""
    run, last = [], None
    for at, value in points:
        seconds = (at - start).total_seconds()
        if value is None or seconds < 0 or (last is not None and seconds - last > gap_s):
            if run:
                yield run
            run = []
        if value is not None and seconds >= 0:
            run.append((seconds, value))
        last = seconds
    if run:
        yield run


def _plot(lines: list[Line], start: datetime, top: float, span: timedelta = SPAN, gap_s: float = GAP_S):
    span, plot_w, plot_h = span.total_seconds(), WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(seconds, value):
        return (round(LEFT + min(seconds, span) / span * plot_w, 1),
                round(TOP + plot_h - min(value, top) / top * plot_h, 1))

    parts = []
    for line in lines:
        for run in _runs(line.points, start, gap_s):
            coords = [xy(*point) for point in run]
            if len(coords) == 1:  # a lone sample: a dot, or it would not show
                parts.append(format_html('<circle cx="{}" cy="{}" r="1.5" class="{}"/>', *coords[0], line.css))
                continue
            d = "M" + " L".join(f"{x} {y}" for x, y in coords)
            parts.append(format_html('<path d="{}" class="{}"/>', d, line.css))
    return format_html_join("", "{}", ((part,) for part in parts))


def chart(title: str, kind: str, lines: list[Line], *, now: datetime, span: timedelta = SPAN,
          gap_s: float = GAP_S, time_format: str = "%H:%M UTC", span_text: str = "the last hour"):
    """One chart of the `span` (an hour) before `now`: the lines, a y axis labelled 0, half and
    top in the figures' unit, the time at both ends, and "no samples yet" when there is nothing
    to draw. Kinds: "percent", "bytes", "rate", "count"."""
    start = now - span
    known = [value for line in lines for at, value in line.points if value is not None and at >= start]
    top, unit, size = axis(kind, max(known, default=0.0))
    plot_bottom = HEIGHT - BOTTOM
    grid = format_html_join("", '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-grid"/>'
                            '<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>', (
        (LEFT, y, WIDTH - RIGHT, y, LEFT - 4, y + 3, label(value, unit, size))
        for value, y in ((0, plot_bottom), (top / 2, (TOP + plot_bottom) / 2), (top, TOP))))
    times = format_html(
        '<text x="{}" y="{}" class="chart-label">{}</text>'
        '<text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>',
        LEFT, HEIGHT - 4, start.strftime(time_format), WIDTH - RIGHT, HEIGHT - 4,
        now.strftime(time_format.replace(" UTC", "")))
    if known:
        body = _plot(lines, start, top, span, gap_s)
        legend = format_html_join(" · ", '<tspan class="{}-text">{}</tspan>', ((line.css, line.label) for line in lines))
    else:
        body = format_html('<text x="{}" y="{}" class="chart-empty" text-anchor="middle">no samples yet</text>',
                           (LEFT + WIDTH - RIGHT) / 2, (TOP + plot_bottom) / 2 + 4)
        legend = ""
    return format_html(
        '<figure class="stats-chart" data-chart="{}"><figcaption>{} <small>{}</small></figcaption>'
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{} over {}, in {}">'
        '<text x="{}" y="{}" class="chart-label">{}</text>{}{}{}</svg></figure>',
        kind if kind != "rate" else "network", title, unit, WIDTH, HEIGHT, title, span_text, unit,
        LEFT, TOP - 1, legend, grid, times, body)


def container_charts(samples, *, now: datetime) -> list:
    """The four charts of one container's samples (oldest first)."""
    return [
        chart("CPU", "percent", [Line("used", "chart-a", values(samples, "cpu_percent"))], now=now),
        chart("Memory", "bytes", [Line("used", "chart-a", values(samples, "memory_used")),
                                  Line("limit", "chart-b", values(samples, "memory_limit"))], now=now),
        chart("Network", "rate", [Line("received", "chart-a", rates(samples, "net_rx")),
                                  Line("sent", "chart-b", rates(samples, "net_tx"))], now=now),
        chart("Disk", "bytes", [Line("used", "chart-a", values(samples, "disk_used"))], now=now),
    ]


def current(samples) -> dict:
    """The newest figures of a container for its card (each "–" when unknown)."""
    if not samples:
        return {}
    last = samples[-1]
    rx, tx = rates(samples[-2:], "net_rx"), rates(samples[-2:], "net_tx")
    return {
        "at": last.taken_at,
        "cpu": figure(last.cpu_percent, "percent"),
        "memory": figure(last.memory_used, "bytes"),
        "memory_limit": figure(last.memory_limit, "bytes"),
        "rx": figure(rx[-1][1] if rx else None, "rate"),
        "tx": figure(tx[-1][1] if tx else None, "rate"),
        "disk_read": figure(last.disk_read, "bytes"),
        "disk_write": figure(last.disk_write, "bytes"),
        "disk_used": figure(last.disk_used, "bytes"),
    }
