#!/usr/bin/env bash
# Runs Studyhall as a local cluster, shaped like production (docs/DEPLOY.md): several nodes on one
# PostgreSQL database and one Redis, behind nginx at http://127.0.0.1:8080. Ctrl-C stops all it started.
#
#   scripts/cluster.sh [-n NODES] [--build]
#
#   -n NODES   how many nodes (default 3, or NODES=...); they listen on 127.0.0.1:3101, 3102, ...
#   --build    rebuild the release first (incremental); otherwise it is built only when missing
#
# Environment: NODES, PORT (nginx's port, default 8080), FIRST_NODE_PORT (default 3101), REDIS_PORT
# (default 6379), STUDYHALL_TEST_PG_URL (the PostgreSQL server, as for the tests), STUDYHALL_SERVER_BIN
# (a server binary to run instead of target/release/studyhall-server; nothing is built then). Other
# STUDYHALL_* variables pass through to every node (STUDYHALL_LOG, for example); the nodes do not read
# a .env file.
#
# What it does: installs what is missing (build tools, Debian's PostgreSQL, redis-server and nginx),
# builds the release if needed, creates the database studyhall_cluster, uses the Redis answering on
# 127.0.0.1:REDIS_PORT or starts one of its own, starts the nodes (demo data from the first only), then
# nginx, waits for every /healthz and prints where everything is. Kill a node (kill PID) to watch its
# users move to the others; the script keeps the rest running until Ctrl-C.
# Its files live under data/cluster/: the shared signing secret (secret.key, made on the first run),
# the nodes' shared data directory (files/: chat attachments), logs/, nginx/ and redis/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

nodes=${NODES:-3}
port=${PORT:-8080}
first_node_port=${FIRST_NODE_PORT:-3101}
redis_port=${REDIS_PORT:-6379}
build=0
while [ $# -gt 0 ]; do
  case $1 in
    -n | --nodes) [ $# -ge 2 ] || die "$1 needs a number"; nodes=$2; shift 2 ;;
    -n*) nodes=${1#-n}; shift ;;
    --build) build=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for setting in nodes port first_node_port redis_port; do
  [[ ${!setting} =~ ^[0-9]+$ ]] || die "$setting must be a number, not '${!setting}'"
done
if [ "$nodes" -lt 1 ] || [ "$nodes" -gt 50 ]; then die "between 1 and 50 nodes, not $nodes"; fi
if [ $((first_node_port + nodes - 1)) -gt 65535 ]; then die "node ports past 65535"; fi

state=$root/data/cluster
logs=$state/logs
bin=${STUDYHALL_SERVER_BIN:-$root/target/release/studyhall-server}
origin=http://127.0.0.1:$port

# Something answers on 127.0.0.1:$1.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# What the Redis on 127.0.0.1:$1 answers to PING (empty if nothing does).
redis_ping() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 0
    printf 'PING\r\n' >&3
    reply=""
    read -r -t 2 reply <&3 || true
    printf '%s' "${reply%$'\r'}"
  ) 2>/dev/null
}
# A field of a /healthz answer (compact JSON from serde): a string or a literal.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" <<<"$2"; }
healthz() { curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz" 2>/dev/null; }

# --- everything it starts, stopped on the way out -------------------------------------------------
node_pids=()
nginx_pid=""
redis_pid=""
stopping=0
stop_all() {
  [ "$stopping" = 0 ] || return 0
  stopping=1
  trap - INT TERM
  local pid
  if [ -n "$nginx_pid" ] || [ ${#node_pids[@]} -gt 0 ] || [ -n "$redis_pid" ]; then
    echo
    say "stopping the cluster"
  fi
  # nginx first (no new requests), then the nodes (they close their sockets and hand the jobs'
  # lease over), then the Redis this script started.
  local pids=("${node_pids[@]}")
  if [ -n "$nginx_pid" ]; then
    kill -TERM "$nginx_pid" 2>/dev/null || true
    pids+=("$nginx_pid")
  fi
  for pid in "${node_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      warn "process $pid did not stop within 10 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- ports free ------------------------------------------------------------------------------------
listening "$port" && die "port $port is in use (a cluster already running?): stop it, or pick another with PORT=..."
for i in $(seq 1 "$nodes"); do
  p=$((first_node_port + i - 1))
  listening "$p" && die "port $p is in use: stop what listens there, or pick other node ports with FIRST_NODE_PORT=..."
done

# --- tools and the build ---------------------------------------------------------------------------
scripts/ensure-programs.sh redis-server nginx psql curl
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
redis_bin=$(command -v redis-server || echo /usr/sbin/redis-server)
if [ -n "${STUDYHALL_SERVER_BIN:-}" ]; then
  [ -x "$bin" ] || die "STUDYHALL_SERVER_BIN=$bin is not an executable file"
elif [ "$build" = 1 ] || [ ! -x "$bin" ] || [ ! -d target/site/pkg ]; then
  scripts/bootstrap.sh
  scripts/build-release.sh
fi

mkdir -p "$logs" "$state/files"

# --- the shared secret -----------------------------------------------------------------------------
if [ ! -s "$state/secret.key" ]; then
  say "making the cluster's signing secret (data/cluster/secret.key)"
  (umask 077 && head -c 48 /dev/urandom | base64 -w 0 | tr '+/' '-_' | tr -d '=' >"$state/secret.key")
fi
secret=$(<"$state/secret.key")
[ ${#secret} -ge 32 ] || die "$state/secret.key holds fewer than 32 characters: delete it to make a new one"

# --- PostgreSQL and the database -------------------------------------------------------------------
admin_url=$(scripts/ensure-postgres.sh | tail -n 1)
base=${admin_url%%\?*}
query=${admin_url#"$base"}
database_url="${base%/*}/studyhall_cluster$query"
if ! psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname = 'studyhall_cluster'" | grep -q 1; then
  say "creating the database studyhall_cluster"
  psql "$admin_url" -qc 'CREATE DATABASE studyhall_cluster'
fi

# --- Redis -----------------------------------------------------------------------------------------
reply=$(redis_ping "$redis_port")
if [ "$reply" = "+PONG" ]; then
  say "using the Redis already answering on 127.0.0.1:$redis_port"
elif [ -n "$reply" ] || listening "$redis_port"; then
  die "something on 127.0.0.1:$redis_port is not a Redis this script can use (it answered '${reply:-nothing}' to PING). Stop it, or pick another port with REDIS_PORT=..."
else
  say "starting redis-server on 127.0.0.1:$redis_port (no persistence: the cluster keeps nothing there that must survive)"
  mkdir -p "$state/redis"
  "$redis_bin" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$state/redis" >"$logs/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 50); do [ "$(redis_ping "$redis_port")" = "+PONG" ] && break; sleep 0.1; done
  [ "$(redis_ping "$redis_port")" = "+PONG" ] || die "redis-server did not answer; see $logs/redis.log"
fi

# --- the nodes -------------------------------------------------------------------------------------
# Every node gets the same database, Redis, secret and public origin; they share one data directory,
# as production nodes must share <data dir>/attachments (docs/DEPLOY.md).
start_node() {
  local i=$1 demo=$2
  local node_port=$((first_node_port + i - 1))
  local dir=$state/node-$i
  mkdir -p "$dir"
  (
    cd "$dir"
    unset STUDYHALL_NODE_ID # each node makes its own
    DATABASE_URL=$database_url \
    STUDYHALL_REDIS_URL=redis://127.0.0.1:$redis_port \
    STUDYHALL_SECRET=$secret \
    STUDYHALL_LISTEN=127.0.0.1:$node_port \
    STUDYHALL_SITE_ORIGINS=$origin \
    STUDYHALL_TRUST_PROXY_HEADERS=true \
    STUDYHALL_DATA_DIR=$state/files \
    STUDYHALL_SITE_ROOT=$root/target/site \
    STUDYHALL_DEMO_DATA=$demo \
    NO_COLOR=1 \
      exec "$bin"
  ) >"$logs/node-$i.log" 2>&1 &
  node_pids+=($!)
}

wait_healthy() {
  local i=$1 pid=$2 node_port=$((first_node_port + $1 - 1))
  for _ in $(seq 1 600); do
    healthz "$node_port" >/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$logs/node-$i.log" >&2
      die "node $i stopped during start-up; its log: $logs/node-$i.log"
    fi
    sleep 0.1
  done
  tail -n 30 "$logs/node-$i.log" >&2
  die "node $i did not answer /healthz within 60 s; its log: $logs/node-$i.log"
}

# Write the site's brotli twins once, before any node would start doing it in the background.
DATABASE_URL=$database_url STUDYHALL_SECRET=$secret STUDYHALL_DATA_DIR=$state/files \
  STUDYHALL_SITE_ROOT=$root/target/site "$bin" precompress >/dev/null || die "$bin precompress failed"

say "starting $nodes node(s) on 127.0.0.1:$first_node_port-$((first_node_port + nodes - 1)) (PostgreSQL database studyhall_cluster)"
# The first node alone first: it runs the migrations and seeds the demo data on an empty database.
start_node 1 true
wait_healthy 1 "${node_pids[0]}"
for i in $(seq 2 "$nodes"); do start_node "$i" false; done
for i in $(seq 2 "$nodes"); do wait_healthy "$i" "${node_pids[$((i - 1))]}"; done

# --- nginx -----------------------------------------------------------------------------------------
# As root, nginx's workers run as "nobody" and write large uploads under the prefix: it must be
# reachable by that user, which a checkout under /root is not.
prefix=$state/nginx
mkdir -p "$prefix"
if [ "$(id -u)" = 0 ] && ! runuser -u nobody -- test -x "$prefix" 2>/dev/null; then
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/studyhall-cluster-nginx.XXXXXX")
  chmod 755 "$prefix"
fi
upstreams=()
for i in $(seq 1 "$nodes"); do upstreams+=("127.0.0.1:$((first_node_port + i - 1))"); done
deploy/render-nginx.sh "127.0.0.1:$port" "$prefix" "${upstreams[@]}" >"$prefix/nginx.conf"
"$nginx_bin" -t -q -p "$prefix" -c "$prefix/nginx.conf"
say "starting nginx on 127.0.0.1:$port"
"$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" -g 'daemon off;' >"$logs/nginx.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 1 50); do healthz "$port" >/dev/null && break; sleep 0.1; done
healthz "$port" >/dev/null || die "nginx does not answer on $port; see $logs/nginx.log and $prefix/error.log"

# --- the nodes find each other ---------------------------------------------------------------------
connected=0
for _ in $(seq 1 100); do
  connected=1
  for i in $(seq 1 "$nodes"); do
    h=$(healthz $((first_node_port + i - 1))) || { connected=0; break; }
    others=$(grep -o '"other_nodes":\[[^]]*\]' <<<"$h" | sed 's/^[^[]*//' | grep -o '"[^"]*"' | wc -l || true)
    if [ "$(json_field bus "$h")" != redis ] || [ "$others" -ne $((nodes - 1)) ]; then connected=0; fi
  done
  [ "$connected" = 1 ] && break
  sleep 0.1
done
[ "$connected" = 1 ] || warn "not every node hears every other one yet (see /healthz's bus and other_nodes)"

# --- where everything is ---------------------------------------------------------------------------
echo
say "Studyhall runs on $nodes node(s) behind nginx: $origin"
echo "    (use exactly this origin: the nodes refuse changes and WebSockets from any other, e.g. localhost)"
for i in $(seq 1 "$nodes"); do
  node_port=$((first_node_port + i - 1))
  h=$(healthz "$node_port" || true)
  jobs=""
  [ "$(json_field runs_jobs "$h")" = true ] && jobs="  runs the jobs"
  printf '    node %-2s %-12s http://127.0.0.1:%s  pid %-7s log %s%s\n' "$i" "$(json_field node "$h")" \
    "$node_port" "${node_pids[$((i - 1))]}" "${logs#"$root"/}/node-$i.log" "$jobs"
done
echo "    nginx    access and error logs in ${prefix#"$root"/}/ (its output: ${logs#"$root"/}/nginx.log)"
if [ -n "$redis_pid" ]; then
  echo "    redis    started here on 127.0.0.1:$redis_port, pid $redis_pid, log ${logs#"$root"/}/redis.log"
else
  echo "    redis    the one already on 127.0.0.1:$redis_port (left running at the end)"
fi
shown=$database_url
if [[ $shown =~ ^([a-z]+://[^:@/]*):[^@/]*@(.*)$ ]]; then shown="${BASH_REMATCH[1]}:***@${BASH_REMATCH[2]}"; fi
echo "    database $shown"
echo "    demo sign-ins: admin@studyhall.test, mentor.maya@studyhall.test, ana@studyhall.test, ... with the"
echo "             password studyhall-demo (node 1's log lists them all on the run that creates them)"
echo "    Kill a node (kill PID) to watch its users reconnect to the others. Ctrl-C stops everything."

# --- until Ctrl-C: tell when something stops --------------------------------------------------------
declare -A reported=()
while :; do
  wait -n 2>/dev/null || true
  alive=0
  for i in $(seq 1 "$nodes"); do
    pid=${node_pids[$((i - 1))]}
    if kill -0 "$pid" 2>/dev/null; then
      alive=1
    elif [ -z "${reported[$pid]:-}" ]; then
      reported[$pid]=1
      warn "node $i (pid $pid) stopped; the others go on serving. Its log: ${logs#"$root"/}/node-$i.log"
    fi
  done
  if ! kill -0 "$nginx_pid" 2>/dev/null; then
    die "nginx stopped; see $logs/nginx.log and $prefix/error.log"
  fi
  if [ -n "$redis_pid" ] && ! kill -0 "$redis_pid" 2>/dev/null && [ -z "${reported[$redis_pid]:-}" ]; then
    reported[$redis_pid]=1
    warn "the Redis this script started stopped; the nodes go on and catch up from PostgreSQL (see docs/DEPLOY.md)"
  fi
  [ "$alive" = 1 ] || die "every node has stopped"
done
