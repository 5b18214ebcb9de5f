"""Fixtures of the jobs tests: the operator's membership, and a job kind whose body a test writes."""
import pytest

from apps.accounts.models import Membership
from apps.jobs.kinds import REGISTRY, job_kind


@pytest.fixture
def operator_membership(personas):
    return Membership.objects.get(user=personas.operator, team=personas.team)


@pytest.fixture
def scripted_kind():
    """A job kind whose body the test supplies."""
    calls = {}

    @job_kind("test_scripted", label="Scripted")
    def scripted(ctx, **params):
        calls["body"](ctx, **params)

    yield calls
    REGISTRY.pop("test_scripted")
