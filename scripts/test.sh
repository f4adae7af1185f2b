#!/usr/bin/env bash
# Runs every test: core and server tests on SQLite and PostgreSQL (among them several nodes on one
# database, with a Redis and an nginx of their own), the release build, the browser tests in Debian's
# chromium, then a small run of every benchmark scenario. Installs whatever is missing first
# (scripts/bootstrap.sh, scripts/ensure-postgres.sh, scripts/ensure-programs.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

scripts/bootstrap.sh --with-browser
STUDYHALL_TEST_PG_URL=$(scripts/ensure-postgres.sh | tail -n 1)
export STUDYHALL_TEST_PG_URL
# The cluster tests start their own redis-server and nginx on free loopback ports: only the programs
# must be installed (found on PATH or in /usr/sbin, where Debian puts nginx).
scripts/ensure-programs.sh redis-server nginx

say "unit and integration tests (SQLite and PostgreSQL at ${STUDYHALL_TEST_PG_URL%%@*}@…)"
cargo test --workspace --exclude studyhall-frontend --locked

scripts/build-release.sh

say "browser tests (Playwright + /usr/bin/chromium)"
(cd end2end && npx playwright test)

# The benchmark's own command at its small size: it must still run every scenario against both systems
# (a scenario that fails on either is a failure), and Studyhall must lose, double and drop nothing.
# Speed is printed, never checked.
say "benchmark smoke run (scripts/bench.sh --quick --check)"
scripts/bench.sh --quick --check --out target/bench-smoke/BENCHMARKS.md --json target/bench-smoke/report.json
say "all tests passed"
