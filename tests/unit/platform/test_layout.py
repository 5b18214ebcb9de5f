"""The project package is the frame the apps plug into: it imports none of them."""
import re
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[3]
IMPORTS_AN_APP = re.compile(r"^\s*(from|import)\s+apps(\.|\s|$)", re.M)


def test_it_keeps_app_imports_out_of_the_project_package():
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "fluxpanel").rglob("*.py")
                 if IMPORTS_AN_APP.search(path.read_text(encoding="utf-8"))]
    assert offenders == []


@pytest.mark.django_db
def test_it_seeds_the_demo_through_the_apps_commands(settings):
    """make demo's seeding lives in the apps: a team and its nodes, idempotent on a second run."""
    from apps.accounts.models import Membership
    from apps.nodes.models import Node

    settings.ALLOW_ANY_NODE_URL = True
    urls = ["http://127.0.0.1:18127/n0", "http://127.0.0.1:18127/n1"]
    for _ in range(2):
        call_command("seed_demo_fleet", *urls, user="demo", password="pw-demo-xyz", team="Demo")
    assert Membership.objects.get(user__username="demo", team__name="Demo").role == "manager"
    assert sorted(Node.objects.filter(team__name="Demo").values_list("base_url", flat=True)) == urls


def test_it_gives_every_page_the_panels_icon(client_as):
    from django.contrib.staticfiles import finders

    page = client_as("viewer").get("/", follow=True).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = finders.find("favicon.svg")
    assert icon and open(icon).read().startswith("<svg")
