"""The Stats page's SVG charts: rates from counters, restarts, gaps, units and escaping."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apps.operations import charts
from apps.operations.models import StatsSample

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def samples(*rows, **fixed):
    """StatsSample rows (unsaved) at NOW - seconds, each row (seconds ago, {field: value})."""
    return [StatsSample(taken_at=NOW - timedelta(seconds=ago), **{**fixed, **values}) for ago, values in rows]


def paths(svg) -> list[str]:
    return re.findall(r'<path d="([^"]+)" class="(chart-[ab])"', str(svg))


def test_it_rate_is_bytes_per_second_between_consecutive_counters():
    rows = samples((30, {"net_rx": 1000}), (20, {"net_rx": 11_240}), (10, {"net_rx": 21_480}))
    assert [rate for _, rate in charts.rates(rows, "net_rx")] == [1024.0, 1024.0]


def test_it_a_counter_that_goes_down_is_a_restart_not_a_negative_rate():
    rows = samples((30, {"net_rx": 50_000}), (20, {"net_rx": 60_240}), (10, {"net_rx": 300}), (0, {"net_rx": 10_540}))
    rates = [rate for _, rate in charts.rates(rows, "net_rx")]
    assert rates == [1024.0, None, 1024.0]
    svg = charts.chart("Network", "rate", [charts.Line("received", "chart-a", charts.rates(rows, "net_rx"))], now=NOW)
    assert "-" not in "".join(d for d, _ in paths(svg)).replace("M", "")  # no point below the axis


def test_it_no_rate_across_a_gap_or_a_missing_reading():
    rows = samples((300, {"net_rx": 0}), (290, {"net_rx": 100}), (100, {"net_rx": 10_000}),
                   (90, {"net_rx": None}), (80, {"net_rx": 12_000}))
    assert [rate for _, rate in charts.rates(rows, "net_rx")] == [10.0, None, None, None]


def test_it_breaks_the_line_where_samples_are_missing():
    rows = samples((600, {"cpu_percent": 10.0}), (590, {"cpu_percent": 12.0}), (580, {"cpu_percent": 11.0}),
                   # more than GAP_S without a sample, then a figure the node did not give
                   (300, {"cpu_percent": 20.0}), (290, {"cpu_percent": 22.0}), (280, {"cpu_percent": None}),
                   (270, {"cpu_percent": 30.0}), (260, {"cpu_percent": 31.0}))
    svg = charts.container_charts(rows, now=NOW)[0]
    drawn = paths(svg)
    assert len(drawn) == 3
    assert [d.count("L") for d, _ in drawn] == [2, 1, 1]


def test_it_a_lone_sample_is_a_dot():
    svg = str(charts.container_charts(samples((10, {"disk_used": 5 * 2**30})), now=NOW)[3])
    assert "<circle" in svg and "no samples yet" not in svg


def test_it_draws_no_samples_yet_without_samples_or_outside_the_hour():
    for rows in ([], samples((7200, {"cpu_percent": 5.0}))):
        drawn = charts.container_charts(rows, now=NOW)
        assert len(drawn) == 4
        assert all("no samples yet" in str(chart) and "<path" not in str(chart) for chart in drawn)


def test_it_labels_the_axes_with_units():
    rows = samples((20, {"cpu_percent": 37.0, "memory_used": 300 * 2**20, "memory_limit": 512 * 2**20,
                         "net_rx": 0, "net_tx": 0, "disk_used": 3 * 2**30}),
                   (10, {"cpu_percent": 41.0, "memory_used": 310 * 2**20, "memory_limit": 512 * 2**20,
                         "net_rx": 40_960, "net_tx": 20_480, "disk_used": 3 * 2**30}))
    cpu, memory, network, disk = (str(chart) for chart in charts.container_charts(rows, now=NOW))
    assert ">50 %</text>" in cpu and ">0 %</text>" in cpu
    assert ">600 MiB</text>" in memory and ">300 MiB</text>" in memory and "limit" in memory
    assert ">4 KiB/s</text>" in network and "received" in network and "sent" in network
    assert ">3 GiB</text>" in disk
    assert charts.axis("bytes", 1000 * 2**20)[1] == "GiB"  # never "1000 MiB"
    assert "11:00 UTC" in cpu and ">12:00</text>" in cpu  # the hour it shows


def test_it_escapes_what_it_is_given():
    svg = str(charts.chart('<script>"x"</script>', "percent",
                           [charts.Line("<b>used</b>", 'chart-a" onload="x', [(NOW, 5.0), (NOW, 6.0)])], now=NOW))
    assert "<script>" not in svg and "<b>" not in svg and 'onload="x' not in svg
    assert "&lt;script&gt;" in svg and "&lt;b&gt;used&lt;/b&gt;" in svg


def test_it_current_figures_are_readable():
    rows = samples((20, {"cpu_percent": 12.345, "memory_used": 300 * 2**20, "memory_limit": None,
                         "net_rx": 0, "net_tx": 0}),
                   (10, {"cpu_percent": 1.25, "memory_used": 301 * 2**20, "memory_limit": 2**30,
                         "net_rx": 43_008, "net_tx": 100}))
    now = charts.current(rows)
    assert (now["cpu"], now["memory"], now["memory_limit"]) == ("1.2 %", "301 MiB", "1 GiB")
    assert (now["rx"], now["tx"], now["disk_used"]) == ("4.2 KiB/s", "10 B/s", "–")
    assert charts.current([]) == {}
