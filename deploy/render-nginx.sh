#!/usr/bin/env bash
# Renders deploy/nginx.conf.template to standard output.
#
#   deploy/render-nginx.sh LISTEN PREFIX NODE...
#
# LISTEN is what nginx listens on (127.0.0.1:8080, 80, ...); PREFIX is an absolute directory for its pid
# file, logs and temporary files; each NODE is a Studyhall node's HOST:PORT. For example:
#
#   deploy/render-nginx.sh 127.0.0.1:8080 /srv/studyhall/nginx 127.0.0.1:3101 127.0.0.1:3102 > nginx.conf
#   nginx -t -p /srv/studyhall/nginx -c "$PWD/nginx.conf"
#
# A node is skipped after 2 failures within 5 s, for 5 s (MAX_FAILS and FAIL_TIMEOUT override that).
set -euo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
listen=$1 prefix=$2
shift 2
max_fails=${MAX_FAILS:-2}
fail_timeout=${FAIL_TIMEOUT:-5s}

case $prefix in
  /*) ;;
  *) echo "render-nginx.sh: PREFIX must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
prefix=${prefix%/}
valid='^[][A-Za-z0-9_.:/-]+$'
for value in "$listen" "$prefix" "$@" "$max_fails" "$fail_timeout"; do
  if ! [[ $value =~ $valid ]]; then
    echo "render-nginx.sh: '$value' has characters that do not belong in an address or a path" >&2
    exit 2
  fi
done

upstreams=""
for node in "$@"; do
  [ -z "$upstreams" ] || upstreams+=$'\n        '
  upstreams+="server $node max_fails=$max_fails fail_timeout=$fail_timeout;"
done

template="$(dirname "$0")/nginx.conf.template"
text=$(<"$template")
# Quoted replacements: never read as patterns, and no & expansion (bash 5.2).
text=${text//@LISTEN@/"$listen"}
text=${text//@PREFIX@/"$prefix"}
text=${text//@UPSTREAMS@/"$upstreams"}
if [[ $text =~ @[A-Z_]+@ ]]; then
  echo "render-nginx.sh: $template has a placeholder this script does not know: ${BASH_REMATCH[0]}" >&2
  exit 1
fi
printf '# Rendered from deploy/nginx.conf.template by deploy/render-nginx.sh: change the template, not this.\n'
printf '%s\n' "$text"
