#!/bin/sh
# bench/smoke.sh - a short run of every parley-bench scenario against a
# Parley server of its own (bin/parleyd in a temporary directory, free
# loopback ports, limits raised for load), to show the tool works end to
# end.  Prints each scenario's RESULT line; exits non-zero if any failed.
# Takes well under two minutes.  Figures from it are not benchmarks: the
# runs are too short and nothing is pinned to a core.
#
#   sh bench/smoke.sh            (from the repository root, after make)
#   BINDIR=build-asan/bin sh bench/smoke.sh
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINDIR=${BINDIR:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac
USERS=${SMOKE_USERS:-200}
SECS=${SMOKE_SECS:-5}
PW=smoke-secret

for b in parleyd parleyctl parley-bench; do
	if [ ! -x "$BINDIR/$b" ]; then
		echo "smoke: $BINDIR/$b is missing; run make first" >&2
		exit 1
	fi
done

TMP=$(mktemp -d /tmp/parley-smoke.XXXXXX)
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill "$SRV_PID" 2>/dev/null
		i=0
		while kill -0 "$SRV_PID" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free loopback ports: bind port 0 and let the kernel choose.
PORTS=$(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $PORTS
PORT=$1
TLS_PORT=$2

cat > "$TMP/parley.conf" <<EOF
[server]
data_dir = $TMP/var
log_level = warn

[c2s]
listen = 127.0.0.1:$PORT
tls_listen = 127.0.0.1:$TLS_PORT
max_unauth_per_address = 100000
connect_rate = 1000000
max_sessions_per_account = 1000

[auth]
backoff_base_ms = 0
plain = on

[limits]
; load runs would meet the per-account rate limits at once
rate_limits = off

[http]
; no HTTPS port: the benchmark measures XMPP alone
listen =
EOF

echo "smoke: creating $USERS users"
i=0
while [ $i -lt "$USERS" ]; do
	echo "$PW" | "$BINDIR/parleyctl" -c "$TMP/parley.conf" user add \
	    "bench$i" >/dev/null ||
	    { echo "smoke: parleyctl user add bench$i failed" >&2; exit 1; }
	i=$((i + 1))
done

"$BINDIR/parleyd" -c "$TMP/parley.conf" >"$TMP/parleyd.log" 2>&1 &
SRV_PID=$!
i=0
until /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$SRV_PID" 2>/dev/null; then
		echo "smoke: parleyd did not start:" >&2
		cat "$TMP/parleyd.log" >&2
		exit 1
	fi
	sleep 0.1
done
echo "smoke: parleyd pid $SRV_PID on ports $PORT (STARTTLS), $TLS_PORT (TLS)"

FAILED=""
run() {
	name=$1
	shift
	echo "smoke: parley-bench $*"
	"$BINDIR/parley-bench" -q --port "$PORT" --password "$PW" \
	    --server-pid "$SRV_PID" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	cat "$TMP/out"
	if [ $rc -ne 0 ]; then
		echo "smoke: $name FAILED (exit $rc): $(cat "$TMP/err")" >&2
		FAILED="$FAILED $name"
	fi
}

run idle --users "$USERS" --duration 1 idle "$USERS"
run idle-direct-tls --port "$TLS_PORT" --direct-tls --mech PLAIN \
    --users "$USERS" --duration 0 --pings 5 idle 50
run msg-closed --users "$USERS" --duration "$SECS" --window 4 msg
run msg-open --users "$USERS" --duration "$SECS" --rate 5000 \
    --mech SCRAM-SHA-256 --source 127.0.0.1-127.0.0.4 -t 2 msg
run login --users "$USERS" --duration "$SECS" --concurrency 20 login
run setup-roster --users "$USERS" --contacts 10 --duration 60 setup-roster
run presence --users "$USERS" --contacts 10 --duration "$SECS" --rate 200 \
    presence

if ! kill -0 "$SRV_PID" 2>/dev/null; then
	echo "smoke: parleyd died during the run:" >&2
	tail -20 "$TMP/parleyd.log" >&2
	FAILED="$FAILED parleyd"
fi
if [ -n "$FAILED" ]; then
	echo "smoke: FAILED:$FAILED" >&2
	exit 1
fi
echo "smoke: all scenarios ran"
exit 0
