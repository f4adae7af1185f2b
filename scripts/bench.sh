#!/usr/bin/env bash
# Runs every benchmark scenario against Studyhall and the Socket.IO 4.8 reference on this machine and
# writes the report: docs/BENCHMARKS.md (between its report markers) and docs/benchmarks.json (with
# --quick: target/bench-quick/).
# About 15 minutes on 2 cores once built (5 of them the two-node scenario, `cluster`). Extra arguments
# go to `studyhall-bench run` (try --help) and win over the defaults here: the test suite runs
# `--quick --check --out … --json …` into target/.
# Loopback only; every process it starts stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

scripts/bootstrap.sh
# The cluster scenario starts redis-server and nginx of its own (on free loopback ports); like the chat
# scenario it needs PostgreSQL (STUDYHALL_TEST_PG_URL, else postgres://postgres@127.0.0.1:5432/postgres).
scripts/ensure-programs.sh redis-server nginx
say "release build of Studyhall (server + WASM + CSS) and of the load generator"
cargo leptos build --release --split
cargo build --release --locked -p studyhall-bench
if [ ! -d bench/socketio/node_modules/socket.io ] || [ bench/socketio/package-lock.json -nt bench/socketio/node_modules/.package-lock.json ]; then
  say "installing the Socket.IO reference server from bench/socketio/package-lock.json"
  (cd bench/socketio && npm ci --no-audit --no-fund)
fi
# A --quick run's figures are not to be quoted: they go to target/bench-quick/ unless --out says otherwise.
report=(--out docs/BENCHMARKS.md --json docs/benchmarks.json)
for arg in "$@"; do
  if [ "$arg" = --quick ]; then
    report=(--out target/bench-quick/BENCHMARKS.md --json target/bench-quick/report.json)
  fi
done
say "running the scenarios"
exec target/release/studyhall-bench run "${report[@]}" "$@"
