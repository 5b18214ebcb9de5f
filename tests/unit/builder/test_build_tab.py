"""Build tab: form round trip, FluxOS's errors at their fields, price, component ops, stale saves."""
import copy
import json
import re

import pytest
from django.urls import reverse

from apps.accounts.models import Membership
from apps.builder.actions import create_draft
from apps.builder.builder_form import MAX_COMPONENTS, form_to_spec, spec_to_form
from apps.builder.live_check import DEFAULT_HEIGHT, live_result
from apps.builder.models import AppDraft
from apps.pricing.tables import PriceContext
from fluxpanel.fluxos import pricing
from fluxpanel.fluxos.pricing import PriceTable
from tests.vectors import load

VECTORS = load("specs")
VALID_V8 = [v for v in VECTORS if v.get("version") == 8 and v.get("expected") == "valid"]


def as_post(spec):
    form = spec_to_form(spec)
    data = {k: ("on" if v is True else v) for k, v in form.items()
            if k not in ("components", "has_datacenter", "datacenter", "errors") and v is not False}
    if form["has_datacenter"]:
        data["has_datacenter"] = "1"
        if form["datacenter"]:
            data["datacenter"] = "on"
    for index, row in enumerate(form["components"]):
        for key, value in row.items():
            data[f"c{index}-{key}"] = str(value)
    return {k: str(v) for k, v in data.items()}


@pytest.mark.parametrize("vector", VALID_V8, ids=[v["id"] for v in VALID_V8])
def test_it_round_trips_a_valid_v8_spec(vector):
    # The identity holds for the canonical spec FluxOS stores (the formatter's output).
    formatted = vector.get("formatted") or json.loads(vector["formatted_json"])
    assert form_to_spec(as_post(formatted)) == formatted


def draft_for(personas, spec):
    membership = Membership.objects.get(user=personas.operator, team=personas.team)
    return create_draft(membership=membership, spec=spec)


INVALID_V8 = [v for v in VECTORS if v.get("version") == 8 and v.get("expected") != "valid"]


@pytest.mark.parametrize("vector", INVALID_V8, ids=[v["id"] for v in INVALID_V8])
def test_it_shows_the_vectors_text(vector):
    context = PriceContext(vector["height"], PriceTable.flux_default(), PriceTable.usd_default(), "test")
    errors = live_result(vector["spec"], context)["errors"]
    assert list(errors.values())[0] == vector["expected"]


def test_it_shows_fluxos_text_at_the_field(db):
    spec = copy.deepcopy(VALID_V8[0]["spec"])
    spec["instances"] = 101
    live = live_result(spec)
    assert live["errors"]["instances"] == "Maximum number of instances is 100"


def test_it_attributes_errors_of_two_components(db):
    spec = copy.deepcopy(VALID_V8[0]["spec"])
    second = copy.deepcopy(spec["compose"][0])
    second["name"] = "api"
    second["ports"] = [36002]
    spec["compose"].append(second)
    spec["compose"][0]["name"] = "a" * 64
    spec["compose"][1]["ports"] = [22]
    errors = live_result(spec)["errors"]
    assert errors["compose[0].name"] == "Flux App component name is too long. Maximum 63 characters allowed"
    assert errors["compose[1].ports"] == "Assigned port 22 is not allowed for Flux Apps"


def test_it_prices_as_fluxos(db):
    spec = VALID_V8[0]["spec"]
    live = live_result(spec)
    assert live["price"]["expire"] == pricing.fiat_and_flux_price(spec, DEFAULT_HEIGHT, None)


def test_it_saves_and_prices_through_the_url(personas, client_as):
    draft = draft_for(personas, VALID_V8[0]["spec"])
    data = as_post(draft.spec) | {"revision": str(draft.revision), "c0-cpu": "0.8"}
    response = client_as("operator").post(reverse("builder:save", kwargs={"pk": draft.pk}), data)
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.spec["compose"][0]["cpu"] == 0.8
    assert b'data-role="price-expire"' in response.content


def test_it_refuses_a_stale_revision(personas, client_as):
    draft = draft_for(personas, VALID_V8[0]["spec"])
    data = as_post(draft.spec) | {"revision": str(draft.revision + 5), "c0-cpu": "0.8"}
    response = client_as("operator").post(reverse("builder:save", kwargs={"pk": draft.pk}), data)
    assert response.status_code == 409
    assert b"changed elsewhere" in response.content
    draft.refresh_from_db()
    assert draft.spec["compose"][0]["cpu"] == 0.5


def test_it_adds_components_up_to_the_limit(personas, client_as):
    draft = draft_for(personas, VALID_V8[0]["spec"])
    client = client_as("operator")
    for _ in range(MAX_COMPONENTS + 1):
        data = as_post(draft.spec) | {"revision": str(draft.revision), "op": "add_component"}
        client.post(reverse("builder:save", kwargs={"pk": draft.pk}), data)
        draft.refresh_from_db()
    assert len(draft.spec["compose"]) == MAX_COMPONENTS


def test_it_moves_a_component(personas, client_as):
    spec = copy.deepcopy(VALID_V8[0]["spec"])
    second = copy.deepcopy(spec["compose"][0]) | {"name": "api"}
    spec["compose"].append(second)
    draft = draft_for(personas, spec)
    data = as_post(draft.spec) | {"revision": str(draft.revision), "op": "move_up", "index": "1"}
    client_as("operator").post(reverse("builder:save", kwargs={"pk": draft.pk}), data)
    draft.refresh_from_db()
    assert [c["name"] for c in draft.spec["compose"]] == ["api", "web"]


def test_it_is_read_only_for_a_viewer(personas, client_as):
    draft = draft_for(personas, VALID_V8[0]["spec"])
    client = client_as("viewer")
    page = client.get(reverse("builder:draft", kwargs={"pk": draft.pk}) + "?tab=build")
    assert b'data-role="read-only"' in page.content
    data = as_post(draft.spec) | {"revision": str(draft.revision)}
    assert client.post(reverse("builder:save", kwargs={"pk": draft.pk}), data).status_code == 403


def test_it_warns_when_no_operator_can_sign_for_the_owner(personas, client_as):
    from apps.wallets.models import WalletIdentity
    from tests.sim import keys
    from tests.sim.wallet import link

    spec = copy.deepcopy(VALID_V8[0]["spec"])
    spec["owner"] = keys.OWNERS[0].zelid
    draft = draft_for(personas, spec)
    url = reverse("builder:draft", kwargs={"pk": draft.pk})
    warning = f"No operator of this team has linked {keys.OWNERS[0].zelid}"
    assert warning in client_as("operator").get(url).content.decode()
    link(personas.viewer, keys.OWNERS[0])  # a viewer holds it, but viewers cannot sign
    assert warning in client_as("operator").get(url).content.decode()
    WalletIdentity.objects.filter(user=personas.viewer).update(user=personas.manager)
    assert warning not in client_as("operator").get(url).content.decode()


def test_it_autosave_refreshes_each_fields_error_and_the_revision(personas, client_as):
    draft = draft_for(personas, VALID_V8[0]["spec"])
    client = client_as("operator")
    url = reverse("builder:save", kwargs={"pk": draft.pk})
    bad = client.post(url, as_post(draft.spec) | {"revision": str(draft.revision), "instances": "101"},
                      HTTP_HX_REQUEST="true").content.decode()
    assert '<p class="field-error" data-role="field-error" id="err-instances" hx-swap-oob="true">' \
           "Maximum number of instances is 100</p>" in bad
    draft.refresh_from_db()
    assert f'<span id="draft-revision" hx-swap-oob="true">{draft.revision}</span>' in bad
    good = client.post(url, as_post(draft.spec) | {"revision": str(draft.revision), "instances": "3"},
                       HTTP_HX_REQUEST="true").content.decode()
    # The fixed field's slot is emptied, every component field has its slot too.
    assert 'id="err-instances" hx-swap-oob="true" hidden></p>' in good
    assert 'id="err-c0-cpu" hx-swap-oob="true" hidden></p>' in good
    page = client.get(reverse("builder:draft", kwargs={"pk": draft.pk})).content.decode()
    assert 'id="err-c0-cpu" hidden></p>' in page and 'id="err-instances" hidden></p>' in page


@pytest.mark.parametrize("change", [
    {"compose": "not a list"}, {"compose": [{"name": "a", "ports": "36000"}]},
    {"compose": ["not a component"]},
])
def test_it_checks_a_malformed_draft_without_failing(change, db):
    spec = copy.deepcopy(VALID_V8[0]["spec"]) | change
    assert live_result(spec)["errors"]  # FluxOS's text, not a crash


@pytest.mark.parametrize("expire", [10**18, True, -5])
def test_it_shows_no_date_for_an_expire_out_of_range(expire, db):
    spec = copy.deepcopy(VALID_V8[0]["spec"]) | {"expire": expire}
    assert live_result(spec)["expiry"]["reaches"] is None


def test_it_says_why_a_draft_cannot_be_sent_for_signing_yet(personas, client_as):
    from tests.sim import keys
    from tests.sim.wallet import link

    spec = copy.deepcopy(VALID_V8[0]["spec"]) | {"owner": "", "instances": 101}
    draft = draft_for(personas, spec)
    url = reverse("builder:draft", kwargs={"pk": draft.pk}) + "?tab=sign"
    operator = client_as("operator")

    def blocked():
        page = operator.get(url).content.decode()
        found = re.search(r'data-role="send-blocked">([^<]*)<', page)
        return found.group(1) if found else ""

    assert blocked() == "The spec has no owner yet: set it on the Build tab."
    AppDraft.objects.filter(pk=draft.pk).update(spec=spec | {"owner": keys.OWNERS[0].zelid})
    assert blocked().startswith("Nobody here can sign it yet")
    link(personas.manager, keys.OWNERS[0])
    assert blocked() == "Fix the spec first (instances: Maximum number of instances is 100)."
    AppDraft.objects.filter(pk=draft.pk).update(spec=spec | {"owner": keys.OWNERS[0].zelid, "instances": 3})
    assert blocked() == ""
