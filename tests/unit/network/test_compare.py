"""Pure computations of the Network page: parsing a projection, shares, versions behind, standing."""
from __future__ import annotations

import pytest

from apps.network import compare, parse
from apps.network.compare import TeamNode


def node(tier="CUMULUS", version="6.4.0", eps=300.0, ip="1.2.3.4", arcane=False):
    flux = {"version": version}
    if arcane:
        flux["arcaneVersion"] = "1.4.2"
    return {"ip": ip, "tier": tier, "flux": flux, "benchmark": {"bench": {"eps": eps}}}


def test_it_counts_tiers_versions_and_arcane():
    data = [node(), node(tier="NIMBUS", arcane=True), node(version="6.3.1", ip="5.6.7.8:16137")]
    figures = parse.figures_of(data, frozenset({"5.6.7.8:16137"}))
    assert figures.nodes == 3
    assert figures.tiers == {"CUMULUS": 2, "NIMBUS": 1}
    assert figures.versions == {"6.4.0": 2, "6.3.1": 1}
    assert figures.arcane == 1
    assert figures.eps_by_ip == {"5.6.7.8:16137": 300.0}


@pytest.mark.parametrize("data", [
    {"nodes": []}, [], "garbage", [node(tier="MEGA")] * 10,
    [node()] * 10 + [node(eps=-1.0)] * 2, [node(version="1" * 50)], [node(eps=float("inf"))],
    [node(eps=True)],
])
def test_it_calls_an_unusable_answer_garbage(data):
    with pytest.raises(parse.Garbage):
        parse.figures_of(data)


def test_it_counts_an_odd_version_as_other():
    figures = parse.figures_of([node(), node(version="6.5.0-beta")])
    assert figures.versions == {"6.4.0": 1, "other": 1} and figures.skipped == 0


def test_it_skips_a_few_bad_entries():
    figures = parse.figures_of([node()] * 40 + [node(eps=1e30)])
    assert figures.nodes == 40 and figures.skipped == 1


def test_it_computes_the_share_per_tier():
    figures = parse.Figures(nodes=300, tiers={"CUMULUS": 200, "NIMBUS": 100})
    rows = compare.tier_shares(figures, [TeamNode("CUMULUS", "6.4.0", None)] * 4)
    assert rows[0] == {"tier": "CUMULUS", "network": 200, "team": 4, "share": 2.0}
    assert rows[1]["share"] == 0.0 and rows[2]["share"] is None  # no STRATUS in the network


def test_it_counts_versions_behind_released_versions_only():
    figures = parse.Figures(nodes=1000, versions={"6.4.0": 600, "6.3.1": 300, "6.2.0": 99, "99.0.0": 1})
    released = compare.released_versions(figures)
    assert released == ["6.4.0", "6.3.1", "6.2.0"]  # one node claiming 99.0.0 is not a release
    assert compare.versions_behind("6.4.0", released) == 0
    assert compare.versions_behind("6.2.0", released) == 2
    assert compare.versions_behind("6.10.0", released) == 0  # numeric, not text, order
    assert compare.versions_behind("garbage", released) is None
    standing = compare.version_standing(figures, [TeamNode("CUMULUS", "6.3.1", None),
                                                  TeamNode("CUMULUS", "", None)])
    assert standing["newest"] == "6.4.0" and standing["current"] == 0
    assert standing["rows"] == [{"behind": 1, "nodes": 1}, {"behind": "unknown", "nodes": 1}]


def test_it_places_the_teams_benchmarks_among_the_networks():
    points = parse.quantiles([float(v) for v in range(100, 201)])
    assert points[0] == 100 and points[-1] == 200 and len(points) == 21
    figures = parse.Figures(nodes=101, eps={"CUMULUS": points}, eps_by_ip={"a:1": 101.0, "b:1": 195.0})
    rows = compare.benchmark_standing(figures, [TeamNode("CUMULUS", "", "a:1"), TeamNode("CUMULUS", "", "b:1"),
                                                TeamNode("CUMULUS", "", "c:1")])
    assert len(rows) == 1
    row = rows[0]
    assert row["nodes"] == 2 and row["low"] == 1 and row["network_median"] == 150
    assert compare.percentile(101.0, points) < 10 < compare.percentile(195.0, points)


def test_it_keys_ips_as_fluxstats_writes_them():
    assert parse.ip_key("1.2.3.4") == "1.2.3.4:16127"
    assert parse.ip_key("1.2.3.4:16137") == "1.2.3.4:16137"
    assert parse.ip_key("1.2.3.4:x") is None and parse.ip_key(5) is None
