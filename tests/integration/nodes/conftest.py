"""Fixtures of the fleet's integration tests."""
import pytest

from tests.integration.nodes.hostile_node import HostileNode


@pytest.fixture
def hostile():
    """A hostile node on loopback whose answers a test sets route by route."""
    node = HostileNode()
    yield node
    node.close()
