"""The registry of job kinds: what a kind is called, who may start it, and the function it runs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.accounts.models import Role


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    role: str
    run: Callable  # run(ctx: JobContext, **params) -> None
    # Offered as a button on the Jobs page (kinds that need a target are started from their page).
    manual: bool = False


REGISTRY: dict[str, JobKind] = {}


def job_kind(name: str, *, label: str, role: str = Role.OPERATOR, manual: bool = False):
    """Register `function` as the body of jobs of kind `name`."""

    def decorator(function):
        REGISTRY[name] = JobKind(name=name, label=label, role=role, run=function, manual=manual)
        return function

    return decorator


def get_kind(name: str) -> JobKind | None:
    return REGISTRY.get(name)
