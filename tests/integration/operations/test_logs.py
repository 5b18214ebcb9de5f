"""Merged logs of an app across its instances, against the simulated fleet over loopback HTTP."""
from __future__ import annotations

import re
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.deployments.models import AppInstance, TeamApp
from apps.operations import logs
from apps.wallets.models import AppOwnerAuthorisation
from apps.wallets.node_sessions import VAULT_PURPOSE
from fluxpanel import vault
from tests.sim import fluxnode_apps, keys

REQ = re.compile(r"req=(\d+)")


def make_app(team, fleet, *, instances=2, user=None):
    """A team app built from a simulated catalogue app with at least `instances` instances and two
    components, with the owner's authorisation held by the team."""
    for name in sorted(fleet.app_names()):
        entry = fleet.app(name)
        if len(entry.nodes) >= instances and len(entry.spec["compose"]) >= 2:
            break
    else:
        pytest.skip("the simulated catalogue has no app with two components and two instances")
    spec = entry.spec
    app = TeamApp.objects.create(team=team, name=name, name_key=name.lower(), owner=spec["owner"],
                                 spec={k: v for k, v in spec.items() if k not in ("hash", "height")},
                                 spec_version=8, components=len(spec["compose"]))
    for index in entry.nodes[:instances]:
        location = fleet.call(lambda i=index: fleet.fleet.identity(i).location)
        AppInstance.objects.create(app=app, team=team, location=location, state="running")
    key = keys.key_for_zelid(spec["owner"])
    AppOwnerAuthorisation.objects.create(
        team=team, zelid=key.zelid, sealed=vault.seal(key.auth(key.phrase()), purpose=VAULT_PURPOSE),
        created_by=user, expires_at=timezone.now() + timedelta(hours=2))
    return app, entry.nodes[:instances]


@pytest.fixture
def setup(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    settings.OPERATIONS_LOG_POLL_BUDGET_S = 2.0
    previous = fluxnode_apps.set_log_rate(40, 3)  # three lines in the same millisecond, 75 a second
    team = personas.team
    viewer = Membership.objects.get(user=personas.viewer, team=team)
    app, nodes = make_app(team, fleet, user=personas.operator)
    yield app, nodes, viewer, fleet
    fluxnode_apps.set_log_rate(*previous)


def follow(app, viewer, rounds, token=None, pause=0.15, **filters):
    streams = logs.streams_of(app, viewer, **filters)
    seen, results = [], []
    for _ in range(rounds):
        result = logs.poll(app, streams, token)
        token = result.cursor
        seen.extend(result.lines)
        results.append(result)
        time.sleep(pause)
    return seen, results, token, streams


def assert_no_loss_no_repeat(lines):
    per_stream = defaultdict(list)
    for line in lines:
        per_stream[line.key].append(int(REQ.search(line.text).group(1)))
    for key, numbers in per_stream.items():
        assert len(numbers) == len(set(numbers)), f"{key}: a line shown twice"
        assert sorted(numbers) == list(range(min(numbers), max(numbers) + 1)), f"{key}: a line lost"
    return per_stream


def test_it_merges_two_instances_in_time_order_and_tags_each_line(setup):
    app, nodes, viewer, _ = setup
    lines, [result], _, streams = follow(app, viewer, 1)
    assert len(streams) == 2 * len(app.spec["compose"])
    assert {line.key for line in lines} == {s.key for s in streams}
    assert [line.stamp for line in lines] == sorted(line.stamp for line in lines)
    assert len({line.node for line in lines}) == 2
    assert {line.component for line in lines} == {c["name"] for c in app.spec["compose"]}
    assert all(line.as_text().startswith(f"{line.stamp} [{line.node}/{line.component}] ") for line in lines)
    assert all(v == "" for v in result.status.values())


def test_it_follow_returns_only_new_lines_none_lost_or_repeated(setup):
    app, _, viewer, _ = setup
    lines, results, _, streams = follow(app, viewer, 8)
    per_stream = assert_no_loss_no_repeat([line for line in lines if REQ.search(line.text)])
    assert all(len(per_stream[s.key]) > 20 for s in streams)  # it kept following
    assert all(r.lines for r in results[1:])  # every follow poll brought new lines
    # Several lines share a millisecond (the hard case of FluxOS's inclusive `since`).
    stamps = defaultdict(int)
    for line in lines:
        stamps[(line.key, line.stamp[:23])] += 1
    assert max(stamps.values()) >= 3


def test_it_a_node_going_down_is_interrupted_and_resumes_without_loss(setup):
    app, nodes, viewer, fleet = setup
    before, _, token, streams = follow(app, viewer, 2)
    fleet.inject(nodes[0], "down")
    during, results, token, _ = follow(app, viewer, 2, token)
    down_keys = {s.key for s in streams if s.location == AppInstance.objects.get(
        app=app, location=fleet.call(lambda: fleet.fleet.identity(nodes[0]).location)).location}
    for key in down_keys:
        assert results[-1].status[key], "the down node's streams are marked interrupted"
    assert {results[-1].status[key] for key in down_keys} <= {
        "connection reset", "closed the connection without answering"}  # reasons.explain's words
    assert not {line.key for line in during} & down_keys
    assert {line.key for line in during} == {s.key for s in streams} - down_keys  # the others go on
    fleet.clear(nodes[0])
    after, results, _, _ = follow(app, viewer, 2, token)
    assert all(v == "" for v in results[-1].status.values())
    assert_no_loss_no_repeat([line for line in before + during + after if REQ.search(line.text)])
    assert {line.key for line in after} >= down_keys


def test_it_filters_by_text_component_and_instance(setup, client_as):
    app, _, viewer, _ = setup
    component = app.spec["compose"][1]["name"]
    instance = app.instances.order_by("location").first()
    lines, _, _, streams = follow(app, viewer, 1, component=component)
    assert lines and {line.component for line in lines} == {component}
    lines, _, _, streams = follow(app, viewer, 1, instance=instance.pk)
    assert lines and {line.key.split(":")[0] for line in lines} == {str(instance.pk)}
    client = client_as("viewer")
    url = reverse("operations:logs", kwargs={"pk": app.pk})
    page = client.post(url, {"q": "req=", "component": component})
    assert page.status_code == 200
    body = page.content.decode()
    assert "req=" in body and f"/{component}]" in body
    other = app.spec["compose"][0]["name"]
    assert f"/{other}]" not in body
    assert "req=" not in client.post(url, {"q": "no-such-text-anywhere"}).content.decode()


def test_it_downloads_the_merged_lines_as_a_text_file(setup, client_as):
    app, _, _, _ = setup
    response = client_as("viewer").get(reverse("operations:logs", kwargs={"pk": app.pk}), {"download": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "attachment" in response["Content-Disposition"] and ".txt" in response["Content-Disposition"]
    rows = [r for r in response.content.decode().splitlines() if not r.startswith("#")]
    assert len(rows) > 10
    assert all(re.match(r"^\S+ \[[^/\]]+/[^\]]+\] ", r) for r in rows)
    assert [r.split(" ")[0] for r in rows] == sorted(r.split(" ")[0] for r in rows)


def test_it_refuses_a_forged_or_foreign_cursor(setup, client_as, personas):
    app, _, viewer, fleet = setup
    client = client_as("viewer")
    url = reverse("operations:logs", kwargs={"pk": app.pk})
    _, [result], _, _ = follow(app, viewer, 1)
    assert client.post(url, {"cursor": result.cursor}).status_code == 200
    tampered = result.cursor[:-3] + ("aaa" if not result.cursor.endswith("aaa") else "bbb")
    forged = signing.dumps({"a": app.pk, "t": app.team_id, "c": {}, "d": {}}, salt="another salt")
    other = TeamApp.objects.create(team=app.team, name="otherapp", name_key="otherapp")
    foreign = logs.sign_cursor(other, {}, {})
    for cursor in ("garbage", tampered, forged, foreign):
        response = client.post(url, {"cursor": cursor})
        assert response.status_code == 400, cursor
        assert b"Refused" in response.content


def test_it_the_app_page_links_to_its_logs(setup, client_as):
    app, _, _, _ = setup
    page = client_as("viewer").get(reverse("deployments:detail", kwargs={"pk": app.pk}))
    assert reverse("operations:logs", kwargs={"pk": app.pk}).encode() in page.content
    page = client_as("viewer").get(reverse("operations:logs", kwargs={"pk": app.pk}))
    assert page.status_code == 200 and b'id="log-poller"' in page.content


def test_it_a_hanging_node_never_holds_up_the_poll(setup, settings):
    app, nodes, viewer, fleet = setup
    settings.OPERATIONS_LOG_POLL_BUDGET_S = 1.0
    _, _, token, streams = follow(app, viewer, 1)
    fleet.inject(nodes[1], "hang")
    hung = {s.key for s in streams if s.location == fleet.call(lambda: fleet.fleet.identity(nodes[1]).location)}
    started = time.monotonic()
    result = logs.poll(app, streams, token)
    assert time.monotonic() - started < 2.5
    # The client's read timeout, its deadline or the poll's own wait, whichever cuts first: each says so.
    assert {result.status[key] for key in hung} <= {"no answer within 1 s", "answer too slow, cut off after 1 s",
                                                    "timed out after 1 s"}
    assert all(result.status[key] for key in hung)
    assert {line.key for line in result.lines} == {s.key for s in streams} - hung
    fleet.clear(nodes[1])
    after = logs.poll(app, streams, result.cursor)
    assert not any(after.status.values())
    assert {line.key for line in after.lines} >= hung


def test_it_a_node_down_at_the_first_poll_follows_from_then_when_it_answers(setup):
    app, nodes, viewer, fleet = setup
    location = fleet.call(lambda: fleet.fleet.identity(nodes[0]).location)
    streams = logs.streams_of(app, viewer)
    down = {s.key for s in streams if s.location == location}
    fleet.inject(nodes[0], "down")
    opened = logs._now_stamp()
    first = logs.poll(app, streams, None)
    assert all(first.status[key] for key in down)
    assert not {line.key for line in first.lines} & down
    time.sleep(0.3)
    fleet.clear(nodes[0])
    after = logs.poll(app, streams, first.cursor)
    back = [line for line in after.lines if line.key in down]
    assert back and not any(after.status.values())
    assert min(line.stamp[:23] for line in back) >= opened[:23]  # nothing from before the page opened
    # the lines written while it was down (0.3 s at 75 lines a second per stream) are all there
    assert_no_loss_no_repeat([line for line in back if REQ.search(line.text)])
    assert all(sum(1 for line in back if line.key == key) >= 15 for key in down)


def test_it_offers_operators_an_authorisation_when_none_lets_it_read(setup, client_as):
    app, _, _, _ = setup
    url = reverse("operations:logs", kwargs={"pk": app.pk})
    assert b'data-role="ask-authorisation"' not in client_as("operator").get(url).content  # one is held
    AppOwnerAuthorisation.objects.filter(team=app.team).delete()
    page = client_as("operator").get(url).content.decode()
    assert 'data-role="ask-authorisation"' in page and f'value="{app.owner}"' in page
    assert 'data-role="ask-authorisation"' not in client_as("viewer").get(url).content.decode()
