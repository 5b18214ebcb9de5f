#!/usr/bin/env bash
# What the tests need from Debian: a Redis server and a PostgreSQL server (each started per test
# run, on a free loopback port, by the test setup) and Chromium (browser tests).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Debian keeps initdb and postgres off PATH, under /usr/lib/postgresql/<version>/bin.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 \
  || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "fluxpanel: the tests need ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "fluxpanel: installing ${missing[*]}…"
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  # The tests run their own throw-away cluster: the package need not create and start one on 5432.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/fluxpanel-tests.conf
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
