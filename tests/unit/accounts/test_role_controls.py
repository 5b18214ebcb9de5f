"""Nothing a role cannot use (issue 12 item 5): on every main page, for every persona, each
control (a form that posts, an htmx write, a link) leads to a view the persona may use, or is
disabled. The role a control needs is read from the view it points at (`team_view(role)`), so a
new button on any page is checked without listing it here."""
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.deployments.models import TeamApp
from apps.jobs.models import Job
from apps.nodes.models import Node, NodeSnapshot
from apps.wallets.models import NodeSession
from apps.wallets.node_sessions import VAULT_PURPOSE
from apps.worldstate.models import Engine
from fluxpanel import vault

DEAD = "http://127.0.0.1:1"
ZELID = "1CbErtneaX2QVyUfwU7JGB7VzvPgrgc3uC"


def objects(personas):
    team = personas.team
    node = Node.objects.create(team=team, name="n1", address="127.0.0.1:1/n/0", base_url=DEAD + "/n/0")
    NodeSnapshot.objects.create(node=node, team=team, state="up")
    NodeSession.objects.create(
        team=team, node=node, zelid=ZELID, privilege="admin",
        sealed=vault.seal({"zelid": ZELID, "loginPhrase": "x", "signature": "y"}, purpose=VAULT_PURPOSE),
        expires_at=timezone.now() + timedelta(hours=2))
    app = TeamApp.objects.create(team=team, name="webapp", owner=ZELID,
                                 spec={"version": 8, "name": "webapp", "compose": []})
    engine = Engine.objects.create(team=team, name="main", base_url=DEAD, namespace="team-a",
                                   bridge_enabled=True)
    job = Job.objects.create(team=team, kind="check_connectivity", requested_by=personas.manager)
    return {"node": node.pk, "app": app.pk, "engine": engine.pk, "job": job.pk}


PAGES = [
    ("nodes:fleet", None), ("nodes:detail", "node"), ("nodes:settings", None),
    ("deployments:list", None), ("deployments:detail", "app"), ("deployments:settings", None),
    ("pricing:estimator", None), ("pricing:renewals", None),
    ("worldstate:engines", None), ("worldstate:engine", "engine"), ("worldstate:config", "engine"),
    ("worldstate:namespaces", "engine"), ("worldstate:connectors", "engine"),
    ("jobs:list", None), ("jobs:detail", "job"),
    ("accounts:team", None), ("accounts:audit", None),
    ("wallets:home", None), ("wallets:sessions", None), ("wallets:requests", None),
    ("wallets:bind", None),
]


class Controls(HTMLParser):
    """(kind, url, disabled) for every form, htmx request and link of a page."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for verb in ("hx-post", "hx-put", "hx-delete", "hx-patch"):
            if attrs.get(verb):
                self.found.append((verb, attrs[verb], "disabled" in attrs))
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._form = {"url": attrs.get("action") or "", "buttons": [], "disabled": False}
        elif tag == "fieldset" and self._form is not None and "disabled" in attrs:
            self._form["disabled"] = True
        elif tag in ("button", "input") and self._form is not None:
            if tag == "button" or (attrs.get("type") or "").lower() in ("submit", "image"):
                self._form["buttons"].append("disabled" in attrs)
        elif tag == "a" and attrs.get("href"):
            self.found.append(("link", attrs["href"], "aria-disabled" in attrs))

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            form = self._form
            disabled = form["disabled"] or (form["buttons"] and all(form["buttons"]))
            self.found.append(("form", form["url"], disabled))
            self._form = None


def needed_role(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    view = match.func
    while view is not None:
        if hasattr(view, "required_role"):
            return view.required_role
        view = getattr(view, "__wrapped__", None)
    return None


def unusable_controls(html: str, persona: str) -> list:
    parser = Controls()
    parser.feed(html)
    role = Role.MANAGER if persona == "outsider" else persona  # the outsider manages team B
    bad = []
    for kind, url, disabled in parser.found:
        needed = needed_role(url)
        if needed and not Role.at_least(role, needed) and not disabled:
            bad.append((kind, url, needed))
    return bad


@pytest.mark.parametrize("persona", ["manager", "operator", "viewer"])
@pytest.mark.parametrize("page", PAGES, ids=[p[0] for p in PAGES])
def test_it_shows_no_control_the_role_cannot_use(page, persona, personas, client_as, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    ids = objects(personas)
    name, key = page
    url = reverse(name, kwargs={"pk": ids[key]} if key else None)
    response = client_as(persona).get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert unusable_controls(response.content.decode(), persona) == []


def test_it_finds_a_control_above_the_role():
    """The checker itself: a viewer's page with the sweep button fails, a disabled one passes."""
    form = f'<form method="post" action="{reverse("nodes:sweep_now")}"><button type="submit">Sweep now</button></form>'
    assert unusable_controls(form, "viewer") == [("form", reverse("nodes:sweep_now"), Role.OPERATOR)]
    assert unusable_controls(form, "operator") == []
    assert unusable_controls(form.replace("<button", "<button disabled"), "viewer") == []
    link = f'<a href="{reverse("nodes:register")}">Register nodes</a>'
    assert unusable_controls(link, "operator") == [("link", reverse("nodes:register"), Role.MANAGER)]


def test_it_viewer_fleet_page_has_no_sweep_button(personas, client_as):
    objects(personas)
    html = client_as("viewer").get(reverse("nodes:fleet")).content.decode()
    assert "Sweep now" not in html
    assert "Sweep now" in client_as("operator").get(reverse("nodes:fleet")).content.decode()

