#!/usr/bin/env bash
# Runs every test: core and server tests on SQLite and PostgreSQL, the release build, then the browser
# tests in Debian's chromium. Installs whatever is missing first (see scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

scripts/bootstrap.sh --with-browser
STUDYHALL_TEST_PG_URL=$(scripts/ensure-postgres.sh | tail -n 1)
export STUDYHALL_TEST_PG_URL

say "unit and integration tests (SQLite and PostgreSQL at ${STUDYHALL_TEST_PG_URL%%@*}@…)"
cargo test --workspace --exclude studyhall-frontend --locked

say "release build (server + WASM + CSS)"
cargo leptos build --release --split
target/release/studyhall-server precompress

say "browser tests (Playwright + /usr/bin/chromium)"
(cd end2end && npx playwright test)
say "all tests passed"
