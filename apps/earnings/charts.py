"""Rewards drawn as server-rendered SVG bars (no script, no chart library), like the node
timeline: one bar per day or per month, its height relative to the largest, with a title."""
from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join

WIDTH, HEIGHT = 720, 80
SATOSHIS = 100_000_000


def bars_svg(values: list[tuple[str, float]], label: str):
    """values: (title, amount) per bar, oldest first."""
    count = max(1, len(values))
    top = max((v for _, v in values), default=0) or 1
    slot = WIDTH / count
    rects = format_html_join("", '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}: {}</title></rect>', (
        (f"{i * slot + 1:.1f}", f"{HEIGHT - value / top * HEIGHT:.1f}", f"{max(1.0, slot - 2):.1f}",
         f"{value / top * HEIGHT:.1f}", title, f"{value:,.2f} FLUX") for i, (title, value) in enumerate(values)))
    return format_html('<svg class="bars" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
                       'aria-label="{}">{}</svg>', WIDTH, HEIGHT, label, rects)


def rewards_chart(rows: list[tuple[datetime, int]], *, start: datetime, end: datetime):
    """One bar per day from start to end: the FLUX of the rewards paid that day."""
    days = max(1, (end.date() - start.date()).days + 1)
    totals = [0.0] * days
    for paid_at, satoshis in rows:
        index = (paid_at.date() - start.date()).days
        if 0 <= index < days:
            totals[index] += satoshis / SATOSHIS
    values = [((start + timedelta(days=i)).strftime("%d %b"), total) for i, total in enumerate(totals)]
    return bars_svg(values, f"Rewards per day over {days} days: {sum(totals):,.2f} FLUX")
