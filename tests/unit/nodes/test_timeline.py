"""Uptime over the watched time and the state timeline (apps/nodes/timeline.py)."""
from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.nodes.models import Node, NodeSnapshot, StatusChange
from apps.nodes.timeline import MAX_CHANGES, WIDTH, duration_text, node_timeline


def a_node(team, name="n1"):
    node = Node.objects.create(team=team, name=name, address=f"93.184.216.7:{16127 + len(name)}",
                               base_url="http://93.184.216.7:16127")
    NodeSnapshot.objects.create(node=node, team=team)
    return node


def changes(node, now, steps):
    """steps: (minutes ago, old, new)."""
    StatusChange.objects.bulk_create([
        StatusChange(node=node, team=node.team, old_state=old, new_state=new, at=now - timedelta(minutes=ago))
        for ago, old, new in steps])


def by_label(windows):
    return {w.label: w for w in windows}


def test_it_counts_only_the_watched_time_and_says_how_long(personas):
    """Ten minutes watched, six of them down: 40 % over 10 min, not "30 d 41 %"."""
    node = a_node(personas.team)
    now = timezone.now()
    changes(node, now, [(10, "unknown", "confirmed"), (8, "confirmed", "down"), (2, "down", "confirmed")])
    windows = by_label(node_timeline(node, now=now))
    for label in ("24 h", "7 d", "30 d"):
        assert windows[label].percent == 40.0
        assert windows[label].summary == "40 % over 10 min watched"
        assert not windows[label].fully_watched


def test_it_says_the_whole_window_once_watched_longer(personas):
    node = a_node(personas.team)
    now = timezone.now()
    changes(node, now, [(60 * 30, "unknown", "confirmed"), (60 * 12, "confirmed", "down"),
                        (60 * 6, "down", "confirmed")])
    windows = by_label(node_timeline(node, now=now))
    assert windows["24 h"].summary == "75 % over 24 h"  # down 6 of the last 24 hours
    assert windows["7 d"].summary == "80 % over 1 d 6 h watched"  # watched 30 h, down 6


def test_it_stops_counting_when_the_sweeps_stopped(personas):
    """A node last checked an hour ago was not watched for that hour, whatever its last state."""
    node = a_node(personas.team)
    now = timezone.now()
    changes(node, now, [(120, "unknown", "confirmed")])
    window = node_timeline(node, now=now, checked_at=now - timedelta(minutes=60))[0]
    assert window.summary == "100 % over 1 h watched"
    assert window.segments[-1][2] is None  # the last hour is drawn as not watched


def test_it_draws_the_states_as_an_svg_with_the_worst_state_per_column(personas):
    node = a_node(personas.team)
    now = timezone.now()
    # A one-minute outage inside a 30-day strip is still one visible column.
    changes(node, now, [(60 * 24 * 20, "unknown", "confirmed"), (600, "confirmed", "down"),
                        (599, "down", "confirmed")])
    windows = by_label(node_timeline(node, now=now))
    svg = str(windows["30 d"].svg())
    assert svg.startswith("<svg") and 'role="img"' in svg and "<script" not in svg
    assert 'class="tl-down"' in svg and 'class="tl-confirmed"' in svg and 'class="tl-none"' in svg
    widths = [float(w) for w in re.findall(r'width="([\d.]+)"', svg)]
    assert sum(widths) == WIDTH  # the runs tile the strip exactly
    assert svg.count("<rect") == 4  # not watched, confirmed, the outage, confirmed
    assert "Down: " in svg and "UTC" in svg  # each run says what and when on hover
    day = str(windows["24 h"].svg())
    assert day.count('class="tl-down"') == 1 and 'class="tl-none"' not in day


def test_it_reads_a_long_history_in_two_bounded_queries(personas):
    """A node that flapped every minute for a month: the page reads at most MAX_CHANGES rows."""
    node = a_node(personas.team)
    now = timezone.now()
    states = ("confirmed", "down")
    steps = [(minutes, states[(minutes + 1) % 2], states[minutes % 2]) for minutes in range(1, MAX_CHANGES + 500)]
    changes(node, now, steps)
    with CaptureQueriesContext(connection) as queries:
        windows = by_label(node_timeline(node, now=now))
    assert len(queries) <= 2
    assert windows["30 d"].truncated
    assert 45 <= windows["24 h"].percent <= 55
    assert windows["24 h"].fully_watched
    assert str(windows["30 d"].svg()).count("<rect") <= WIDTH


def test_it_says_not_watched_yet_without_changes(personas):
    node = a_node(personas.team)
    window = node_timeline(node)[0]
    assert window.percent is None and window.summary == "not watched yet"


def test_it_formats_durations_for_people():
    assert [duration_text(s) for s in (30, 600, 3 * 3600 + 600, 86400 + 6 * 3600, 3 * 86400)] == [
        "30 s", "10 min", "3 h 10 min", "1 d 6 h", "3 d"]
