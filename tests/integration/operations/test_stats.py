"""Stats of an app's containers, sampled from the simulated fleet over loopback HTTP; the Stats
page, its charts poll and the docker inspect / top / changes parts."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Membership
from apps.operations import charts, stats
from apps.operations.models import StatsSample
from tests.integration.operations.test_logs import make_app

FIELDS = ("cpu_percent", "memory_used", "memory_limit", "net_rx", "net_tx", "disk_read", "disk_write",
          "disk_used")


@pytest.fixture
def setup(personas, fleet, settings):
    settings.ALLOW_ANY_NODE_URL = True
    settings.DEV_LOCATION_URL = fleet.base + "/loc/{location}"
    settings.OPERATIONS_STATS_BUDGET_S = 2
    cache.clear()  # the last round (its time and reasons) is cached per app id
    viewer = Membership.objects.get(user=personas.viewer, team=personas.team)
    app, nodes = make_app(personas.team, fleet, user=personas.operator)
    yield app, nodes, viewer, fleet
    for index in nodes:
        for component in app.spec["compose"]:
            fleet.call(lambda i=index, c=component: setattr(container(fleet, i, app, c["name"]),
                                                            "garbage_stats", None))


def container(fleet, index, app, component):
    return fleet.fleet.node(index).container_for(f"{component}_{app.name}")


def instance_of(app, fleet, index):
    location = fleet.call(lambda: fleet.fleet.identity(index).location)
    return app.instances.get(location=location)


def test_it_samples_every_container_with_sane_values(setup):
    app, nodes, viewer, _ = setup
    result = stats.sample(app, viewer)
    assert result.sampled and result.reasons == {}
    rows = list(StatsSample.objects.filter(instance__app=app))
    assert {(r.instance_id, r.component) for r in rows} == {(c.instance_id, c.component) for c in result.containers}
    assert len(rows) == len(nodes) * len(app.spec["compose"])
    ram = {c["name"]: c["ram"] * 1024 * 1024 for c in app.spec["compose"]}
    for row in rows:
        assert 0 < row.cpu_percent < 400  # four CPUs at most
        assert row.memory_limit == ram[row.component]
        assert 0 < row.memory_used < row.memory_limit
        assert row.net_rx > 0 and row.net_tx > 0 and row.disk_read > 0 and row.disk_write > 0
        assert row.disk_used >= 52_428_800  # the rootfs at least
        assert row.team_id == app.team_id


def test_it_a_down_node_gives_a_reason_and_the_others_still_sample(setup):
    app, nodes, viewer, fleet = setup
    fleet.inject(nodes[0], "down")
    result = stats.sample(app, viewer)
    down = instance_of(app, fleet, nodes[0])
    down_keys = {c.key for c in result.containers if c.instance_id == down.pk}
    assert set(result.reasons) == down_keys
    assert set(result.reasons.values()) <= {"connection reset", "closed the connection without answering"}
    sampled = set(StatsSample.objects.filter(instance__app=app).values_list("instance_id", flat=True))
    assert sampled == {c.instance_id for c in result.containers} - {down.pk}


def test_it_a_slow_node_is_cut_at_the_budget(setup):
    app, nodes, viewer, fleet = setup
    fleet.inject(nodes[1], "hang")
    started = timezone.now()
    result = stats.sample(app, viewer)
    assert (timezone.now() - started).total_seconds() < 4  # a 2 s budget, not the node's pace
    slow = instance_of(app, fleet, nodes[1])
    assert all(result.reasons[c.key] for c in result.containers if c.instance_id == slow.pk)
    assert StatsSample.objects.filter(instance__app=app).exclude(instance=slow).exists()


@pytest.mark.parametrize("garbage", [1e30, -5, "12", True, None])
def test_it_garbage_or_absurd_numbers_are_stored_as_none(setup, garbage):
    app, nodes, viewer, fleet = setup
    target = instance_of(app, fleet, nodes[0])
    for component in app.spec["compose"]:
        fleet.call(lambda c=component: setattr(container(fleet, nodes[0], app, c["name"]), "garbage_stats",
                                               garbage if garbage is not None else {"not": "a number"}))
    result = stats.sample(app, viewer)
    assert result.reasons == {}
    for row in StatsSample.objects.filter(instance=target):
        assert all(getattr(row, name) is None for name in FIELDS), row
    other = StatsSample.objects.filter(instance__app=app).exclude(instance=target)
    assert other.exists() and all(row.cpu_percent is not None for row in other)
    # The charts of a container that only ever gave garbage draw "no samples yet", no crash.
    samples = list(StatsSample.objects.filter(instance=target))
    assert all("no samples yet" in str(chart) for chart in charts.container_charts(samples, now=timezone.now()))


def test_it_a_malformed_answer_is_a_reason_not_a_crash(setup):
    app, nodes, viewer, fleet = setup
    fleet.inject(nodes[0], "malformed")
    result = stats.sample(app, viewer)
    broken = instance_of(app, fleet, nodes[0])
    assert {key for key, reason in result.reasons.items() if reason} == {
        c.key for c in result.containers if c.instance_id == broken.pk}


def test_it_prunes_samples_older_than_the_keep_time(setup, settings):
    app, _, viewer, _ = setup
    settings.OPERATIONS_STATS_KEEP_S = 3600
    instance = app.instances.first()
    now = timezone.now()
    old = StatsSample.objects.create(team=app.team, instance=instance, component="x", taken_at=now - timedelta(hours=2))
    kept = StatsSample.objects.create(team=app.team, instance=instance, component="x",
                                      taken_at=now - timedelta(minutes=30))
    stats.sample(app, viewer)
    assert not StatsSample.objects.filter(pk=old.pk).exists()
    assert StatsSample.objects.filter(pk=kept.pk).exists()


def test_it_samples_an_app_at_most_every_few_seconds(setup):
    app, _, viewer, _ = setup
    now = timezone.now()
    first = stats.sample(app, viewer, now=now)
    count = StatsSample.objects.count()
    again = stats.sample(app, viewer, now=now + timedelta(seconds=stats.MIN_INTERVAL_S - 1))
    assert first.sampled and not again.sampled
    assert StatsSample.objects.count() == count
    later = stats.sample(app, viewer, now=now + timedelta(seconds=stats.MIN_INTERVAL_S + 1))
    assert later.sampled and StatsSample.objects.count() == 2 * count


def test_it_a_round_where_every_node_failed_also_holds_off_the_next(setup):
    app, nodes, viewer, fleet = setup
    for index in nodes:
        fleet.inject(index, "down")
    now = timezone.now()
    first = stats.sample(app, viewer, now=now)
    assert first.sampled and len(first.reasons) == len(first.containers) and not StatsSample.objects.exists()
    again = stats.sample(app, viewer, now=now + timedelta(seconds=1))
    assert not again.sampled and again.reasons == first.reasons  # the nodes are not asked again


def test_it_counters_start_again_after_a_restart_and_the_rate_skips_it(setup):
    app, nodes, viewer, fleet = setup
    name = app.spec["compose"][0]["name"]
    target = instance_of(app, fleet, nodes[0])
    now = timezone.now()
    stats.sample(app, viewer, now=now)
    fleet.call(lambda: container(fleet, nodes[0], app, name).restart(int(timezone.now().timestamp() * 1000)))
    stats.sample(app, viewer, now=now + timedelta(seconds=10))
    before, after = StatsSample.objects.filter(instance=target, component=name).order_by("taken_at")
    assert after.net_rx < before.net_rx and after.disk_read < before.disk_read
    assert [rate for _, rate in charts.rates([before, after], "net_rx")] == [None]


def test_it_stats_page_as_viewer_shows_cards_and_the_poll_draws_charts(setup, client_as):
    app, nodes, _, _ = setup
    client = client_as("viewer")
    url = reverse("operations:stats", kwargs={"pk": app.pk})
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('class="card stats-card"') == len(nodes) * len(app.spec["compose"])
    assert "no samples yet" in body and "docker inspect" not in body  # viewers get no docker tools
    poll = client.get(url, {"part": "charts"}, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    text = poll.content.decode()
    assert text.count('hx-swap-oob="true"') == len(nodes) * len(app.spec["compose"])
    assert "<path d=" in text or "<circle" in text  # a sample is drawn
    assert 'data-figure="cpu">–' not in text
    fp = poll.context["fingerprint"]
    assert client.get(url, {"part": "charts", "fp": fp}, HTTP_HX_REQUEST="true").status_code == 304


def test_it_inspect_is_readable_and_masks_secret_values(setup, client_as):
    app, nodes, _, fleet = setup
    name = app.spec["compose"][0]["name"]
    target = container(fleet, nodes[0], app, name)
    saved = fleet.call(lambda: target.spec.get("environmentParameters"))
    fleet.call(lambda: target.spec.__setitem__("environmentParameters", [
        "DB_PASSWORD=hunter2-value", "api_token=tok-value", "MODE=production"]))
    try:
        response = client_as("operator").get(reverse("operations:stats", kwargs={"pk": app.pk}), {
            "part": "inspect", "instance": instance_of(app, fleet, nodes[0]).pk, "component": name})
    finally:
        fleet.call(lambda: target.spec.__setitem__("environmentParameters", saved or []))
    body = response.content.decode()
    assert response.status_code == 200
    assert "hunter2-value" not in body and "tok-value" not in body  # neither in the summary nor the raw JSON
    assert body.count("•••") >= 2 * 2 and "production" in body
    assert 'data-env="DB_PASSWORD">•••' in body
    for shown in ("Restart count", "Started", app.spec["compose"][0]["repotag"], "Raw JSON", "Mounts"):
        assert shown in body


def test_it_top_and_changes_are_readable(setup, client_as):
    app, nodes, _, fleet = setup
    name = app.spec["compose"][0]["name"]
    query = {"instance": instance_of(app, fleet, nodes[0]).pk, "component": name}
    client = client_as("operator")
    url = reverse("operations:stats", kwargs={"pk": app.pk})
    top = client.get(url, {"part": "top", **query}).content.decode()
    assert "<th>PID</th>" in top and "/entrypoint.sh" in top and "2 processes" in top
    changes = client.get(url, {"part": "changes", **query}).content.decode()
    for kind, path in (("changed", "/tmp"), ("added", "/tmp/app.pid"), ("deleted", "/var/cache/apt")):
        assert f'data-kind="{kind}"><span class="badge">{kind}</span> {path}</li>' in changes
    fleet.call(lambda: container(fleet, nodes[0], app, name).stop(int(timezone.now().timestamp() * 1000)))
    try:
        stopped = client.get(url, {"part": "top", **query}).content.decode()
    finally:
        fleet.call(lambda: container(fleet, nodes[0], app, name).start(int(timezone.now().timestamp() * 1000)))
    assert "could not be read" in stopped and "is not running" in stopped


def test_it_a_viewer_may_not_read_inspect(setup, client_as):
    app, nodes, _, fleet = setup
    response = client_as("viewer").get(reverse("operations:stats", kwargs={"pk": app.pk}), {
        "part": "inspect", "instance": instance_of(app, fleet, nodes[0]).pk,
        "component": app.spec["compose"][0]["name"]})
    assert response.status_code == 403
    assert "This needs the operator role" in response.content.decode()
