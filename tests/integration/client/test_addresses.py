"""Normalising user-typed node addresses, and the URL rules of the client."""

import pytest

from fluxpanel.fluxos.client import (
    ALLOWED_API_PORTS,
    NodeAddress,
    NodeClient,
    component_name,
    parse_node_address,
)
from tests.integration.client.conftest import SimClient


@pytest.mark.parametrize(
    ("typed", "http_url", "https_url"),
    [
        ("1.2.3.4", "http://1.2.3.4:16127", "https://1.2.3.4:16128"),
        (" 1.2.3.4:16137 ", "http://1.2.3.4:16137", "https://1.2.3.4:16138"),
        ("http://Node.Example.com:16197/", "http://node.example.com:16197", "https://node.example.com:16198"),
        ("https://1.2.3.4:16128", "http://1.2.3.4:16127", "https://1.2.3.4:16128"),
        ("[2001:db8::1]:16147", "http://[2001:db8::1]:16147", "https://[2001:db8::1]:16148"),
        ("2001:db8::1", "http://[2001:db8::1]:16127", "https://[2001:db8::1]:16128"),
    ],
)
def test_it_addresses_normalise_to_api_and_https_urls(typed, http_url, https_url):
    address = parse_node_address(typed)
    assert address.base_url() == http_url
    assert address.base_url(https=True) == https_url


@pytest.mark.parametrize(
    "typed",
    ["", "1.2.3.4:80", "1.2.3.4:16128", "https://1.2.3.4:16127", "1.2.3.4:16130", "ftp://1.2.3.4",
     "http://1.2.3.4:16127/apps", "not a host", "1.2.3", "1.2.3.4:port"],
)
def test_it_bad_addresses_are_refused_with_a_message(typed):
    with pytest.raises(ValueError) as info:
        parse_node_address(typed)
    assert str(info.value)


def test_it_only_fluxos_ports_are_allowed():
    assert ALLOWED_API_PORTS == (16127, 16137, 16147, 16157, 16167, 16177, 16187, 16197)


def test_it_location_records_keep_the_port_only_off_the_default():
    assert NodeAddress("1.2.3.4").location == "1.2.3.4"
    assert parse_node_address("1.2.3.4:16157").location == "1.2.3.4:16157"
    assert parse_node_address(parse_node_address("5.6.7.8:16167").location).api_port == 16167


def test_it_tls_verification_can_only_be_turned_off_for_https():
    with pytest.raises(ValueError):
        SimClient("http://1.2.3.4:16127", verify_tls=False)
    insecure = NodeClient.for_address("1.2.3.4", https=True, verify_tls=False)
    assert insecure.base_url == "https://1.2.3.4:16128"
    assert insecure.verify_tls is False
    assert NodeClient.for_address("1.2.3.4").verify_tls is True


def test_it_path_parameters_are_url_encoded_and_components_named_component_app():
    client = SimClient("http://127.0.0.1:9/n/3/")
    url = client.path_url("apps", "getfolderinfo", "app", "web", "appdata/sub dir", None, "ignored")
    assert url == "http://127.0.0.1:9/n/3/apps/getfolderinfo/app/web/appdata%2Fsub%20dir"
    assert component_name("web", "shop1") == "web_shop1"
    assert component_name(None, "shop1") == "shop1"
    assert client.path_url("x", "y", query={"owner": "1abc", "hash": None}) == \
        "http://127.0.0.1:9/n/3/x/y?owner=1abc"


def test_it_zelidauth_goes_out_in_its_json_form():
    client = SimClient("http://127.0.0.1:9", zelidauth={"loginPhrase": "p", "zelid": "1z", "signature": "s+/="})
    assert client.zelidauth == '{"zelid":"1z","signature":"s+/=","loginPhrase":"p"}'
    assert SimClient("http://127.0.0.1:9", zelidauth="raw").zelidauth == "raw"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_it_self_signed_https_needs_the_explicit_option():
    from fluxpanel.fluxos.client import NodeUnreachable
    from tests.sim.fluxnode import SimFleet

    with SimFleet(nodes=2, tls=True) as sim:
        assert sim.url(1).startswith("https://")
        with pytest.raises(NodeUnreachable, match="TLS"):
            SimClient(sim.url(1)).version()
        assert SimClient(sim.url(1), verify_tls=False).version()


def test_it_one_pooled_session_per_thread():
    import threading

    from fluxpanel.fluxos.client import thread_session

    mine = thread_session()
    assert thread_session() is mine and mine.trust_env is False
    seen = []
    worker = threading.Thread(target=lambda: seen.append(thread_session()))
    worker.start()
    worker.join()
    assert seen[0] is not mine
