#!/usr/bin/env bash
# Run the whole test suite. The Redis server is started by the test setup itself
# (tests/conftest.py, on a free loopback port); this script only adds lint and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
exec pytest "$@"
