"""Node sessions end to end against the simulated fleet over real HTTP: log in on one node or on
every node a ZelID owns, use the sessions without seeing them, renew them all, log out on the node;
and proof that no session signature is ever kept in clear text, logged, or shown."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import AuditEntry, Membership
from apps.nodes.models import Node
from apps.wallets import node_sessions as sessions
from apps.wallets.actions import warn_expiring_sessions
from apps.wallets.models import NodeSession, SigningRequest
from fluxpanel.fluxos.client import NodeClient
from fluxpanel.fluxos.identity import parse_zelidauth
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.wallet import item_fields, link

pytestmark = pytest.mark.django_db
NODES = 8


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=NODES, seed=11) as fleet:
        yield fleet


@pytest.fixture
def fleet(sim):
    yield sim
    for index in range(NODES):
        sim.clear(index)


@pytest.fixture
def nodes(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True  # the simulated fleet listens on loopback
    return [Node.objects.create(team=personas.team, name=f"node-{i}", address=f"sim:{i}",
                                base_url=fleet.url(i)) for i in range(NODES)]


def owner_of(fleet, index: int) -> keys.TestKey:
    return keys.key_for_zelid(fleet.node(index).id.owner)


def privilege(fleet, index, triple) -> str:
    return NodeClient(fleet.url(index), allow_private=True).check_privilege(triple["zelid"], triple["signature"],
                                                        triple["loginPhrase"])


def membership(personas, name):
    return Membership.objects.get(user=personas.users[name])


def sign_queue(client, next_url, key, signatures=None):
    """Sign everything the queue hands out, like the browser component does; returns the items."""
    items = []
    while True:
        data = client.post(next_url).json()
        if data["done"]:
            return items, data["html"]
        item = item_fields(data["html"])
        signature = key.sign(item["message"])
        if signatures is not None:
            signatures.append(signature)
        answer = client.post(item["submit-url"], {"address": key.zelid, "message": item["message"],
                                                  "signature": signature, "via": "ssp"})
        item["answer"] = answer.json()
        items.append(item)


def log_in(client_as, personas, node, key, signatures=None):
    link(personas.manager, key)
    manager = client_as("manager")
    response = manager.post(reverse("wallets:prepare_login"), {"zelid": key.zelid, "node": node.pk})
    assert response.status_code == 302 and "/wallet/sign/?batch=" in response["Location"]
    items, _ = sign_queue(manager, reverse("wallets:sign_next"), key, signatures)
    assert [i["answer"]["ok"] for i in items] == [True], items
    return manager


def test_it_prepared_by_an_operator_signed_by_the_key_holder_used_by_operators(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    operator = client_as("operator")
    response = operator.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid, "node": nodes[0].pk})
    assert response.status_code == 302 and response["Location"] == reverse("wallets:requests")
    assert SigningRequest.objects.get().status == "pending"

    link(personas.manager, owner)
    manager = Client()
    manager.force_login(personas.manager)
    items, _ = sign_queue(manager, reverse("wallets:sign_next"), owner)
    assert len(items) == 1 and items[0]["answer"]["ok"], items
    phrase = items[0]["message"]
    assert phrase[:13].isdigit() and fleet.call(lambda: phrase not in fleet.fleet.node(0).auth.phrases)
    assert "Logged in on node-0 as admin" in items[0]["answer"]["message"]

    session = NodeSession.objects.get()
    assert (session.node, session.zelid, session.privilege) == (nodes[0], owner.zelid, "admin")
    assert timedelta(days=13, hours=23) < session.expires_at - timezone.now() <= timedelta(days=14)

    # An operator uses it through the panel without ever seeing it.
    header = sessions.zelidauth_for(nodes[0], membership(personas, "operator"))
    triple = parse_zelidauth(header)
    assert triple["loginPhrase"] == phrase
    assert privilege(fleet, 0, triple) == "admin"
    assert NodeClient(fleet.url(0), zelidauth=header, allow_private=True).logged_sessions()[0]["loginPhrase"] == phrase
    with pytest.raises(PermissionDenied):
        sessions.zelidauth_for(nodes[0], membership(personas, "viewer"))
    # A read-only call (logs a viewer may see) uses it for the viewer, on the server only.
    assert sessions.zelidauth_for(nodes[0], membership(personas, "viewer"), read_only=True) == header
    with pytest.raises(PermissionDenied):
        sessions.zelidauth_for(nodes[0], membership(personas, "outsider"))
    with pytest.raises(PermissionDenied):
        sessions.zelidauth_for(nodes[0], membership(personas, "outsider"), read_only=True)
    assert sessions.zelidauth_for(nodes[1], membership(personas, "operator")) is None


def test_it_every_node_a_zelid_owns_signed_one_after_another(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    owned = {f"node-{i}" for i in range(NODES) if fleet.node(i).id.owner == owner.zelid}
    assert 1 < len(owned) < NODES
    link(personas.manager, owner)
    manager = client_as("manager")
    response = manager.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid, "node": ""})
    assert response.status_code == 302
    next_url = reverse("wallets:sign_next") + response["Location"].split("/wallet/sign/")[1]
    items, done = sign_queue(manager, next_url, owner)
    assert [i["progress"] for i in items] == [f"{n} of {len(owned)}" for n in range(1, len(owned) + 1)]
    assert all(i["answer"]["ok"] for i in items)
    assert set(NodeSession.objects.values_list("node__name", flat=True)) == owned
    assert set(NodeSession.objects.values_list("privilege", flat=True)) == {"admin"}
    assert f"{len(owned)} signed" in done


def test_it_a_node_that_gives_no_phrase_fails_and_the_queue_goes_on(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    owned = [i for i in range(NODES) if fleet.node(i).id.owner == owner.zelid]
    link(personas.manager, owner)
    manager = client_as("manager")
    response = manager.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid})
    fleet.inject(owned[0], "down")
    fleet.inject(owned[1], "dos")  # refuses /id/loginphrase: the emergency phrase still works
    next_url = reverse("wallets:sign_next") + response["Location"].split("/wallet/sign/")[1]
    items, done = sign_queue(manager, next_url, owner)
    assert len(items) == len(owned) - 1 and all(i["answer"]["ok"] for i in items)
    failed = SigningRequest.objects.get(status="failed")
    assert failed.node.name == f"node-{owned[0]}" and "gave no login phrase" in failed.outcome
    assert "1 failed" in done


def test_it_node_refusing_the_login_fails_the_request_with_its_reason(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    link(personas.manager, owner)
    manager = client_as("manager")
    manager.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid, "node": nodes[0].pk})
    item = item_fields(manager.post(reverse("wallets:sign_next")).json()["html"])
    fleet.call(lambda: fleet.fleet.node(0).auth.phrases.clear())  # the node forgot the phrase
    answer = manager.post(item["submit-url"], {"address": owner.zelid, "message": item["message"],
                                               "signature": owner.sign(item["message"])})
    assert answer.status_code == 502
    assert answer.json()["code"] == "failed" and answer.json()["next"] is True
    assert "node-0 refused the login: Signed message is no longer valid" in answer.json()["error"]
    assert not NodeSession.objects.exists()
    assert SigningRequest.objects.get().status == "failed"


def test_it_zelcore_callback_logs_in_once(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    link(personas.manager, owner)
    manager = client_as("manager")
    manager.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid, "node": nodes[0].pk})
    item = item_fields(manager.post(reverse("wallets:sign_next")).json()["html"])
    request = SigningRequest.objects.get()
    callback = reverse("wallets:request_callback", args=[request.token])
    assert "callback=" + quote("http://testserver" + callback, safe="") in item["zel-uri"]
    zelcore = Client(enforce_csrf_checks=True)
    body = {"address": owner.zelid, "message": item["message"], "signature": owner.sign(item["message"])}
    assert zelcore.post(callback, body).status_code == 200
    assert manager.post(item["poll-url"]).json()["status"] == "done"
    assert NodeSession.objects.get().privilege == "admin"
    stored = NodeSession.objects.get().sealed
    replay = zelcore.post(callback, body)
    assert replay.status_code == 409
    assert NodeSession.objects.get().sealed == stored


def test_it_logout_revokes_on_the_node_too(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    manager = log_in(client_as, personas, nodes[0], owner)
    triple = parse_zelidauth(sessions.zelidauth_for(nodes[0], membership(personas, "manager")))
    session = NodeSession.objects.get()
    response = manager.post(reverse("wallets:session_logout", args=[session.pk]), follow=True)
    assert "was ended on the node" in response.content.decode()
    assert not NodeSession.objects.exists()
    assert fleet.call(lambda: (owner.zelid, triple["loginPhrase"]) not in fleet.fleet.node(0).auth.sessions)
    assert privilege(fleet, 0, triple) != "admin"
    entry = AuditEntry.objects.get(action="node_session.logout")
    assert entry.detail["on_node"] == "was ended on the node"


def test_it_logout_forgets_the_session_even_when_the_node_is_down(personas, nodes, fleet, client_as):
    manager = log_in(client_as, personas, nodes[0], owner_of(fleet, 0))
    fleet.inject(0, "down")
    session = NodeSession.objects.get()
    response = manager.post(reverse("wallets:session_logout", args=[session.pk]), follow=True)
    assert "could not be ended on the node" in response.content.decode()
    assert not NodeSession.objects.exists()


def test_it_banner_three_days_before_and_renew_all(personas, nodes, fleet, client_as):
    owner = owner_of(fleet, 0)
    manager = log_in(client_as, personas, nodes[0], owner)
    old = parse_zelidauth(sessions.zelidauth_for(nodes[0], membership(personas, "manager")))
    NodeSession.objects.update(expires_at=timezone.now() + timedelta(days=4))
    assert 'data-role="expiry-banner"' not in manager.get(reverse("wallets:sessions")).content.decode()
    NodeSession.objects.update(expires_at=timezone.now() + timedelta(days=2, hours=23))
    page = manager.get(reverse("wallets:sessions")).content.decode()
    assert 'data-role="expiry-banner"' in page and "1 node session ends within three days" in page
    assert 'data-role="wallet-badge"' in manager.get(reverse("wallets:nav_badge")).content.decode()

    response = manager.post(reverse("wallets:renew_all"))
    assert "/wallet/sign/?batch=" in response["Location"]
    next_url = reverse("wallets:sign_next") + response["Location"].split("/wallet/sign/")[1]
    items, _ = sign_queue(manager, next_url, owner)
    assert [i["answer"]["ok"] for i in items] == [True]
    session = NodeSession.objects.get()
    assert session.expires_at - timezone.now() > timedelta(days=13)
    assert 'data-role="expiry-banner"' not in manager.get(reverse("wallets:sessions")).content.decode()
    # Only the new session stays valid on the node.
    assert fleet.call(lambda: (owner.zelid, old["loginPhrase"]) not in fleet.fleet.node(0).auth.sessions)


def test_it_key_holders_are_mailed_once_before_sessions_end(personas, nodes, fleet, client_as,
                                                          django_capture_on_commit_callbacks):
    personas.manager.email = "keys@example.com"
    personas.manager.save()
    log_in(client_as, personas, nodes[0], owner_of(fleet, 0))
    NodeSession.objects.update(expires_at=timezone.now() + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):  # mail goes out once the rows commit
        assert warn_expiring_sessions() == 1
        assert warn_expiring_sessions() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["keys@example.com"]
    assert "node-0" in mail.outbox[0].body and "Renew all" in mail.outbox[0].body


def test_it_second_team_cannot_see_or_use_the_first_teams_sessions(personas, nodes, fleet, client_as):
    log_in(client_as, personas, nodes[0], owner_of(fleet, 0))
    session = NodeSession.objects.get()
    outsider = client_as("outsider")
    assert outsider.get(reverse("nodes:detail", args=[nodes[0].pk])).status_code == 404
    assert outsider.post(reverse("wallets:session_logout", args=[session.pk])).status_code == 404
    assert nodes[0].name not in outsider.get(reverse("wallets:sessions")).content.decode()
    assert NodeSession.objects.filter(pk=session.pk).exists()


def _all_database_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_it_session_signatures_are_never_in_the_database_the_logs_or_the_html(
        personas, nodes, fleet, client_as, caplog):
    caplog.set_level("DEBUG")
    owner = owner_of(fleet, 0)
    signatures: list[str] = []
    manager = log_in(client_as, personas, nodes[0], owner, signatures)
    # The app-owner authorisation is a bearer secret too.
    operator = Client()  # client_as would sign the manager's client in as someone else
    operator.force_login(personas.operator)
    assert operator.post(reverse("wallets:app_owner"), {"zelid": owner.zelid}).status_code == 302
    items, _ = sign_queue(manager, reverse("wallets:sign_next"), owner, signatures)
    assert [i["answer"]["ok"] for i in items] == [True]
    sessions.zelidauth_for(nodes[0], membership(personas, "operator"))
    assert len(signatures) == 2

    pages = [manager.get(url).content.decode() for url in (
        reverse("wallets:home"), reverse("wallets:sessions"), reverse("wallets:requests"),
        reverse("wallets:sign"),
        reverse("accounts:audit"), reverse("nodes:detail", args=[nodes[0].pk]),
        *(reverse("wallets:request_detail", args=[pk]) for pk in
          SigningRequest.objects.values_list("pk", flat=True)),
    )]
    database = _all_database_text()
    logs = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    for signature in signatures:
        for form in {signature, quote(signature, safe=""), signature.replace("+", " ")}:
            assert form not in database, "a signature is stored in clear text"
            assert form not in logs, "a signature was logged"
            for page in pages:
                assert form not in page, "a page shows a signature"
    assert NodeSession.objects.get().sealed.startswith("gAAAAA")  # a Fernet token
