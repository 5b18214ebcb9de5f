"""A node's state over 24 h / 7 d / 30 d: uptime over the time the panel watched it, and a
server-rendered SVG strip per window (no JavaScript, no chart library).

Everything comes from StatusChange rows in two bounded, index-served queries (node, -at): the
newest MAX_CHANGES changes of the last 30 days and the change in force before them. A node that
flapped more often than that keeps its older part "not watched" (and says so) instead of reading
an unbounded history. Time before the node's first observed state, time in state "unknown", and
time after the last sweep that checked it (once that is older than STALE_AFTER) count as not
watched, so ten minutes with six down reads "40 % over 10 min watched", never "30 d 41 %".

The strip is WIDTH columns; each column shows the worst state seen in it, so a one-minute outage
in a 30-day strip is still a visible red column, and the SVG has at most WIDTH rectangles.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.nodes.models import NodeState, StatusChange

WINDOWS = (("24 h", timedelta(hours=24)), ("7 d", timedelta(days=7)), ("30 d", timedelta(days=30)))
MAX_CHANGES = 5000
STALE_AFTER = timedelta(minutes=10)
WIDTH = 720
HEIGHT = 18
# Worst first wins a column; "unwatched" (None) loses to anything observed.
SEVERITY = {None: 0, NodeState.CONFIRMED: 1, NodeState.UNCONFIRMED: 2, NodeState.DOS: 3,
            NodeState.ERROR: 4, NodeState.DOWN: 5}
LABELS = dict(NodeState.choices)


def duration_text(seconds: float) -> str:
    """"3 h 10 min", "2 d 4 h", "45 min", "30 s"."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


@dataclass
class Window:
    label: str
    span: timedelta
    start: datetime
    end: datetime
    segments: list = field(default_factory=list)  # (start, end, state or None = not watched)
    up_s: float = 0.0
    watched_s: float = 0.0
    truncated: bool = False

    @property
    def percent(self) -> float | None:
        if self.watched_s <= 0:
            return None
        return round(100 * self.up_s / self.watched_s, 1)

    @property
    def fully_watched(self) -> bool:
        return self.watched_s >= 0.99 * self.span.total_seconds()

    @property
    def summary(self) -> str:
        """"99.2 % over 3 h 10 min watched", "100 % over 24 h", or "not watched yet"."""
        if self.percent is None:
            return "not watched yet"
        value = f"{self.percent:g} %"
        if self.fully_watched:
            return f"{value} over {self.label}"
        return f"{value} over {duration_text(self.watched_s)} watched"

    def columns(self) -> list:
        """The worst state of each of WIDTH columns."""
        span = self.span.total_seconds()
        cols = [None] * WIDTH
        for seg_start, seg_end, state in self.segments:
            if state is None:
                continue
            x0 = (seg_start - self.start).total_seconds() / span * WIDTH
            x1 = (seg_end - self.start).total_seconds() / span * WIDTH
            for col in range(max(0, int(x0)), min(WIDTH, max(int(x0) + 1, math.ceil(x1)))):
                if SEVERITY.get(state, 0) > SEVERITY.get(cols[col], 0):
                    cols[col] = state
        return cols

    def svg(self):
        """The strip: one rectangle per run of equal columns, each with a hover title."""
        runs, cols = [], self.columns()
        begin = 0
        for col in range(1, WIDTH + 1):
            if col == WIDTH or cols[col] != cols[begin]:
                runs.append((begin, col, cols[begin]))
                begin = col
        seconds_per_col = self.span.total_seconds() / WIDTH
        fmt = "%H:%M" if self.span <= timedelta(days=1) else "%d %b %H:%M"

        def moment(col):
            return (self.start + timedelta(seconds=col * seconds_per_col)).strftime(fmt)

        rects = format_html_join("", '<rect x="{}" y="0" width="{}" height="{}" class="tl-{}"><title>{}: {}–{} UTC</title></rect>', (
            (a, b - a, HEIGHT, state or "none", LABELS.get(state, "not watched") if state else "not watched",
             moment(a), moment(b)) for a, b, state in runs))
        return format_html(
            '<svg class="timeline" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
            'aria-label="State over {}: {}" data-window="{}">{}</svg>',
            WIDTH, HEIGHT, self.label, self.summary, self.label, rects)


def _merge(segments: list) -> list:
    merged = []
    for seg in segments:
        if merged and merged[-1][2] == seg[2] and merged[-1][1] == seg[0]:
            merged[-1] = (merged[-1][0], seg[1], seg[2])
        elif seg[1] > seg[0]:
            merged.append(seg)
    return merged


def node_timeline(node, *, now=None, checked_at=None) -> list[Window]:
    """The node's windows, shortest first. `checked_at` (the snapshot's) ends the watched time
    when the sweeps stopped reaching the node for longer than STALE_AFTER."""
    now = now or timezone.now()
    longest = max(span for _, span in WINDOWS)
    since = now - longest
    rows = list(StatusChange.objects.filter(node=node, at__gte=since, at__lte=now)
                .order_by("-at", "-id").values_list("at", "old_state", "new_state")[:MAX_CHANGES])
    rows.reverse()
    truncated = len(rows) >= MAX_CHANGES
    if truncated:
        # Since when the oldest read row's old state held is not known: not watched until then.
        first_at, _, state = rows.pop(0)
        cursor, segments = first_at, [(since, first_at, None)]
    else:
        state = (StatusChange.objects.filter(node=node, at__lt=since).order_by("-at", "-id")
                 .values_list("new_state", flat=True).first())
        cursor, segments = since, []
    for at, _old_state, new_state in rows:
        segments.append((cursor, at, state))
        cursor, state = at, new_state
    watched_until = now
    if checked_at is not None and now - checked_at > STALE_AFTER:
        watched_until = max(cursor, checked_at)
    segments.append((cursor, watched_until, state))
    if watched_until < now:
        segments.append((watched_until, now, None))
    segments = _merge([(a, b, None if s in (None, NodeState.UNKNOWN) else s) for a, b, s in segments])

    windows = []
    for label, span in WINDOWS:
        window = Window(label, span, now - span, now, truncated=truncated)
        for seg_start, seg_end, seg_state in segments:
            start, end = max(seg_start, window.start), min(seg_end, now)
            if end <= start:
                continue
            window.segments.append((start, end, seg_state))
            if seg_state is not None:
                length = (end - start).total_seconds()
                window.watched_s += length
                window.up_s += length if NodeState.answered(seg_state) else 0
        windows.append(window)
    return windows
