"""Public node/health endpoints against the simulator (reference §9)."""

from tests.integration.client.conftest import SimClient


def test_it_versions_tiers_and_uptime(fleet, client):
    node = fleet.node(1)
    assert client.version() == node.id.version
    assert client.node_tier() == node.id.node_tier
    assert client.node_tier().split("_")[0] in ("cumulus", "nimbus", "stratus")
    assert client.uptime() >= node.id.uptime_offset_s
    assert client.is_arcane_os() is node.id.arcane
    assert client.node_zelid() == node.id.owner


def test_it_info_has_fluxos_sections_and_spellings(fleet, client):
    info = client.info()
    assert set(info) >= {"daemon", "node", "benchmark", "flux", "apps", "geolocation"}
    flux = info["flux"]
    assert flux["zelid"] == fleet.node(1).id.owner
    assert "explorerScannedHeigth" in flux  # sic, as FluxOS spells it
    assert flux["dos"] == {"dosState": 0, "dosMessage": None}
    assert info["node"]["status"]["status"] == "CONFIRMED"
    assert set(info["apps"]) == {"fluxusage", "runningapps", "resources"}


def test_it_benchmarks_status_and_daemon(fleet, client):
    bench = client.benchmarks()
    assert bench["status"] == fleet.node(1).id.tier
    assert {"cores", "ram", "ssd", "eps", "download_speed", "systemsecure"} <= set(bench)
    assert client.benchmark_status() == {"status": "online", "benchmarking": "complete", "flux": True}
    status = client.flux_node_status()
    assert status["status"] == "CONFIRMED"
    assert status["tier"] == fleet.node(1).id.tier
    for key in ("collateral", "txhash", "outidx", "ip", "network", "added_height", "confirmed_height",
                "last_confirmed_height", "last_paid_height", "payment_address", "pubkey",
                "activesince", "lastpaid", "amount", "rank"):
        assert key in status
    assert abs(client.block_count() - fleet.fleet.chain.height()) <= 1


def test_it_peers_geolocation_dos(fleet, client):
    node = fleet.node(1)
    peers = client.connected_peers()
    assert len(peers) == len(node.id.peers_out) and all(isinstance(p, str) for p in peers)
    assert len(client.incoming_connections()) == len(node.id.peers_in)
    geo = client.geolocation()
    assert set(geo) == {"ip", "continent", "continentCode", "country", "countryCode", "region",
                        "regionName", "lat", "lon", "org", "static", "dataCenter"}
    assert client.dos_state() == {"dosState": 0, "dosMessage": None}


def test_it_apps_running_installed_usage(fleet):
    index = next(i for i in range(12) if fleet.node(i).apps)
    client = SimClient(fleet.url(index))
    node = fleet.node(index)
    installed = client.installed_apps()
    assert sorted(spec["name"] for spec in installed) == sorted(node.apps)
    name = installed[0]["name"]
    assert [spec["name"] for spec in client.installed_apps(name)] == [name]
    running = client.running_apps()
    assert {c["Names"][0] for c in running} <= {
        f"/flux{comp}_{app}" for app in node.apps for comp in node.apps[app].containers}
    usage = client.flux_usage()
    assert usage["totalApps"] == sum(len(a.containers) for a in node.apps.values())
    assert set(usage["nodeSpecs"]) == {"cpuCores", "ram", "ssdStorage"}
    assert set(client.apps_resources()) == {"appsCpusLocked", "appsRamLocked", "appsHddLocked"}


def test_it_daemon_node_list_and_its_filter(fleet, client):
    listing = client.list_flux_nodes()
    assert len(listing) == fleet.fleet.count
    target = fleet.node(5).id
    filtered = client.list_flux_nodes(target.txhash)
    assert [entry["txhash"] for entry in filtered] == [target.txhash]
    assert client.list_flux_nodes(target.payment_address)[0]["ip"] == target.location
