#!/bin/sh
# Installs the Debian packages Parley needs to build, run and test, when any
# is missing.  Needs root (apt-get) only when something is missing.
set -e
# libmicrohttpd-dev: the HTTPS upload port (src/http/http.h says why not
# evhttp); clamav-daemon: clamd scans uploads (the tests start their own);
# python3-aiohttp: slixmpp's XEP-0363 plugin uploads with it;
# python3-prometheus-client: its strict OpenMetrics parser checks /metrics.
PKGS="build-essential pkg-config libssl-dev libexpat1-dev libevent-dev
libsqlite3-dev libinih-dev libcmocka-dev libstrophe-dev python3-slixmpp
clang libclang-rt-14-dev libmicrohttpd-dev clamav-daemon python3-aiohttp
python3-prometheus-client"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages and not root; run: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
