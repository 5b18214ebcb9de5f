"""Which snapshot makes which alert rule hold (the pure part of alerting)."""
import pytest

from apps.nodes.alerts import rule_holds
from apps.nodes.health import version_key
from apps.nodes.models import AlertRule

HEALTHY = {"state": "confirmed", "reason": "", "height_lag": 0, "maintenance_blocks": 300,
           "benchmark_status": "complete", "version": "8.17.0"}
NEWEST = version_key("8.17.0")


def holds(kind, threshold=None, **changes):
    return rule_holds(AlertRule(kind=kind, threshold=threshold), {**HEALTHY, **changes}, NEWEST)


@pytest.mark.parametrize("kind", AlertRule.Kind.values)
def test_a_healthy_node_fires_nothing(kind):
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
def test_each_rule_fires_on_its_condition(kind, threshold, changes):
    assert holds(kind, threshold, **changes)


def test_thresholds_are_edges():
    assert not holds("height_behind", 10, height_lag=9)
    assert not holds("maintenance_low", 30, maintenance_blocks=60)


def test_a_down_node_only_fires_node_down():
    """Without an answer the other rules cannot judge, so they stay quiet (no duplicate alerts)."""
    fired = [k for k in AlertRule.Kind.values if holds(k, 10, state="down", height_lag=None)]
    assert fired == ["node_down"]


def test_version_ordering_is_numeric():
    assert version_key("8.10.0") > version_key("8.9.3")
    assert version_key("v8.17.0-beta") == (8, 17, 0)
