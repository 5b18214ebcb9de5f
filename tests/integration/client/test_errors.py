"""Every error type of the client, produced by real transport behaviour and injected faults."""

import socket
import time

import pytest
import requests

from fluxpanel.fluxos.client import (
    BadResponse,
    FluxClientError,
    FluxError,
    NodeTimeout,
    NodeUnreachable,
    Unauthorized,
)
from tests.integration.client.conftest import SimClient, requests_seen


@pytest.fixture
def faulty(fleet):
    """Inject a fault on node 6 for one test, always cleared afterwards."""
    def inject(kind, **params):
        fleet.inject(6, kind, **params)
        return SimClient(fleet.url(6), timeout=(1, 0.5))

    yield inject
    fleet.clear(6)


def test_it_error_tree():
    for cls in (NodeUnreachable, NodeTimeout, BadResponse, FluxError, Unauthorized):
        assert issubclass(cls, FluxClientError)
    assert issubclass(Unauthorized, FluxError)


def test_it_closed_port_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NodeUnreachable) as info:
        SimClient(f"http://127.0.0.1:{port}", timeout=(1, 1)).version()
    assert str(port) in info.value.url


def test_it_unresolvable_host_is_unreachable():
    with pytest.raises(NodeUnreachable):
        SimClient("http://node.invalid:16127", timeout=(1, 1)).version()


def test_it_down_node_resets_connections_and_gets_are_retried(fleet, faulty):
    client = faulty("down")
    before = len(requests_seen(fleet, 6))
    with pytest.raises(NodeUnreachable):
        client.version()
    assert len(requests_seen(fleet, 6)) - before == 3  # first try + 2 retries


def test_it_actions_are_not_retried(fleet, faulty):
    client = faulty("down")
    before = len(requests_seen(fleet, 6))
    with pytest.raises(NodeUnreachable):
        client.login_phrase()
    with pytest.raises(NodeUnreachable):
        client.verify_login("1abc", "x" * 50, "sig")
    assert len(requests_seen(fleet, 6)) - before == 2


def test_it_hanging_node_times_out_without_retry(fleet, faulty):
    client = faulty("hang")
    before = len(requests_seen(fleet, 6))
    started = time.monotonic()
    with pytest.raises(NodeTimeout) as info:
        client.version()
    assert info.value.phase == "read"
    assert time.monotonic() - started < 2
    assert len(requests_seen(fleet, 6)) - before == 1


def test_it_slow_node_times_out_or_answers_with_enough_time(fleet, faulty):
    faulty("slow", latency_ms=700)
    with pytest.raises(NodeTimeout):
        SimClient(fleet.url(6), timeout=(1, 0.3)).version()
    assert SimClient(fleet.url(6), timeout=(1, 3)).version()


def test_it_http_500_without_envelope_is_a_bad_response(faulty):
    client = faulty("http500")
    with pytest.raises(BadResponse) as info:
        client.version()
    assert info.value.http_status == 500 and "Internal Server Error" in info.value.body


def test_it_malformed_json_is_a_bad_response(faulty):
    with pytest.raises(BadResponse) as info:
        faulty("malformed").info()
    assert info.value.http_status == 200


def test_it_unknown_route_is_a_bad_response(fleet):
    with pytest.raises(BadResponse) as info:
        SimClient(fleet.url(1))._get("flux", "nosuchroute")
    assert info.value.http_status == 404


def test_it_json_that_is_not_an_envelope_is_a_bad_response(fleet):
    # applogpolling's own shape is not an envelope: reading it as one must not pass silently
    from fluxpanel.fluxos.client import parse_envelope

    response = requests.get(fleet.url(1) + "/flux/version", timeout=5)
    response._content = b'{"logs": [], "status": "success"}'
    with pytest.raises(BadResponse):
        parse_envelope(response, "u")
    response._content = b'["not", "an", "object"]'
    with pytest.raises(BadResponse):
        parse_envelope(response, "u")


def test_it_flux_errors_keep_code_name_message(fleet, faulty):
    faulty("dos", dosState=100, dosMessage="DOS reason")
    with pytest.raises(FluxError) as info:
        SimClient(fleet.url(6)).login_phrase()
    error = info.value
    assert (error.code, error.name, error.message) == (100, "DOS", "DOS reason")
    assert not isinstance(error, Unauthorized)


def test_it_http_401_text_is_unauthorized():
    from fluxpanel.fluxos.client import parse_envelope

    response = requests.Response()
    response.status_code, response._content = 401, b"Access denied"
    with pytest.raises(Unauthorized):
        parse_envelope(response, "u")


def test_it_data_faults_show_in_node_status(fleet, faulty):
    client = faulty("dos")
    assert client.flux_node_status()["status"] == "DOS"
    assert client.dos_state()["dosState"] == 100
    fleet.clear(6)
    faulty("behind", blocks=40)
    assert fleet.fleet.chain.height() - SimClient(fleet.url(6)).block_count() in (40, 41)
    fleet.clear(6)
    faulty("unconfirmed")
    frozen = SimClient(fleet.url(6)).flux_node_status()["last_confirmed_height"]
    fleet.advance_blocks(400)
    status = SimClient(fleet.url(6)).flux_node_status()
    assert status["last_confirmed_height"] == frozen
    assert status["status"] == "EXPIRED"
    fleet.clear(6)
    assert SimClient(fleet.url(6)).flux_node_status()["status"] == "CONFIRMED"


def test_it_cached_reads_and_fresh_reads(fleet):
    client = SimClient(fleet.url(2))
    first = client.block_count()
    fleet.call(lambda: fleet.fleet.chain.advance(3))  # no cache flush: the node keeps its 30 s cache
    assert client.block_count() == first
    assert client.fresh().block_count() >= first + 3
