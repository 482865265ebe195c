#!/bin/bash
# bench/compare.sh - Parley, Prosody and ejabberd (and the bare TLS relay
# for messages) under the same parley-bench scenarios, in one run.
#
#   bash bench/compare.sh [--runs 3] [--duration 10] [--users 1000]
#       [--contacts 4] [--servers "parley prosody ejabberd"] [--no-relay] [OUT]
#
# Per server and run: idle (RSS per session), msg closed loop (the
# server's maximum rate and CPU per message), the highest open-loop rate
# it sustains (open_max) and an open-loop run at half of it (latency
# under ordinary load), login, and
# presence (every user with --contacts mutual contacts, users going off
# and on line; rosters are made once by setup-roster and kept).
#
# Needs bench/setup-servers.sh to have run with at least --users accounts.
# Each server is started pinned to CPU 0 and the generator runs pinned to
# CPU 1; each figure is measured --runs times and the table gives the
# median and the spread (min-max).  RESULT lines go to OUT (default
# bench-results.txt) and the table to stdout.  Loopback only; every run is
# bounded by --duration; only PIDs started here are stopped.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3 DUR=10 USERS=1000 CONTACTS=4 OUT=bench-results.txt
SERVERS="parley prosody ejabberd" RELAY=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=$2; shift 2 ;;
	--duration) DUR=$2; shift 2 ;;
	--users) USERS=$2; shift 2 ;;
	--contacts) CONTACTS=$2; shift 2 ;;
	--servers) SERVERS=$2; shift 2 ;;
	--no-relay) RELAY=0; shift ;;
	*) OUT=$1; shift ;;
	esac
done
WORKDIR=${BENCH_WORKDIR:-/tmp/parley-bench-servers}
# shellcheck disable=SC1091
. "$WORKDIR/bench.env"
B=$ROOT/bin/parley-bench
GEN=(taskset -c 1 "$B" --password "$BENCH_PASSWORD" --domain "$BENCH_DOMAIN"
	--users "$USERS" -q --scram-cache "$WORKDIR/scram.cache")
: >"$OUT"

LAST=
run() {		# server port pid scenario args...
	local name=$1 port=$2 pid=$3; shift 3
	local line
	line=$("${GEN[@]}" --port "$port" --server-pid "$pid" "$@" | grep '^RESULT' || true)
	echo "server=$name $line" | tee -a "$OUT" >&2
	LAST=$line
}

# The highest open-loop rate the server sustains: from a quarter of its
# closed-loop rate (the last RESULT), up by a quarter each step (3 s),
# until a step delivers less than 98 % of what was offered or its median
# latency passes 10 ms (a queue building up).  Prints the last good rate.
open_max() {		# port pid
	local port=$1 pid=$2 rate good=0 line got p50 i
	rate=$(sed -n 's/.* msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$LAST")
	rate=$(awk -v r="${rate:-4000}" 'BEGIN { print int(r / 4) }')
	for i in 1 2 3 4 5 6 7 8 9 10; do
		line=$("${GEN[@]}" --port "$port" --server-pid "$pid" \
		    --duration 3 --rate "$rate" msg | grep '^RESULT' || true)
		got=$(sed -n 's/.* msgs_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
		p50=$(sed -n 's/.* lat_p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
		awk -v g="${got:-0}" -v r="$rate" -v l="${p50:-999}" \
		    'BEGIN { exit !(g >= 0.98 * r && l < 10) }' || break
		good=$rate
		rate=$(awk -v r="$rate" 'BEGIN { print int(r * 1.25) }')
	done
	echo "$good"
}

for name in $SERVERS; do
	case $name in
	parley) port=$PARLEY_PORT ;;
	prosody) port=$PROSODY_PORT ;;
	ejabberd) port=$EJABBERD_PORT ;;
	esac
	for r in $(seq "$RUNS"); do
		pid=$(bash "$ROOT/bench/start-server.sh" --cpu 0 "$name")
		run "$name" "$port" "$pid" idle "$USERS" --duration 2
		run "$name" "$port" "$pid" --duration "$DUR" --window 4 msg
		max=$(open_max "$port" "$pid")
		echo "server=$name RESULT scenario=openmax rate=$max" | tee -a "$OUT" >&2
		run "$name" "$port" "$pid" --duration "$DUR" \
		    --rate "$(( max > 2000 ? max / 2 : 1000 ))" msg
		run "$name" "$port" "$pid" --duration "$DUR" --concurrency 20 login
		if [ "$CONTACTS" -gt 0 ]; then
			if [ "$r" = 1 ] && ! "${GEN[@]}" --port "$port" \
			    --contacts "$CONTACTS" --duration 600 \
			    setup-roster >/dev/null; then
				echo "compare: $name: rosters incomplete" >&2
			fi
			run "$name" "$port" "$pid" --duration "$DUR" \
			    --contacts "$CONTACTS" --rate 200 presence
		fi
		bash "$ROOT/bench/stop-server.sh" "$name" >/dev/null
	done
done
# The hardware limit for the message shape: the relay, unbatched.
make -s -C "$ROOT/bench/relay" >/dev/null
[ "$RELAY" = 1 ] || RUNS=0
for mode in relay relay-batched; do
	flag=
	[ "$mode" = relay-batched ] && flag=--batch
	for r in $(seq "$RUNS"); do
		# shellcheck disable=SC2086
		taskset -c 0 "$ROOT/bench/relay/parley-relay" $flag \
		    --listen "127.0.0.1:$RELAY_PORT" \
		    --cert "$BENCH_CERT" --key "$BENCH_KEY" >/dev/null 2>&1 &
		rpid=$!
		sleep 0.5
		run "$mode" "$RELAY_PORT" "$rpid" --mech PLAIN --duration "$DUR" \
		    --window 4 msg
		kill "$rpid"
		wait "$rpid" 2>/dev/null || true
	done
done

/usr/bin/python3 "$ROOT/bench/table.py" "$OUT"
