"""The tabs' pure rules: FluxOS's tier minimums, the sync verdict, folder verdicts, addresses."""
import pytest

from apps.nodes.tabs_apps import container_app, folder_verdict
from apps.nodes.tabs_bench import at_least, checks_for, parse_tier
from apps.nodes.tabs_daemon import sync_state
from fluxpanel.fluxos.client.explorer import check_address


def test_it_reads_fluxos_node_tiers_with_their_collateral():
    assert parse_tier("cumulus_new") == ("CUMULUS", True)
    assert parse_tier("stratus") == ("STRATUS", False)
    assert parse_tier("toaster") == (None, False) and parse_tier(42) == (None, False)


@pytest.mark.parametrize("tier, new, threads, ram", [
    ("CUMULUS", False, 2, 3), ("NIMBUS", False, 4, 7), ("STRATUS", False, 8, 30),
    ("CUMULUS", True, 4, 3), ("NIMBUS", True, 8, 30), ("STRATUS", True, 16, 61),
])
def test_it_uses_fluxos_confirm_node_tier_hardware_minimums(tier, new, threads, ram):
    checks = {c.label: c for c in checks_for({"cores": threads, "ram": ram - 0.5}, tier, new)}
    assert checks["CPU threads"].ok is True and checks["CPU threads"].needed == f"≥ {threads}"
    assert checks["RAM"].ok is False and checks["RAM"].needed == f"≥ {ram} GB"
    assert checks["EPS"].ok is None and checks["Disk write"].needed == "no FluxOS minimum known"


def test_it_fails_a_figure_that_is_not_a_number_and_passes_none_unknown():
    assert at_least("RAM", "lots", 3, "GB").ok is False
    assert at_least("RAM", float("nan"), 3, "GB").ok is False
    assert at_least("RAM", 8, None, "GB").ok is None


def test_it_calls_a_daemon_synced_within_five_blocks():
    assert sync_state(100, 104) == ("synced", 4)
    assert sync_state(100, 105) == ("behind by 5 blocks", 5)
    assert sync_state(110, 105)[1] == 0  # ahead of the fleet's height is not behind
    assert sync_state(None, 105)[1] is None and sync_state(100, None)[1] is None


def test_it_reads_syncthing_folder_states():
    assert folder_verdict("idle", {"needFiles": 0})[1] is True
    assert folder_verdict("syncing", {"needFiles": 3}) == ("catching up (3 files to fetch)", None)
    assert folder_verdict("idle", {"errors": 1})[1] is False
    assert container_app("/fluxweb_myapp") == "myapp" and container_app("fluxfront_web0") == "web0"


@pytest.mark.parametrize("address", ["../../etc", "t1/../x", "", "t1" + "0" * 33, None, "t1abc"])
def test_it_refuses_what_is_not_a_flux_address(address):
    with pytest.raises(ValueError):
        check_address(address)


def test_it_accepts_a_flux_address():
    assert check_address("t1aP9GDRNh3PonNJtra8Q7SRGLREQuLoj7w")
