#!/bin/sh
# deps.sh - install the Debian 12 packages that building, testing and the
# demo need (make deps).  Installs only what is missing; needs root (or sudo).
set -eu
PKGS="gcc g++ make libc6-dev pkg-config libcmocka-dev libunwind-dev libzstd-dev
      libdw-dev libelf-dev
      python3 python3.11-dev libpython3.11-testsuite sqlite3 git perl xz-utils
      redis-server redis-tools valgrind liblsan0 libjemalloc2 libmimalloc2.0
      libtcmalloc-minimal4 heaptrack google-perftools chromium
      clang libclang-rt-14-dev zlib1g-dev golang-go python3-jsonschema"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo > /dev/null || { echo "deps: need root to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing > /dev/null
# Debian starts redis-server as a service on install; the tests run their own
if command -v systemctl > /dev/null 2>&1; then
	$SUDO systemctl disable --now redis-server > /dev/null 2>&1 || true
fi
echo "deps: done"
