"""Wallet list and poll pages keep a flat number of queries as sessions and requests grow; and
the housekeeping that runs from beat."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry
from apps.nodes.models import Node
from apps.wallets.actions import housekeeping
from apps.wallets.models import AppOwnerAuthorisation, NodeSession, SigningRequest
from apps.wallets.node_sessions import VAULT_PURPOSE
from fluxpanel import vault
from tests.sim import keys
from tests.sim.wallet import link

pytestmark = pytest.mark.django_db


def grow(personas, start, count):
    sealed = vault.seal({"zelid": "z", "loginPhrase": "p", "signature": "s"}, purpose=VAULT_PURPOSE)
    for i in range(start, start + count):
        node = Node.objects.create(team=personas.team, name=f"n{i}", address=f"h{i}:16127",
                                   base_url=f"http://127.0.0.1:1/n/{i}")
        NodeSession.objects.create(team=personas.team, node=node, zelid=keys.OWNERS[i % 4].zelid,
                                   privilege="admin", sealed=sealed, created_by=personas.manager,
                                   expires_at=timezone.now() + timedelta(days=1 + i % 20))
        SigningRequest.objects.create(team=personas.team, kind="node_login", node=node,
                                      zelid=keys.OWNERS[0].zelid, zelid_key=keys.OWNERS[0].zelid,
                                      purpose="p", created_by=personas.operator, decided_by=personas.manager,
                                      expires_at=timezone.now() + timedelta(hours=5))
        AppOwnerAuthorisation.objects.create(team=personas.team, zelid=keys.OWNERS[i % 4].zelid + str(i),
                                             sealed=sealed, created_by=personas.operator,
                                             expires_at=timezone.now() + timedelta(hours=1))


def queries(client, method, url):
    getattr(client, method)(url)  # warm up (the session's team)
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url)
    assert response.status_code == 200
    return len(captured)


URLS = [("get", "wallets:sessions"), ("get", "wallets:requests"), ("get", "wallets:home"),
        ("get", "wallets:sign"), ("get", "wallets:nav_badge")]


def test_it_list_and_poll_query_counts_stay_flat(personas, client_as):
    link(personas.manager, keys.OWNERS[0])
    client = client_as("manager")
    grow(personas, 0, 3)
    request_pk = SigningRequest.objects.first().pk
    small = [queries(client, m, reverse(n)) for m, n in URLS]
    small_poll = queries(client, "post", reverse("wallets:request_poll", args=[request_pk]))
    grow(personas, 3, 60)
    large = [queries(client, m, reverse(n)) for m, n in URLS]
    large_poll = queries(client, "post", reverse("wallets:request_poll", args=[request_pk]))
    assert small == large
    assert small_poll == large_poll


def test_it_housekeeping_expires_requests_and_drops_lapsed_secrets(personas):
    grow(personas, 0, 2)
    SigningRequest.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    AppOwnerAuthorisation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    NodeSession.objects.filter(node__name="n0").update(expires_at=timezone.now() - timedelta(days=31))
    assert housekeeping() == {"expired_requests": 2, "authorisations": 2, "sessions": 1,
                              "challenges": 0}
    assert set(SigningRequest.objects.values_list("status", flat=True)) == {"expired"}
    assert AuditEntry.objects.filter(action="signing.expire").count() == 2
    assert list(NodeSession.objects.values_list("node__name", flat=True)) == ["n1"]


def test_it_tasks_are_registered():
    from fluxpanel.celery import app

    app.loader.import_default_modules()
    assert {"wallets.housekeeping", "wallets.warn_expiring"} <= set(app.tasks)
