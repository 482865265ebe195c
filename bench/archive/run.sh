#!/bin/sh
# The 1,000,000-message archive benchmark (make bench-archive): fills
# alice's archive through the store API (build/bench/archive-fill), starts
# a real parleyd on it, logs in over TLS with SCRAM and times MAM queries
# end to end (bench/archive/query.py).  Loopback only; everything lives in
# a temporary directory removed at the end (ARCHIVE_KEEP=1 keeps it).
# ARCHIVE_N (default 1000000) messages, ARCHIVE_RUNS (50) per shape.
set -eu
BUILD=${BUILD:-build}
BINDIR=${BINDIR:-bin}
N=${ARCHIVE_N:-1000000}
RUNS=${ARCHIVE_RUNS:-50}
DIR=$(mktemp -d /tmp/parley-bench-archive.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ "${ARCHIVE_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TLSPORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$DIR/parley.conf" <<CONF
[server]
domain = localhost
data_dir = $DIR/data
[c2s]
listen = 127.0.0.1:$PORT
tls_listen = 127.0.0.1:$TLSPORT
[http]
listen =
[limits]
rate_limits = off
[archive]
max_messages = 2000000
CONF
printf 'bench-pw\n' | "$BINDIR/parleyctl" -c "$DIR/parley.conf" user add alice@localhost >/dev/null
echo "filling $N messages..."
t0=$(date +%s)
"$BUILD/bench/archive-fill" "$DIR/data/parley.db" alice "$N" 20 365
t1=$(date +%s)
echo "filled in $((t1 - t0)) s; database $(du -m "$DIR/data/parley.db" | cut -f1) MB"
"$BINDIR/parleyd" -c "$DIR/parley.conf" >"$DIR/parleyd.log" 2>&1 &
PID=$!
i=0
until grep -q "serving" "$DIR/parleyd.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$DIR/parleyd.log"; exit 1; }
	sleep 0.1
done
/usr/bin/python3 bench/archive/query.py --port "$PORT" --db "$DIR/data/parley.db" --runs "$RUNS"
