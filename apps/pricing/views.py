"""Pricing pages: the calculator (one URL; htmx swaps only the result), team cost, renewals, CSV."""
from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.accounts.access import team_view
from apps.deployments.models import TeamApp
from apps.nodes.models import Node
from apps.pricing.calculator import FLUX_RATE, estimate, resources_spec
from apps.pricing.forms import CalculatorForm
from apps.pricing.tables import price_context

RESULT_ID = "price-result"
SOON_DAYS = 7
CSV_HEADER = ["name", "expiry date", "days left", "expiry height", "renewal USD", "renewal FLUX"]


def team_costs(team) -> dict:
    """Apps per month (FluxOS prices of non-dropped apps), nodes per month, and their total."""
    apps = TeamApp.objects.filter(team=team, dropped=False).aggregate(s=Sum("monthly_usd"))["s"] or Decimal(0)
    nodes = Node.objects.filter(team=team).aggregate(s=Sum("monthly_cost"))["s"] or Decimal(0)
    return {"apps_usd": apps, "nodes_usd": nodes, "total_usd": apps + nodes}


def _calculate(request, context):
    data = request.POST if request.method == "POST" else request.GET
    if "mode" not in data:
        return CalculatorForm(), None
    form = CalculatorForm(data)
    if not form.is_valid():
        return form, None
    height = form.cleaned_data.get("height") or context.height
    if form.cleaned_data["mode"] == "spec":
        spec = form.cleaned_data["parsed_spec"]
    else:
        c = form.cleaned_data
        spec = resources_spec(cpu=c["cpu"], ram=c["ram"], hdd=c["hdd"], instances=c["instances"],
                              months=c["months"], staticip=c["staticip"], enterprise=c["enterprise"],
                              height=height)
    return form, estimate(spec, height, context)


@team_view()
def estimator(request):
    context = price_context(request.team)
    form, result = _calculate(request, context)
    page = {"form": form, "result": result, "prices": context, "rate": FLUX_RATE, "result_id": RESULT_ID}
    if request.htmx and request.htmx.target == RESULT_ID:
        return render(request, "pricing/_result.html", page)
    page["costs"] = team_costs(request.team)
    return render(request, "pricing/estimator.html", page)


def _add_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def renewal_rows(team) -> list[dict]:
    """Every non-dropped team app by expiry date (unknown expiry last), with days left. One query."""
    now = timezone.now()
    apps = (TeamApp.objects.filter(team=team, dropped=False)
            .only("name", "expires_at", "expiry_height", "renewal_usd", "renewal_flux")
            .order_by("expires_at", "name_key"))
    rows = []
    for app in apps:
        days = (app.expires_at - now).days if app.expires_at else None
        rows.append({"app": app, "name": app.name, "expires_at": app.expires_at, "days_left": days,
                     "soon": days is not None and days < SOON_DAYS, "expiry_height": app.expiry_height,
                     "renewal_usd": app.renewal_usd, "renewal_flux": app.renewal_flux})
    known = [r for r in rows if r["expires_at"]]
    return known + [r for r in rows if not r["expires_at"]]


def month_calendar(rows: list[dict], today: date | None = None) -> list[dict]:
    """The next 12 months from this one: the apps expiring in each and the sum of their renewals."""
    today = today or timezone.localdate()
    start = date(today.year, today.month, 1)
    months = []
    for _ in range(12):
        end = _add_month(start)
        expiring = [r for r in rows if r["expires_at"] and start <= timezone.localtime(r["expires_at"]).date() < end]
        months.append({
            "month": start, "apps": expiring,
            "usd": sum((r["renewal_usd"] for r in expiring if r["renewal_usd"] is not None), Decimal(0)),
            "flux": sum((r["renewal_flux"] for r in expiring if r["renewal_flux"] is not None), Decimal(0)),
        })
        start = end
    return months


@team_view()
def renewals(request):
    rows = renewal_rows(request.team)
    return render(request, "pricing/renewals.html", {
        "rows": rows, "months": month_calendar(rows), "costs": team_costs(request.team), "soon_days": SOON_DAYS})


FORMULA_STARTS = ("=", "+", "-", "@")


def neutralise(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading ' before = + - @)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@team_view()
def renewals_csv(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="renewals.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for r in renewal_rows(request.team):
        expires = timezone.localtime(r["expires_at"]).date().isoformat() if r["expires_at"] else ""
        writer.writerow([neutralise(v) for v in (r["name"], expires, r["days_left"], r["expiry_height"],
                                                  r["renewal_usd"], r["renewal_flux"])])
    return response
