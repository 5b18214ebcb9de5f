"""Rewards over time, read from apps.earnings when that app is installed (it is built separately,
issue 17 item 2): its Reward rows of the last SPAN_DAYS, bounded, drawn by its own bars chart.
Without the app, or with nothing recorded yet, the page says "no rewards recorded yet"."""
from __future__ import annotations

from datetime import timedelta

from django.apps import apps as django_apps
from django.utils import timezone

SPAN_DAYS = 30
MAX_ROWS = 20_000


def _earnings():
    if not django_apps.is_installed("apps.earnings"):
        return None
    try:
        from apps.earnings import charts
        from apps.earnings.models import Reward
    except ImportError:
        return None
    return Reward, getattr(charts, "rewards_chart", None)


def rewards_chart(team):
    """The chart of FLUX earned per day, or None when nothing is recorded (or no earnings app)."""
    found = _earnings()
    if found is None or found[1] is None:
        return None
    reward, draw = found
    end = timezone.now()
    start = end - timedelta(days=SPAN_DAYS - 1)
    rows = list(reward.objects.filter(team=team, paid_at__gte=start).order_by("-paid_at")
                .values_list("paid_at", "satoshis")[:MAX_ROWS])
    return draw(rows, start=start, end=end) if rows else None
