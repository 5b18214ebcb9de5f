"""No answer of a node or an engine makes the panel answer 5xx (issue 10, F9: malformed engine
answers, a node's non-numeric uptime or height).

Team A's node and engine point at a hostile peer (hostile_peer.py) that answers every request
with the example's garbage; each route of the apps that talk to peers is requested as a manager
with its own form filled plausibly. Causes are collected and reported like the request fuzz.
"""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings

from apps.nodes.models import Node
from apps.worldstate.models import Engine
from tests.fuzz import test_no_server_errors as request_fuzz
from tests.fuzz.hostile_peer import HostilePeer, answers, keys_the_clients_read
from tests.fuzz.sender import Requester
from tests.fuzz.values import Body, urlencoded

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

PEER_APPS = ("nodes:", "worldstate:", "wallets:")
ROUTES = [r for r in request_fuzz.ROUTES if r.name.startswith(PEER_APPS)]
KEYS = keys_the_clients_read()


@pytest.fixture(scope="module")
def peer():
    with HostilePeer() as server:
        yield server


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_it_never_answers_5xx_whatever_the_peer_says(route, world, peer):
    discovery = request_fuzz.discover(world)  # before the peer takes over: pages render fully
    found = discovery.found[route.name]
    Node.objects.filter(pk=world.pks["node"]).update(base_url=peer.url)
    Engine.objects.filter(pk=world.pks["engine"]).update(base_url=peer.url)
    shape = request_fuzz.shape_of(route, world, found)
    path = route.path({slot: request_fuzz.real_slot_values(route, slot, conv, world, found)[0]
                       for slot, conv in route.slots})
    query = urlencoded(shape.baseline)
    post = route.name in discovery.post_only

    with Requester(world, route) as requester:

        profile = hypothesis_settings.get_profile("fuzz")

        @hypothesis_settings(profile, max_examples=max(1, profile.max_examples * 6 // 10))
        @given(answer=answers(KEYS))
        def one_answer(answer):
            peer.answer = answer
            status, content_type, data = answer
            note = f" — while the peer answers {status} [{content_type}] {data[:200]!r}"
            if post:
                body = Body("form", "application/x-www-form-urlencoded", query.encode("ascii"))
                requester.send("manager", "POST", path, "", body, note=note)
            else:
                requester.send("manager", "GET", path, query, note=note)
                requester.send("manager", "GET", path, query, htmx=True, note=note)

        one_answer()
    if requester.failures:
        pytest.fail(requester.report(), pytrace=False)
