#!/usr/bin/env bash
# Makes sure the named programs are installed: installs the Debian packages of the missing ones, and
# says nothing when all are there.
#
#   scripts/ensure-programs.sh redis-server nginx      # what the cluster tests need (scripts/test.sh)
#
# Known programs: redis-server, nginx, psql, curl, shellcheck. The cluster tests start their own
# redis-server and nginx processes on free loopback ports, so only the programs must exist: no service
# is needed, used or stopped. The tests look for them on PATH, then in /usr/sbin, /usr/local/sbin and
# /sbin, where Debian puts nginx (on root's PATH, not always on other users'); so does this script.
# Where installing a package also starts its service (a machine with systemd), Debian's nginx then
# serves its default page on port 80 and redis-server runs on 127.0.0.1:6379.
set -euo pipefail

package_of() {
  case $1 in
    redis-server) echo redis-server ;;
    nginx) echo nginx ;;
    psql) echo postgresql-client ;;
    curl) echo curl ;;
    shellcheck) echo shellcheck ;;
    *) return 1 ;;
  esac
}

installed() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
packages=()
for program in "$@"; do
  installed "$program" && continue
  if ! package=$(package_of "$program"); then
    echo "ensure-programs.sh: no Debian package known for '$program'" >&2
    exit 2
  fi
  missing+=("$program")
  packages+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "${missing[*]} missing and this is not a Debian-like machine: install ${packages[*]} (or your system's equivalent) and run this again." >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
echo "==> installing ${packages[*]} from Debian's packages (for ${missing[*]})" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
for program in "${missing[@]}"; do
  installed "$program" || { echo "$program is still missing after installing its package." >&2; exit 1; }
done
