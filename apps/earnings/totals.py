"""The team's earnings per month (sums of the Reward rows kept) against its nodes' monthly-cost
labels, in a fixed number of queries whatever the fleet size."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from apps.earnings.charts import SATOSHIS, bars_svg
from apps.earnings.models import NodeEarnings, Reward
from apps.nodes.models import Node
from fluxpanel.fluxos.fluxconfig import FLUX_USD_RATE_FALLBACK

MONTHS = 12
STALE_SHOWN = 50


@dataclass
class Month:
    start: datetime
    flux: Decimal
    usd: Decimal  # at FluxOS's fallback rate
    cost: Decimal  # today's monthly-cost labels

    @property
    def margin(self) -> Decimal:
        return self.usd - self.cost


def month_starts(now: datetime, count: int) -> list[datetime]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = []
    year, month = first.year, first.month
    for _ in range(count):
        starts.append(first.replace(year=year, month=month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def team_totals(team_id: int, *, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    starts = month_starts(now, MONTHS)
    earned = dict(Reward.objects.filter(team_id=team_id, paid_at__gte=starts[0])
                  .annotate(month=TruncMonth("paid_at")).values("month")
                  .annotate(total=Sum("satoshis")).values_list("month", "total"))
    nodes = Node.objects.filter(team_id=team_id).aggregate(
        cost=Sum("monthly_cost"), count=Count("pk"), labelled=Count("pk", filter=Q(monthly_cost__isnull=False)))
    figures = NodeEarnings.objects.filter(team_id=team_id).aggregate(
        count=Count("pk", filter=Q(refreshed_at__isnull=False)),
        stale=Count("pk", filter=~Q(stale_reason="")))
    cost = Decimal(nodes["cost"] or 0).quantize(Decimal("0.01"))
    rate = Decimal(str(FLUX_USD_RATE_FALLBACK))
    by_month = {key.date().replace(day=1): value for key, value in earned.items() if key is not None}
    months = []
    for start in starts:
        flux = Decimal(by_month.get(start.date(), 0)) / SATOSHIS
        months.append(Month(start, flux.quantize(Decimal("0.01")), (flux * rate).quantize(Decimal("0.01")), cost))
    stale = list(NodeEarnings.objects.filter(team_id=team_id).exclude(stale_reason="")
                 .select_related("node").order_by("node__name")[:STALE_SHOWN])
    return {
        "months": months, "rate": rate, "cost": cost, "nodes": nodes["count"], "labelled": nodes["labelled"],
        "with_figures": figures["count"], "stale_count": figures["stale"], "stale": stale,
        "chart": bars_svg([(m.start.strftime("%b %Y"), float(m.flux)) for m in months],
                          f"Rewards per month over {MONTHS} months"),
    }
