"""Which snapshot makes which alert rule hold (the pure part of alerting)."""
import pytest

from apps.nodes.alerts import rule_holds
from apps.nodes.models import AlertRule
from apps.nodes.probe import version_key

HEALTHY = {"state": "confirmed", "reason": "", "height_lag": 0, "maintenance_blocks": 300,
           "benchmark_status": "complete", "version": "8.17.0"}
NEWEST = version_key("8.17.0")


def holds(kind, threshold=None, **changes):
    return rule_holds(AlertRule(kind=kind, threshold=threshold), {**HEALTHY, **changes}, NEWEST)


@pytest.mark.parametrize("kind", AlertRule.Kind.values)
def test_it_a_healthy_node_fires_nothing(kind):
    assert not holds(kind, threshold=10)


@pytest.mark.parametrize("kind,threshold,changes", [
    ("node_down", None, {"state": "down"}),
    ("node_down", None, {"state": "error"}),
    ("not_confirmed", None, {"state": "unconfirmed"}),
    ("not_confirmed", None, {"state": "dos"}),
    ("benchmark_failed", None, {"benchmark_status": "failed"}),
    ("height_behind", 10, {"height_lag": 10}),
    ("maintenance_low", 30, {"maintenance_blocks": 59}),  # 29 minutes of 30-second blocks
    ("version_behind", None, {"version": "8.16.1"}),
])
def test_it_each_rule_fires_on_its_condition(kind, threshold, changes):
    assert holds(kind, threshold, **changes)


def test_it_thresholds_are_edges():
    assert not holds("height_behind", 10, height_lag=9)
    assert not holds("maintenance_low", 30, maintenance_blocks=60)


def test_it_a_down_node_only_fires_node_down():
    """Without an answer the other rules cannot judge, so they stay quiet (no duplicate alerts)."""
    fired = [k for k in AlertRule.Kind.values if holds(k, 10, state="down", height_lag=None)]
    assert fired == ["node_down"]


def test_it_version_ordering_is_numeric():
    assert version_key("8.10.0") > version_key("8.9.3")
    assert version_key("v8.17.0-beta") == (8, 17, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("threshold", [str(10**30), str(AlertRule.MAX_THRESHOLD + 1), "-1"])
def test_it_refuses_a_threshold_outside_its_range_with_a_message(personas, client_as, threshold):
    """A huge threshold overflowed the column (a server error)."""
    from django.urls import reverse

    response = client_as("manager").post(
        reverse("nodes:alert_create"),
        {"kind": "height_behind", "threshold": threshold, "email": "ops@example.com"}, follow=True)
    assert response.status_code == 200
    assert "Not added: threshold" in response.content.decode()
    assert AlertRule.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_huge_threshold_in_the_action_too(personas):
    from django.core.exceptions import ValidationError

    from apps.accounts.models import Membership
    from apps.nodes import actions

    manager = Membership.objects.get(user=personas.manager, team=personas.team)
    with pytest.raises(ValidationError, match="threshold"):
        actions.create_alert_rule(membership=manager, kind="height_behind", threshold=10**30,
                                  email="ops@example.com")
    assert AlertRule.objects.count() == 0
