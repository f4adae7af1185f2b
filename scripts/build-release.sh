#!/usr/bin/env bash
# The release build used by the test command and scripts/cluster.sh: the server, the WASM (split into
# lazy chunks: every build must pass --split) and the CSS into target/, then the brotli twins of the
# site's assets, so that servers started from it do not write them at start-up. Needs the tools that
# scripts/bootstrap.sh installs. Incremental: fast when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

say "release build (server + WASM + CSS; the first one takes several minutes)"
cargo leptos build --release --split
target/release/studyhall-server precompress
