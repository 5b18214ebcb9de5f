#!/usr/bin/env bash
# Install uv (from PyPI) when it is missing, so a fresh machine needs only Python 3.11.
set -euo pipefail
if command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1; then exit 0; fi
echo "fluxpanel: installing uv…"
python3 -m pip install --quiet uv
