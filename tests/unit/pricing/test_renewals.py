"""Team cost, the renewal calendar and its CSV export."""
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.deployments.models import TeamApp
from apps.nodes.models import Node
from apps.pricing.views import month_calendar, neutralise, renewal_rows


def app(team, name, days, usd="1.50", flux="3.00", monthly="1.00", **extra):
    expires = timezone.now() + timedelta(days=days, hours=1) if days is not None else None
    return TeamApp.objects.create(team=team, name=name, expires_at=expires, expiry_height=2_300_000,
                                  renewal_usd=Decimal(usd) if usd else None,
                                  renewal_flux=Decimal(flux) if flux else None,
                                  monthly_usd=Decimal(monthly) if monthly else None, **extra)


@pytest.fixture
def apps(personas):
    team = personas.team
    return [app(team, "soonapp", 3), app(team, "laterapp", 40, usd="2.25"), app(team, "nextmonth", 35),
            app(team, "noexpiry", None, usd=None, flux=None), app(team, "gone", 10, dropped=True),
            app(personas.other_team, "otherteam", 5)]


def test_it_groups_renewals_by_month(apps, personas):
    months = month_calendar(renewal_rows(personas.team))
    assert len(months) == 12
    by_app = {r["name"]: m["month"] for m in months for r in m["apps"]}
    assert set(by_app) == {"soonapp", "laterapp", "nextmonth"}
    assert by_app["laterapp"] == by_app["nextmonth"] or by_app["laterapp"] > by_app["nextmonth"]
    for m in months:
        assert m["usd"] == sum((r["renewal_usd"] for r in m["apps"]), Decimal(0))
    assert sum(m["usd"] for m in months) == Decimal("5.25")


def test_it_lists_apps_by_expiry_with_soon_ones_highlighted(apps, client_as):
    client = client_as("viewer")
    client.get(reverse("pricing:renewals"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("pricing:renewals"))
    app(apps[0].team, "more1", 60)
    app(apps[0].team, "more2", 90)
    with CaptureQueriesContext(connection) as more:
        response = client.get(reverse("pricing:renewals"))
    assert len(more) == len(few)  # constant number of queries
    body = response.content.decode()
    assert body.index("soonapp") < body.index("nextmonth") < body.index("laterapp") < body.index("noexpiry")
    assert '<tr class="warning"><td>soonapp</td>' in body
    assert "gone" not in body and "otherteam" not in body


def test_it_shows_the_team_cost(apps, personas, client_as):
    Node.objects.create(team=personas.team, name="n1", address="203.0.113.1:16127",
                        base_url="http://203.0.113.1:16127", monthly_cost=Decimal("12.50"))
    body = client_as("viewer").get(reverse("pricing:renewals")).content.decode()
    assert "<td>4.00 USD</td>" in body  # 4 live apps x 1.00 (the dropped one is not counted)
    assert "<td>12.50 USD</td>" in body
    assert "<strong>16.50 USD</strong>" in body
    body = client_as("viewer").get(reverse("pricing:estimator")).content.decode()
    assert "<strong>16.50 USD</strong>" in body


def test_it_exports_the_list_as_csv(apps, personas, client_as):
    app(personas.team, "=cmd|calc", 20, usd="1.00")
    response = client_as("viewer").get(reverse("pricing:renewals_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["name", "expiry date", "days left", "expiry height", "renewal USD", "renewal FLUX"]
    names = [r[0] for r in rows[1:]]
    assert names == ["soonapp", "'=cmd|calc", "nextmonth", "laterapp", "noexpiry"]
    soon = rows[1]
    assert soon[2] == "3" and soon[3] == "2300000" and soon[4] == "1.50" and soon[5] == "3.00"
    assert rows[-1][1:] == ["", "", "2300000", "", ""]


def test_it_neutralises_formula_cells():
    assert [neutralise(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "ok", None, 5)] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "ok", "", "5"]
