"""No request makes the panel answer 5xx (issue 10, F9).

Every URL pattern (from the resolver) is one test. Its path slots get the ids of real team-A
objects (conftest.World) and hostile ones (0, 10**30, 2**63, ²); its parameters are every name
the pages' forms and links, the views' source and the form classes mention (surface.py). Each
route gets a deterministic sweep (hostile ids; each hostile value in every field at once and the
number-shaped ones field by field; broken bodies: nested or surrogate JSON, wrong multipart
boundaries, invalid UTF-8) and then a seeded hypothesis run mixing personas (anonymous, viewer,
manager), methods, htmx, query strings and body encodings.

Every 5xx is recorded with the exception behind it (the `got_request_exception` signal); a
route's distinct causes are reported together at the end so one run lists them all. Run alone
with `uv run pytest -m fuzz`; FUZZ_EXAMPLES=300 fuzzes deeper; FUZZ_REPORT=path appends every
cause there as a JSON line.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.fuzz import surface
from tests.fuzz.sender import PERSONAS, Requester
from tests.fuzz.values import (
    ALL_FIELDS_VALUES,
    COMMON_BODIES,
    PER_FIELD_VALUES,
    SPECIAL_BODIES,
    Body,
    bodies,
    hostile_values,
    urlencoded,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

ROUTES = surface.routes()
HOSTILE_IDS = ["0", str(10**30), str(2**63), quote("²")]
HOSTILE_STRS = ["%ED%A0%80", "x" * 2000, "%00", quote("²")]
GENERIC_NAMES = {"next", "page"}
INT_CONVERTERS = {"int", "id"}

# Which team-A object a route's `pk` means, by words in the URL name (first match wins); a route
# matching none gets every object's id to choose from.
PK_OBJECTS = [("invitation", "invitation"), ("member", "membership"), ("role", "membership"),
              ("alert", "rule"), ("group", "group"), ("identity", "identity"),
              ("node_sessions", "node"), ("session", "session"), ("authorisation", "authorisation"),
              ("wallets:request", "request"), ("jobs:", "job"), ("nodes:", "node"),
              ("worldstate:", "engine")]
TOKEN_OBJECTS = [("invitation", "invitation"), ("challenge", "challenge"), ("request", "request")]


def real_slot_values(route, slot: str, converter: str, world, found) -> list[str]:
    if converter in INT_CONVERTERS:
        for word, key in PK_OBJECTS:
            if word in route.name:
                return [str(world.pks[key])]
        return sorted({str(pk) for pk in world.pks.values()})
    values = set(found.slot_values.get(slot, ()))
    if slot == "token":
        values |= {world.tokens[key] for word, key in TOKEN_OBJECTS if word in route.name}
    return sorted(quote(v, safe="") for v in values) or ["x"]


def realish_values(world) -> dict[str, list[str]]:
    """Plausible values by field name, so one hostile field is not hidden behind another's error."""
    return {
        # A pasted list whose long names only differ after the column's 100 characters.
        "nodes": ["http://127.0.0.1:1/n/1 " + "a" * 120 + "1\nhttp://127.0.0.1:1/n/2 " + "a" * 120 + "2",
                  "127.0.0.1:1", "http://127.0.0.1:1/n/1\nhttp://127.0.0.1:1/n/2"],
        "zelid": [world.zelid], "owner": [world.zelid], "address": [world.zelid],
        "entity_id": ["team-a/x"], "id": ["team-a/x"], "entity_ids": ["team-a/x"],
        "prefix": ["team-a/"], "properties": ['{"status": "new"}'],
        "events": ['[{"entity_id": "team-a/z", "properties": {"n": 1}}]'],
        "base_url": ["http://127.0.0.1:9"], "source": ["http://127.0.0.1:1/n/0"],
        "team": [str(world.pks["team"]), str(world.pks["other_team"])],
        "request": [str(world.pks["request"])], "group": [str(world.pks["group"])],
        "signature": ["H" + "A" * 87], "message": ["1700000000000fuzz"], "next": ["/fleet/"],
        "email": ["ops@example.com"], "name": ["fuzz"], "minutes": ["30"], "seconds": ["120"],
    }


# ----------------------------------------------------------------------------- discovery


@dataclass
class Discovery:
    found: dict[str, surface.Found]
    post_only: set[str]  # routes whose GET answers 405
    public: set[str]  # routes an anonymous visitor reaches without being sent to sign in


_DISCOVERY: Discovery | None = None


def discover(world) -> Discovery:
    """Render every page (anonymous, then as manager) once per process and read its forms and
    links. Only names and non-id values are kept: ids come from each test's own world."""
    global _DISCOVERY
    if _DISCOVERY is not None:
        return _DISCOVERY
    found: dict[str, surface.Found] = defaultdict(surface.Found)
    post_only, public = set(), set()
    for persona in ("anonymous", "manager"):
        client = Client(raise_request_exception=False)
        if persona == "manager":
            client.force_login(world.users["manager"])
        for route in ROUTES:
            path = route.path({slot: real_slot_values(route, slot, conv, world, surface.Found())[0]
                               for slot, conv in route.slots})
            with transaction.atomic():
                response = client.get(path)
                transaction.set_rollback(True)
            if response.status_code == 405:
                post_only.add(route.name)
            if persona == "anonymous" and "/login/" not in response.get("Location", ""):
                public.add(route.name)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                surface.read_page(response.content.decode("utf-8", "replace"), path, found)
    _DISCOVERY = Discovery(found, post_only, public)
    return _DISCOVERY


@dataclass
class Shape:
    own: list[str]  # names this view reads or shows: swept one by one
    names: list[str]  # every name worth trying (the whole app's)
    baseline: list[tuple[str, str]]  # the own names filled with plausible values
    plausible: dict[str, list[str]]


def shape_of(route, world, found: surface.Found) -> Shape:
    in_view = surface.view_names(route)
    from_forms = surface.form_fields(route.app_dir) if route.module.startswith("apps.") else {}
    realish = realish_values(world)
    own = (set(found.fields) | set(in_view)) - {"csrfmiddlewaretoken"}
    names = own | surface.source_names(route.app_dir) | set(from_forms) | GENERIC_NAMES
    plausible = {}
    for name in names:
        # Most convincing first: our own realistic values, the page's, then the form field's.
        values = [*realish.get(name, ()), *sorted(found.fields.get(name, ())),
                  *in_view.get(name, ()), *from_forms.get(name, ())]
        plausible[name] = list(dict.fromkeys(v for v in values if len(v) < 1000))
    baseline = [(name, plausible[name][0] if plausible[name] else "1") for name in sorted(own)]
    for name in names:
        plausible[name] = [v for v in plausible[name] if v]
    return Shape(sorted(own), sorted(names), baseline, plausible)


# ----------------------------------------------------------------------------- the test


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_it_never_answers_5xx(route, world):
    discovery = discover(world)
    found = discovery.found[route.name]
    shape = shape_of(route, world, found)
    real = {slot: real_slot_values(route, slot, conv, world, found) for slot, conv in route.slots}
    hostile = {slot: HOSTILE_IDS if conv in INT_CONVERTERS else HOSTILE_STRS
               for slot, conv in route.slots}
    real_path = route.path({slot: values[0] for slot, values in real.items()})
    view_text, module_text = surface.view_source(route)
    if route.name in discovery.post_only:
        methods, sweep_methods = ["POST"], ["POST"]
    else:
        methods = ["GET", "POST"]
        sweep_methods = ["GET", "POST"] if "POST" in view_text else ["GET"]
    special = SPECIAL_BODIES if "request.body" in module_text else COMMON_BODIES
    body_personas = ("manager", "anonymous") if route.name in discovery.public else ("manager",)

    def send_fields(persona, path, pairs, *, narrow=False):
        # POST views may read the query too, so a POST sends the pairs in both places.
        for method in sweep_methods:
            send_pairs(persona, method, path, pairs)
            cause = requester.last_failure
            if narrow and cause:  # which field was it? one line of reproduction, not forty
                for name, value in pairs:
                    alone = [(n, value if n == name else v) for n, v in shape.baseline]
                    if name not in shape.own:
                        alone.append((name, value))
                    send_pairs(persona, method, path, alone)
                    if requester.last_failure == cause:
                        break

    def send_pairs(persona, method, path, pairs):
        query = urlencoded(pairs)
        if method == "GET":
            return requester.send(persona, "GET", path, query)
        body = Body("form", "application/x-www-form-urlencoded", query.encode("ascii"))
        return requester.send(persona, "POST", path, query, body)

    with Requester(world, route) as requester:
        for slot in hostile:  # a huge or non-ASCII id in the path is a 404, never a 500
            for value in hostile[slot]:
                path = route.path({**{s: v[0] for s, v in real.items()}, slot: value})
                requester.send("manager", methods[0], path)
        for value in ALL_FIELDS_VALUES:
            send_fields("manager", real_path, [(name, value) for name in shape.names], narrow=True)
        for name in shape.own:
            for value in PER_FIELD_VALUES:
                send_fields("manager", real_path,
                            [(n, value if n == name else v) for n, v in shape.baseline])
        if "POST" in methods:
            for body in special:
                for persona in body_personas:
                    requester.send(persona, "POST", real_path, "", body)

        def field_pairs(names):
            return st.lists(st.sampled_from(names).flatmap(
                lambda name: st.tuples(st.just(name), hostile_values(shape.plausible[name]))),
                max_size=4)

        @hypothesis_settings(hypothesis_settings.get_profile("fuzz"))
        @given(
            persona=st.sampled_from(["manager", "manager", *PERSONAS]),
            method=st.sampled_from(methods),
            slots=st.fixed_dictionaries({slot: st.sampled_from(real[slot] * 3 + hostile[slot])
                                         for slot in real}),
            keep=st.lists(st.booleans(), min_size=len(shape.baseline), max_size=len(shape.baseline)),
            changed=field_pairs(shape.names),
            query_extra=field_pairs(shape.names),
            htmx=st.booleans(),
            data=st.data(),
        )
        def one_request(persona, method, slots, keep, changed, query_extra, htmx, data):
            pairs = [pair for pair, kept in zip(shape.baseline, keep, strict=True) if kept] + changed
            path = route.path(slots)
            if method == "GET":
                requester.send(persona, method, path, urlencoded(pairs + query_extra), htmx=htmx)
            else:
                body = data.draw(bodies(pairs), label="body")
                requester.send(persona, method, path, urlencoded(query_extra), body, htmx)

        one_request()
    if requester.failures:
        pytest.fail(requester.report(), pytrace=False)
