#!/usr/bin/env bash
# Builds Studyhall and runs it on SQLite with demo data at http://127.0.0.1:3000 (override with
# STUDYHALL_LISTEN). Installs whatever build tools are missing first (see scripts/bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
printf '\033[1;34m==>\033[0m %s\n' "building and starting Studyhall (first build: several minutes)"
exec cargo leptos serve --release --split
