#!/usr/bin/env bash
# Run the whole test suite on both databases, side by side (one pytest per core):
# SQLite (the default) in the foreground, PostgreSQL (a real server that tests/pg_server.py starts
# on a free loopback port) in the background, its output shown when both are done. Redis is
# started by the test setup as well (tests/conftest.py); this script adds lint.
#   scripts/test.sh -k sweep                          both databases, extra pytest arguments
#   FLUXPANEL_TEST_DBS=postgres scripts/test.sh -x    one database
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
read -r -a databases <<< "${FLUXPANEL_TEST_DBS:-sqlite postgres}"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run() {  # run DB: pytest on that database; writes "<exit status> <seconds>" to $logs/DB.result
  local start=$SECONDS status=0
  FLUXPANEL_TEST_DB=$1 pytest "${@:2}" || status=$?
  echo "$status $((SECONDS - start))" > "$logs/$1.result"
}

background=()
for database in "${databases[@]:1}"; do
  run "$database" "$@" > "$logs/$database.log" 2>&1 &
  background+=("$!")
done
run "${databases[0]}" "$@"
for pid in "${background[@]}"; do wait "$pid" || true; done

failed=0
for database in "${databases[@]}"; do
  read -r status seconds < "$logs/$database.result"
  [ "$status" = 0 ] || failed=1
  if [ "$database" != "${databases[0]}" ]; then
    echo "=================== $database (ran alongside; exit $status, ${seconds} s) ==================="
    cat "$logs/$database.log"
  else
    echo "fluxpanel: $database run: exit $status, ${seconds} s"
  fi
done
exit "$failed"
