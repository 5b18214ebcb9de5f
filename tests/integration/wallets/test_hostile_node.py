"""A hostile node against the node-login handoff (issue 10, F1), over real HTTP: it cannot get the
panel's own sign-in challenge (nor any text not of FluxOS's phrase shape) signed, and nothing it
answers after the signature was sent turns into a server error."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from apps.accounts.models import AuditEntry
from apps.nodes.models import Node
from apps.wallets.models import NodeSession, SigningRequest
from tests.sim import keys
from tests.sim.fluxnode import SimFleet
from tests.sim.fluxnode_auth import fluxos_phrase
from tests.sim.wallet import item_fields, link

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sim():
    with SimFleet(nodes=2, seed=5) as fleet:
        yield fleet


@pytest.fixture
def fleet(sim):
    yield sim
    for index in range(2):
        sim.call(lambda i=index: sim.fleet.node(i).auth.clear_hostile())


@pytest.fixture
def node(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True  # the simulated fleet listens on loopback
    return Node.objects.create(team=personas.team, name="hostile", address="sim:0",
                               base_url=fleet.url(0))


def hostile(fleet, **behaviour):
    fleet.call(lambda: fleet.fleet.node(0).auth.make_hostile(**behaviour))


def captured(fleet) -> list[dict]:
    return fleet.call(lambda: list(fleet.fleet.node(0).auth.captured))


def key_holder(personas, node, fleet):
    """The manager (a superuser here: the worst case) holds the node owner's key and has a login
    request for the node waiting."""
    owner = keys.key_for_zelid(fleet.node(0).id.owner)
    personas.manager.is_superuser = personas.manager.is_staff = True
    personas.manager.save()
    link(personas.manager, owner)
    manager = Client()
    manager.force_login(personas.manager)
    response = manager.post(reverse("wallets:prepare_login"), {"zelid": owner.zelid, "node": node.pk})
    assert response.status_code == 302
    return manager, owner


def test_it_a_node_cannot_have_the_panels_signin_challenge_signed(personas, node, fleet):
    attacker = Client()
    challenge = item_fields(attacker.post(reverse("wallets:signin_next")).json()["html"])
    hostile(fleet, phrase=challenge["message"])
    manager, owner = key_holder(personas, node, fleet)

    answer = manager.post(reverse("wallets:sign_next")).json()
    if not answer["done"]:
        # What the old code did: the key holder, believing it is the node's login, signs it.
        item = item_fields(answer["html"])
        manager.post(item["submit-url"], {"address": owner.zelid, "message": item["message"],
                                          "signature": owner.sign(item["message"]), "via": "ssp"})
    # Whatever reached the node, the attacker replays at the panel's sign-in.
    for body in captured(fleet):
        attacker.post(challenge["submit-url"], {"address": body.get("zelid", ""),
                                                "message": challenge["message"],
                                                "signature": body.get("signature", ""),
                                                "via": "paste"})
    assert "_auth_user_id" not in attacker.session, "the hostile node signed the attacker in"
    assert answer["done"] is True and captured(fleet) == []
    request = SigningRequest.objects.get()
    assert request.status == "failed"
    assert "refuses to show for signing" in request.outcome
    assert "not shaped like a FluxOS login phrase" in request.outcome


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@pytest.mark.parametrize("make_phrase", [
    lambda now: fluxos_phrase(_ms(now - timedelta(minutes=20))),  # older than a phrase lives
    lambda now: fluxos_phrase(_ms(now + timedelta(minutes=10))),  # from the future
    lambda now: fluxos_phrase(_ms(now)).upper(),  # FluxOS's base36 is lowercase
    lambda now: fluxos_phrase(_ms(now))[:13] + "a" * 60,  # longer than FluxOS makes (73)
    lambda now: fluxos_phrase(_ms(now))[:13] + "abc",  # shorter than verifyLogin takes
    lambda now: fluxos_phrase(_ms(now))[:30] + " send 100 FLUX to me",
    lambda now: "١٧٠٠٠٠٠٠٠٠٠٠٠" + "a" * 40,  # digits, but not ASCII ones
    lambda now: ["1700000000000" + "a" * 40],
], ids=["stale", "future", "uppercase", "too-long", "too-short", "spaces", "arabic-digits", "list"])
def test_it_only_a_fresh_phrase_of_fluxos_shape_is_shown(personas, node, fleet, make_phrase):
    hostile(fleet, phrase=make_phrase(datetime.now(tz=UTC)))
    manager, _ = key_holder(personas, node, fleet)
    answer = manager.post(reverse("wallets:sign_next"))
    assert answer.status_code == 200 and answer.json()["done"] is True
    request = SigningRequest.objects.get()
    assert request.status == "failed" and not request.message
    assert AuditEntry.objects.filter(action="signing.fail", outcome="failure").count() == 1


@pytest.mark.parametrize("expire_at", [
    "tomorrow", 10**30, -5, "NaN", "1999-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", None, [1], {"$date": 1}, "2030-01-01T00:00:00+99:00", "x" * 5000,
])
def test_it_a_bad_expire_at_after_the_signature_is_no_server_error(personas, node, fleet, expire_at):
    phrase = fluxos_phrase(int(time.time() * 1000) - 1000)
    hostile(fleet, phrase=phrase, login={"expireAt": expire_at, "privilage": "x" * 300})
    manager, owner = key_holder(personas, node, fleet)
    item = item_fields(manager.post(reverse("wallets:sign_next")).json()["html"])
    assert item["message"] == phrase
    response = manager.post(item["submit-url"], {"address": owner.zelid, "message": phrase,
                                                 "signature": owner.sign(phrase), "via": "ssp"})
    assert response.status_code == 200 and response.json()["ok"], response.content
    session = NodeSession.objects.get()
    issued = datetime.fromtimestamp(int(phrase[:13]) / 1000, tz=UTC)
    assert session.expires_at == issued + timedelta(days=14)  # FluxOS's own rule
    assert session.privilege == "user"  # an unknown privilege is not believed


def test_it_a_plausible_expire_at_from_the_node_is_kept(personas, node, fleet):
    soon = (datetime.now(tz=UTC) + timedelta(days=3)).replace(microsecond=0)
    phrase = fluxos_phrase(int(time.time() * 1000) - 1000)
    hostile(fleet, phrase=phrase, login={"expireAt": soon.isoformat().replace("+00:00", "Z")})
    manager, owner = key_holder(personas, node, fleet)
    item = item_fields(manager.post(reverse("wallets:sign_next")).json()["html"])
    response = manager.post(item["submit-url"], {"address": owner.zelid, "message": phrase,
                                                 "signature": owner.sign(phrase), "via": "ssp"})
    assert response.json()["ok"]
    assert NodeSession.objects.get().expires_at == soon
