#!/bin/bash
# bench/start-server.sh - start one benchmark server from its run directory
# (made by setup-servers.sh), pinned to one CPU, in the background.
#
#   bash bench/start-server.sh [--workdir DIR] [--cpu N|all] parley|prosody|ejabberd
#
# Waits (at most 60 s) until the server's STARTTLS port accepts connections,
# then prints the PID of the real server process (parleyd; the lua5.4
# process for Prosody; beam.smp for ejabberd) and stores it in
# DIR/NAME/server.pid for stop-server.sh and for parley-bench --server-pid.
# --cpu defaults to 0; 'all' leaves the affinity alone.  Output goes to
# DIR/NAME/stdout.log.  Exits non-zero, having stopped what it started, if the
# server does not come up.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BINDIR=${BINDIR:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac
WORKDIR=${BENCH_WORKDIR:-/tmp/parley-bench-servers}
CPU=0
NAME=

die() { echo "start-server: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--workdir) WORKDIR=$2; shift 2 ;;
	--cpu) CPU=$2; shift 2 ;;
	parley|prosody|ejabberd) NAME=$1; shift ;;
	*) die "usage: start-server.sh [--workdir DIR] [--cpu N|all] parley|prosody|ejabberd" ;;
	esac
done
[ -n "$NAME" ] || die "which server? parley, prosody or ejabberd"
[ -f "$WORKDIR/bench.env" ] || die "$WORKDIR/bench.env missing: run bench/setup-servers.sh first"
# shellcheck disable=SC1091
. "$WORKDIR/bench.env"
D=$WORKDIR/$NAME
[ -d "$D" ] || die "$D missing: run bench/setup-servers.sh --only $NAME"
PIDFILE=$D/server.pid

if [ -f "$PIDFILE" ]; then
	old=$(tr -dc 0-9 <"$PIDFILE")
	if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
		die "$NAME already runs as pid $old (bench/stop-server.sh $NAME)"
	fi
	rm -f "$PIDFILE"
fi

if [ "$CPU" = all ]; then
	PIN=()
else
	case $CPU in ''|*[!0-9,-]*) die "--cpu: a CPU list such as 0, or 'all'" ;; esac
	PIN=(taskset -c "$CPU")
fi

case $NAME in
parley) PORT=$PARLEY_PORT; COMM=parleyd ;;
prosody) PORT=$PROSODY_PORT; COMM=lua5.4 ;;
ejabberd) PORT=$EJABBERD_PORT; COMM=beam.smp ;;
esac
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	die "port $PORT already accepts connections: another server holds it"
fi

LAUNCHER=
case $NAME in
parley)
	[ -x "$BINDIR/parleyd" ] || die "$BINDIR/parleyd missing: run make"
	cd "$D"
	"${PIN[@]}" "$BINDIR/parleyd" -c "$D/parley.conf" >"$D/stdout.log" 2>&1 </dev/null &
	SRV=$!
	;;
prosody)
	# /usr/bin/prosody is a Lua script run by 'env lua5.4', which execs:
	# the PID of this background job is the Lua process itself.  Prosody
	# refuses to run as root; setpriv switches to its user and execs (no
	# fork, so the PID stays the same).
	cd "$D"
	"${PIN[@]}" setpriv --reuid=prosody --regid=prosody --init-groups \
	    /usr/bin/prosody --config "$D/prosody.cfg.lua" -F \
	    >"$D/stdout.log" 2>&1 </dev/null &
	SRV=$!
	;;
ejabberd)
	# ejabberdctl runs erl as the ejabberd user through su: the job's PID
	# is su's, so the beam.smp PID is read from the pid file ejabberd
	# writes (EJABBERD_PID_PATH in the run dir's ejabberdctl.cfg).
	rm -f "$D/ejabberd.pid"
	cd "$D"
	"${PIN[@]}" /usr/sbin/ejabberdctl --ctl-config "$D/ejabberdctl.cfg" \
	    --config-dir "$D" --logs "$D/log" --spool "$D/db" foreground \
	    >"$D/stdout.log" 2>&1 </dev/null &
	LAUNCHER=$!
	SRV=
	;;
esac

# Stops what this script started if the server does not come up.
abort() {
	set +e
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	[ -n "$LAUNCHER" ] && kill "$LAUNCHER" 2>/dev/null
	sleep 1
	[ -n "${SRV:-}" ] && kill -9 "$SRV" 2>/dev/null
	echo "start-server: $NAME: $*; last lines of its logs:" >&2
	tail -n 15 "$D/stdout.log" >&2 2>/dev/null
	[ "$NAME" = prosody ] && tail -n 15 "$D/prosody.log" >&2 2>/dev/null
	[ "$NAME" = ejabberd ] && tail -n 15 "$D/log/ejabberd.log" >&2 2>/dev/null
	exit 1
}

i=0
while :; do
	if [ -z "$SRV" ] && [ -s "$D/ejabberd.pid" ]; then
		SRV=$(tr -dc 0-9 <"$D/ejabberd.pid")
	fi
	if [ -n "$SRV" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		break
	fi
	if [ -n "$SRV" ] && ! kill -0 "$SRV" 2>/dev/null; then
		abort "exited during start"
	fi
	if [ -n "$LAUNCHER" ] && [ -z "$SRV" ] && ! kill -0 "$LAUNCHER" 2>/dev/null; then
		abort "exited during start"
	fi
	i=$((i + 1))
	[ $i -le 600 ] || abort "port $PORT not accepting after 60 s"
	sleep 0.1
done

comm=$(cat "/proc/$SRV/comm" 2>/dev/null || true)
[ "$comm" = "$COMM" ] || abort "pid $SRV is '$comm', expected $COMM"
# su (Prosody, ejabberd) takes the open-files limit from PAM; setup-servers.sh
# raises it for their users.  Say so when a server still runs with less.
soft=$(awk '/^Max open files/ {print $4}' "/proc/$SRV/limits" 2>/dev/null || true)
[ "${soft:-0}" -ge "$(ulimit -Hn)" ] ||
	echo "start-server: $NAME may open only $soft files" >&2
echo "$SRV" >"$PIDFILE"
echo "$SRV"
