"""Untrusted nodes (issue 10 F5/F6): every answer bounded in size and in total time, numbers
checked, private addresses refused by default."""

import time

import pytest

from fluxpanel.fluxos.client import (
    BadResponse,
    NodeClient,
    NodeTimeout,
    NodeUnreachable,
    StreamBounds,
)
from tests.integration.client.conftest import SimClient, node_with_app, owner_key, stateless_auth

NODE = 6


@pytest.fixture
def faulty(fleet):
    def inject(kind, **params):
        fleet.inject(NODE, kind, **params)
        return fleet.url(NODE)

    yield inject
    fleet.clear(NODE)


def _elapsed(fn):
    started = time.monotonic()
    try:
        fn()
    finally:
        _elapsed.last = time.monotonic() - started


@pytest.mark.parametrize("params", [{}, {"declared": True}, {"gzip": True}],
                         ids=["chunked", "declared", "gzip-bomb"])
def test_it_refuses_a_300_mb_answer_after_8_mib(faulty, params):
    url = faulty("huge", **params)
    with pytest.raises(BadResponse, match="answer larger than 8 MiB"):
        _elapsed(SimClient(url, timeout=(2, 5)).info)
    assert _elapsed.last < 5


def test_it_bounds_a_streamed_reply_too(fleet, faulty):
    url = faulty("huge")
    index, app = node_with_app(fleet)
    client = SimClient(url, zelidauth=stateless_auth(owner_key(fleet, app)))
    with pytest.raises(BadResponse, match="too large"):
        client.remove_app(app).read_all()


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_it_ends_a_drip_at_the_total_deadline(faulty, phase):
    # One byte every 0.3 s never trips the 5 s read timeout: only the deadline ends it.
    url = faulty("drip", interval_ms=300, phase=phase)
    with pytest.raises(NodeTimeout, match="no complete answer after 1.5 s"):
        _elapsed(SimClient(url, timeout=(1, 5), deadline_s=1.5).version)
    assert 1.4 < _elapsed.last < 3


def test_it_gives_every_call_a_deadline_by_default(faulty):
    url = faulty("drip", interval_ms=200)
    with pytest.raises(NodeTimeout):
        _elapsed(SimClient(url, timeout=(0.5, 1)).version)
    assert _elapsed.last < 3  # connect + read timeout


def test_it_ends_a_trickling_stream(fleet, faulty):
    url = faulty("drip", interval_ms=100)
    index, app = node_with_app(fleet)
    client = SimClient(url, zelidauth=stateless_auth(owner_key(fleet, app)),
                       stream_bounds=StreamBounds(stall_s=1))
    with pytest.raises(NodeTimeout, match="trickling"):
        _elapsed(client.remove_app(app).read_all)
    assert _elapsed.last < 4


@pytest.mark.parametrize("value", [1e20, "abc", -5, True, 2**70, 1.5, "", [1]])
def test_it_turns_garbage_numbers_into_bad_responses(faulty, value):
    client = SimClient(faulty("garbage", value=value), timeout=(2, 5))
    with pytest.raises(BadResponse):
        client.uptime()
    with pytest.raises(BadResponse):
        client.block_count()


def test_it_checks_the_shape_callers_rely_on(fleet):
    client = SimClient(fleet.url(1), max_body=2000)
    with pytest.raises(BadResponse, match="larger than 2000 bytes"):
        client.info()
    assert len(client.list_flux_nodes()) == fleet.fleet.count  # the big list has its own cap
    assert isinstance(SimClient(fleet.url(1)).block_count(), int)


def test_it_refuses_loopback_unless_allowed(fleet):
    with pytest.raises(NodeUnreachable, match="refused"):
        NodeClient(fleet.url(1), timeout=(1, 1)).version()
    with pytest.raises(NodeUnreachable, match="refused"):
        NodeClient(f"http://localhost:{fleet.port}/n/1", timeout=(1, 1)).version()
    before = fleet.stats()["served"]
    assert SimClient(fleet.url(1)).version()
    assert fleet.stats()["served"] == before + 1
