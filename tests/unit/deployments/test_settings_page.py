"""The Apps settings page: what each persona sees, and its writes through the views (PRG + message)."""
import pytest
from django.urls import reverse

from apps.accounts.audit import AuditEvent
from apps.accounts.models import AuditEntry
from apps.deployments.models import AppSync, AppSyncSettings, TeamApp, WatchedOwner
from apps.nodes.models import Node
from apps.wallets.models import WalletIdentity

EVM = "0x" + "ab" * 20
WIF = "KwFfpDsaF7yxCELuyrH9gP5XL7TAt5b9HPWC1xCQbmrxvhJgMQHb"


@pytest.fixture(autouse=True)
def no_eager_sync(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.ALLOW_ANY_NODE_URL = False


@pytest.fixture
def page_data(personas):
    WatchedOwner.objects.create(team=personas.team, address=EVM, label="treasury")
    WalletIdentity.objects.create(user=personas.operator, zelid="112D2adLM3UKy4Z4giRbReR6gjWuvHUqB",
                                  zelid_key="112D2adLM3UKy4Z4giRbReR6gjWuvHUqB", kind="btc")
    AppSync.objects.create(team=personas.team, status=AppSync.Status.FAILED, source="gateway https://g.example",
                           reason="timed out after 5 s", apps=3)


@pytest.mark.parametrize("persona", ["manager", "operator", "viewer"])
def test_it_renders_per_persona(persona, client_as, page_data):
    response = client_as(persona).get(reverse("deployments:settings"))
    assert response.status_code == 200
    body = response.content.decode()
    assert EVM in body and "treasury" in body
    assert "112D2adLM3UKy4Z4giRbReR6gjWuvHUqB" in body and "linked by operator" in body
    assert "timed out after 5 s" in body
    forms = [reverse(f"deployments:{n}") for n in ("owner_add", "app_add", "sources_set")]
    if persona == "manager":
        assert all(f in body for f in forms) and "Remove" in body
    else:
        assert not any(f in body for f in forms) and "Remove" not in body
    assert (reverse("deployments:sync_now") in body) == (persona != "viewer")


def test_it_adds_an_owner_and_redirects_with_a_message(client_as):
    client = client_as("manager")
    response = client.post(reverse("deployments:owner_add"), {"address": EVM, "label": "t"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("deployments:settings")
    assert "Now watching" in response.content.decode()
    assert WatchedOwner.objects.filter(address=EVM).exists()


def test_it_refuses_a_pasted_wif_in_the_form(client_as):
    response = client_as("manager").post(reverse("deployments:owner_add"), {"address": WIF}, follow=True)
    assert response.status_code in (200, 400)
    assert not WatchedOwner.objects.exists()
    assert WIF not in response.content.decode()


def test_it_says_what_is_not_a_zelid(client_as):
    response = client_as("manager").post(reverse("deployments:owner_add"), {"address": "nope"}, follow=True)
    assert "That is not a ZelID" in response.content.decode()
    assert not WatchedOwner.objects.exists()


def test_it_answers_404_for_another_teams_node(client_as, personas):
    theirs = Node.objects.create(team=personas.other_team, name="x", address="203.0.113.7:16127",
                                 base_url="http://203.0.113.7:16127")
    response = client_as("manager").post(reverse("deployments:sources_set"),
                                         {"source_node": str(theirs.pk), "interval_seconds": 300})
    assert response.status_code == 404
    assert not AppSyncSettings.objects.exists()


def test_it_refuses_a_private_gateway_with_a_message(client_as):
    response = client_as("manager").post(reverse("deployments:sources_set"),
                                         {"gateway_url": "http://192.168.1.1", "interval_seconds": 300}, follow=True)
    assert "may not call" in response.content.decode()
    assert not AppSyncSettings.objects.exists()


def test_it_saves_sources(client_as, personas):
    node = Node.objects.create(team=personas.team, name="n1", address="203.0.113.9:16127",
                               base_url="http://203.0.113.9:16127")
    response = client_as("manager").post(reverse("deployments:sources_set"),
                                         {"source_node": str(node.pk), "gateway_url": "", "interval_seconds": 900})
    assert response.status_code == 302
    config = AppSyncSettings.objects.get(team=personas.team)
    assert (config.source_node_id, config.interval_seconds) == (node.pk, 900)


def test_it_adds_drops_and_restores_an_app(client_as, personas):
    client = client_as("manager")
    response = client.post(reverse("deployments:app_add"), {"name": "web1"}, follow=True)
    assert "next sync checks" in response.content.decode()
    app = TeamApp.objects.get(team=personas.team, name_key="web1")
    assert client.post(reverse("deployments:app_drop", args=[app.pk])).status_code == 302
    assert TeamApp.objects.get(pk=app.pk).dropped
    assert client.post(reverse("deployments:app_restore", args=[app.pk])).status_code == 302
    assert not TeamApp.objects.get(pk=app.pk).dropped


def test_it_refuses_a_viewer_write_with_an_audit_row(client_as):
    response = client_as("viewer").post(reverse("deployments:app_add"), {"name": "web1"})
    assert response.status_code == 403
    assert not TeamApp.objects.exists()
    assert AuditEntry.objects.filter(action=AuditEvent.ACCESS_DENIED).count() == 1


def test_it_refuses_a_pasted_hex_key_in_the_form(client_as):
    key = "1f" * 32
    response = client_as("manager").post(reverse("deployments:owner_add"), {"address": key}, follow=True)
    assert response.status_code in (200, 400)
    assert not WatchedOwner.objects.exists()
    assert key not in response.content.decode()
