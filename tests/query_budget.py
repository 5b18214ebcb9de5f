"""Query budgets: pinned SQL query counts of pages, kept in tests/query_budgets.json.

In the manner of NetBox's utilities/testing/query_counts.py: a test wraps one request in
`assert_query_budget(key)` and the number of queries it ran must equal the pinned one. A change
that adds a query per row, or any query at all, fails with the list of queries it ran.

    with assert_query_budget("nodes:fleet page"):
        client.get(url)

After a deliberate change, regenerate the file (it is rewritten in place, sorted, one key a line):

    FLUXPANEL_UPDATE_QUERY_BUDGETS=1 uv run pytest tests/unit/test_query_budgets.py tests/unit/nodes

Keys are "<URL name> <variant>" so that a renamed URL leaves a key that test_query_budgets reports
as stale. Writes take a file lock, so regeneration also works under pytest-xdist.
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext

BUDGETS_FILE = Path(__file__).with_name("query_budgets.json")
UPDATE_VARIABLE = "FLUXPANEL_UPDATE_QUERY_BUDGETS"
LOCK_FILE = Path(tempfile.gettempdir()) / "fluxpanel-query-budgets.lock"


def updating() -> bool:
    return os.environ.get(UPDATE_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def pinned_budgets() -> dict[str, int]:
    if not BUDGETS_FILE.exists():
        return {}
    return json.loads(BUDGETS_FILE.read_text())


def _rewrite(change) -> None:
    """Apply change(budgets) to the file under an exclusive lock (xdist workers may write at once)."""
    with open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        budgets = pinned_budgets()
        change(budgets)
        BUDGETS_FILE.write_text(json.dumps(dict(sorted(budgets.items())), indent=1) + "\n")


def pin(key: str, count: int) -> None:
    def change(budgets):
        budgets[key] = count

    _rewrite(change)


def forget(keys) -> None:
    def change(budgets):
        for key in keys:
            budgets.pop(key, None)

    _rewrite(change)


def check_count(key: str, count: int, queries=()) -> None:
    """Compare (or, when regenerating, pin) the number of queries run under `key`."""
    if updating():
        pin(key, count)
        return
    budgets = pinned_budgets()
    listing = "\n".join(f"  {query['sql']}" for query in queries)
    if key not in budgets:
        raise AssertionError(f"no query budget pinned for {key!r} ({count} queries ran); set "
                             f"{UPDATE_VARIABLE}=1 to pin it:\n{listing}")
    assert count == budgets[key], (
        f"{key!r} ran {count} queries, its budget is {budgets[key]} (tests/query_budgets.json); "
        f"if the change is meant, regenerate with {UPDATE_VARIABLE}=1. Queries:\n{listing}")


@contextmanager
def assert_query_budget(key: str):
    """Count the queries of the block and check them against the pinned budget of `key`."""
    with CaptureQueriesContext(connection) as captured:
        yield captured
    check_count(key, len(captured), captured.captured_queries)
