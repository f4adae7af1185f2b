#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers for the tests. CI's machines run one on 127.0.0.1:5432 (trust
# auth); on a fresh Debian machine without one, this installs Debian's package, starts it, and gives the
# postgres user a local password. Prints the URL the tests should use as its last line.
set -euo pipefail
url=${STUDYHALL_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
hostport=${url#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=5432

reachable() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if reachable; then echo "$url"; exit 0; fi

if [ -n "${STUDYHALL_TEST_PG_URL:-}" ]; then
  echo "PostgreSQL is not reachable at $host:$port (STUDYHALL_TEST_PG_URL). Start it and run the tests again." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL is not reachable at $host:$port and this is not a Debian-like machine: install and start PostgreSQL, or set STUDYHALL_TEST_PG_URL." >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "==> installing PostgreSQL from Debian's packages (for the tests)" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "==> starting PostgreSQL $version" >&2
$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
for _ in $(seq 1 30); do reachable && break; sleep 1; done
reachable || { echo "PostgreSQL did not start on $host:$port." >&2; exit 1; }
# Debian's default needs a password on TCP: give the local postgres user a fixed one for the tests.
if [ "$(id -u)" = 0 ]; then as_postgres="runuser -u postgres --"; else as_postgres="sudo -u postgres"; fi
$as_postgres psql -qc "ALTER USER postgres PASSWORD 'postgres'" >&2
echo "postgres://postgres:postgres@$host:$port/postgres"
