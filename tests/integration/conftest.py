"""Fixtures for tests that talk to the simulated fleet over real HTTP."""
import pytest

from tests.sim.fluxnode import SimFleet


@pytest.fixture(scope="module")
def sim_fleet():
    with SimFleet(nodes=12, seed=3) as fleet:
        yield fleet


@pytest.fixture
def fleet(sim_fleet):
    """The module's simulated fleet, with every fault cleared after the test."""
    yield sim_fleet
    for index in range(len(sim_fleet.urls)):
        sim_fleet.clear(index)
