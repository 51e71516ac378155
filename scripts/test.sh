#!/usr/bin/env bash
# The test command (npm test; .ci/run calls it): set-up, type check, lint, then every jest suite against
# PostgreSQL (DATABASE_URL, else the machine's server on 127.0.0.1:5432, started if it is down), then the
# event-log integration suite again against the embedded PostgreSQL the platform uses by default.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json
npx eslint .

if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
  fi
fi

# The Kafka broker for test/transport/kafka-*.test.ts (jars fetched with mvn on first use).
kafka_started=""
if [ -z "${KAFKA_BROKERS:-}" ] && ! bash scripts/kafka/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka/kafka.sh start && kafka_started=1
fi

embedded_home=$(mktemp -d /tmp/recon-test-pg.XXXXXX)
embedded_pid=""
start_embedded() {
  chmod 755 "$embedded_home"
  node dist/scripts/embedded-db.js --home "$embedded_home" --url-file "$embedded_home/url" &
  embedded_pid=$!
  for _ in $(seq 1 120); do [ -s "$embedded_home/url" ] && return 0; sleep 0.5; done
  echo "test: the embedded PostgreSQL did not start" >&2
  return 1
}
export RECON_TEST_TALLY="$embedded_home/tally"
: > "$RECON_TEST_TALLY"
status=0
cleanup() {
  if [ -n "${kafka_started:-}" ]; then bash scripts/kafka/kafka.sh stop || true; fi
  if [ -n "$embedded_pid" ]; then kill "$embedded_pid" 2>/dev/null || true; wait "$embedded_pid" 2>/dev/null || true; fi
  rm -rf "$embedded_home"
}
trap cleanup EXIT
run_jest() { npx jest --maxWorkers=2 "$@" || status=1; }
# The suites that start whole deployments (a dozen Node processes plus the broker) run in a pass of their
# own: beside the rest of the suite on 2 cores their services can take over a minute to become ready.
run_suites() {
  if [ "$#" -gt 0 ]; then run_jest "$@"; return; fi
  run_jest --testPathIgnorePatterns '/node_modules/' '/dist/' '/.recon/' '<rootDir>/test/distributed/'
  run_jest test/distributed
}

if [ -z "${DATABASE_URL:-}" ]; then
  echo "test: no PostgreSQL server reachable; running every suite on the embedded server"
  start_embedded
  export DATABASE_URL=$(cat "$embedded_home/url")
  run_suites "$@"
else
  echo "test: suites on ${DATABASE_URL%%@*}@… ; then the event-log suite on the embedded server"
  run_suites "$@"
  start_embedded
  DATABASE_URL=$(cat "$embedded_home/url") run_jest test/eventlog
fi

# One closing line for all jest runs.
awk '{ p += $1; f += $2; s += $3 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$RECON_TEST_TALLY"
exit "$status"
