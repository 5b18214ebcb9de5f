"""Every GET view runs a pinned number of queries, the same for a small and a larger team.

The views come from the access matrix (every `get` Case of tests/unit/test_access_*.py, with the
objects that module makes), so a renamed or new URL is measured here without editing this file.
Each is requested as a page and as an htmx request (a page's fragment, or its poll), signed in as
the manager (who sees every section), once over a small team and once after the team has grown by
a few dozen rows of every kind; both counts must be equal and equal the pinned one in
tests/query_budgets.json. Regenerate that file after a deliberate change:

    FLUXPANEL_UPDATE_QUERY_BUDGETS=1 uv run pytest tests/unit/test_query_budgets.py tests/unit/nodes
"""
from __future__ import annotations

import importlib
import inspect
import pathlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import query_budget

PERSONA = "manager"
SMALL, GROWTH = 2, 60  # the fleet page shows 50 rows: the larger team spans more than one page
VARIANTS = {"page": {}, "htmx": {"HTTP_HX_REQUEST": "true"}}
DEAD_URL = "http://127.0.0.1:9"  # nothing listens: refused at once


def access_modules():
    folder = pathlib.Path(__file__).parent
    return [importlib.import_module(f"tests.unit.{path.stem}")
            for path in sorted(folder.glob("test_access_*.py"))]


def get_cases():
    """(case, objects function) for every GET view of the matrix, each URL name once."""
    found = {}
    for module in access_modules():
        for case in module.CASES:
            if case.method == "get" and case.name not in found:
                found[case.name] = (case, module.objects)
    return [found[name] for name in sorted(found)]


CASES = get_cases()


def grow(personas, count: int, start: int) -> None:
    """Add `count` rows of every kind a team page lists, in bulk (their own queries don't count)."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import AuditEntry, Invitation, Membership, Role
    from apps.deployments.models import AppInstance, AppStateChange, AppSync, TeamApp, WatchedOwner
    from apps.jobs.models import Job, JobLine
    from apps.nodes.models import AlertRule, Node, NodeGroup, NodeSnapshot, StatusChange
    from apps.wallets.models import AppOwnerAuthorisation, NodeSession, SigningRequest
    from apps.worldstate.models import Engine
    from fluxpanel import vault

    team, now = personas.team, timezone.now()
    later = now + timedelta(days=3)
    numbers = range(start, start + count)
    sealed = vault.seal({"zelid": "1bulk", "loginPhrase": "x", "signature": "y"}, purpose="wallets.sessions")
    groups = NodeGroup.objects.bulk_create(NodeGroup(team=team, name=f"group-{i}") for i in numbers)
    nodes = Node.objects.bulk_create(
        Node(team=team, name=f"bulk-{i:04d}", address=f"127.0.0.1:1/bulk/{i}", base_url=DEAD_URL,
             group=groups[k % len(groups)]) for k, i in enumerate(numbers))
    NodeSnapshot.objects.bulk_create(
        NodeSnapshot(node=node, team=team, state="confirmed" if k % 4 else "down", version="8.17.0",
                     height=2_000_000, height_lag=k % 3, maintenance_blocks=300, checked_at=now,
                     last_seen=now) for k, node in enumerate(nodes))
    StatusChange.objects.bulk_create(
        StatusChange(node=node, team=team, old_state="unknown", new_state="confirmed",
                     at=now - timedelta(hours=1)) for node in nodes)
    AlertRule.objects.bulk_create(AlertRule(team=team, kind="node_down", email=f"ops{i}@example.com")
                                  for i in numbers)
    NodeSession.objects.bulk_create(
        NodeSession(team=team, node=node, zelid=f"1bulk{i}", privilege="admin", sealed=sealed,
                    expires_at=later) for i, node in zip(numbers, nodes, strict=True))
    AppOwnerAuthorisation.objects.bulk_create(
        AppOwnerAuthorisation(team=team, zelid=f"1owner{i}", sealed=sealed, expires_at=later)
        for i in numbers)
    SigningRequest.objects.bulk_create(
        SigningRequest(team=team, kind="app_owner", zelid=f"1signer{i}", zelid_key=f"1signer{i}",
                       purpose="budget", created_by=personas.operator, expires_at=later,
                       token=f"budget-{i}") for i in numbers)
    jobs = Job.objects.bulk_create(Job(team=team, kind="check_connectivity", requested_by=personas.operator)
                                   for _ in numbers)
    JobLine.objects.bulk_create(JobLine(job=job, seq=seq, text=f"line {seq}")
                                for job in jobs[:3] for seq in range(1, count + 1))
    AuditEntry.objects.bulk_create(
        AuditEntry(team=team, actor=personas.manager, actor_name="manager", action="nodes.edit",
                   target_repr=f"bulk-{i}") for i in numbers)
    Invitation.objects.bulk_create(Invitation(team=team, role=Role.VIEWER, token_digest=f"budget-{i}",
                                                         token_sealed=vault.encrypt(f"budget-{i}", purpose="invitation"))
                                   for i in numbers)
    users = get_user_model().objects.bulk_create(get_user_model()(username=f"member-{i}") for i in numbers)
    Membership.objects.bulk_create(Membership(team=team, user=user, role=Role.VIEWER) for user in users)
    Engine.objects.bulk_create(Engine(team=team, name=f"engine-{i}", base_url=DEAD_URL) for i in numbers)
    apps = TeamApp.objects.bulk_create(
        TeamApp(team=team, name=f"bulk-app-{i}", name_key=f"bulk-app-{i}", owner=f"1owner{i}",
                status="healthy" if i % 3 else "degraded", instances_wanted=3, instances_running=3 - i % 2,
                expires_at=later + timedelta(days=i), monthly_usd=i, renewal_usd=i * 3, renewal_flux=i * 5)
        for i in numbers)
    AppInstance.objects.bulk_create(
        AppInstance(app=app, team=team, location=f"203.0.113.{k % 250}:{16127 + 10 * (k % 3)}", node=node)
        for k, (app, node) in enumerate(zip(apps, nodes, strict=True)))
    AppStateChange.objects.bulk_create(
        AppStateChange(app=app, team=team, old_status="unknown", new_status="healthy", at=now) for app in apps)
    AppSync.objects.bulk_create(AppSync(team=team, status="done", finished_at=now) for _ in numbers)
    WatchedOwner.objects.bulk_create(WatchedOwner(team=team, address=f"1watched{i}") for i in numbers)


def measure(client, case, url: str, headers: dict) -> tuple[int, list]:
    client.get(url, case.data or {}, **headers)  # warm up: the first request stores the team
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, case.data or {}, **headers)
    assert response.status_code in case.ok_statuses, (url, response.status_code)
    return len(captured), captured.captured_queries


def call_objects(objects, request):
    """Call the matrix module's objects(...) with the fixtures its parameters name."""
    names = inspect.signature(objects).parameters
    return objects(*(request.getfixturevalue(name) for name in names))


@pytest.mark.parametrize(("case", "objects"), CASES, ids=[case.name for case, _ in CASES])
def test_it_runs_the_pinned_queries_whatever_the_team_size(case, objects, personas, client_as, request):
    made = call_objects(objects, request)
    url = reverse(case.name, kwargs=case.kwargs(made) if case.kwargs else {})
    client = client_as(PERSONA)
    grow(personas, SMALL, start=0)
    small = {variant: measure(client, case, url, headers) for variant, headers in VARIANTS.items()}
    grow(personas, GROWTH, start=SMALL)
    for variant, headers in VARIANTS.items():
        count, queries = measure(client, case, url, headers)
        assert count == small[variant][0], (
            f"{case.name} ({variant}) ran {small[variant][0]} queries for a small team and {count} "
            "after it grew: a query per row?\n" + "\n".join(q["sql"] for q in queries))
        query_budget.check_count(f"{case.name} {variant}", count, queries)


def test_it_keeps_no_budget_for_a_url_that_is_gone():
    names = {case.name for case, _ in CASES}
    stale = sorted(key for key in query_budget.pinned_budgets() if key.split(" ")[0] not in names)
    if query_budget.updating():
        query_budget.forget(stale)
        return
    assert stale == [], f"budgets of URLs that are no longer GET views of the access matrix: {stale}"


def test_it_measures_every_get_view_of_the_matrix():
    """The enumeration itself: the fleet page and every other GET case are in the list."""
    names = {case.name for case, _ in CASES}
    assert {"nodes:fleet", "jobs:list", "accounts:audit", "wallets:requests"} <= names
    every_get = {case.name for module in access_modules() for case in module.CASES if case.method == "get"}
    assert names == every_get
