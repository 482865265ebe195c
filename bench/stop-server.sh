#!/bin/bash
# bench/stop-server.sh - stop the benchmark server that start-server.sh
# started: exactly the PID in DIR/NAME/server.pid, and only while that PID is
# still the expected program (parleyd, lua5.4, beam.smp), never by name.
#
#   bash bench/stop-server.sh [--workdir DIR] parley|prosody|ejabberd
#
# SIGTERM, then up to 20 s for a clean exit (ejabberd's VM shuts down its
# applications on SIGTERM), then SIGKILL.  Exits 0 when the server is not
# running (any more).
set -eu

WORKDIR=${BENCH_WORKDIR:-/tmp/parley-bench-servers}
NAME=
die() { echo "stop-server: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
	case $1 in
	--workdir) WORKDIR=$2; shift 2 ;;
	parley|prosody|ejabberd) NAME=$1; shift ;;
	*) die "usage: stop-server.sh [--workdir DIR] parley|prosody|ejabberd" ;;
	esac
done
[ -n "$NAME" ] || die "which server? parley, prosody or ejabberd"
case $NAME in
parley) COMM=parleyd ;;
prosody) COMM=lua5.4 ;;
ejabberd) COMM=beam.smp ;;
esac
PIDFILE=$WORKDIR/$NAME/server.pid
[ -f "$PIDFILE" ] || { echo "stop-server: $NAME: no pid file, not running"; exit 0; }
PID=$(tr -dc 0-9 <"$PIDFILE")
if [ -z "$PID" ] || ! kill -0 "$PID" 2>/dev/null; then
	rm -f "$PIDFILE"
	echo "stop-server: $NAME: not running"
	exit 0
fi
comm=$(cat "/proc/$PID/comm" 2>/dev/null || true)
if [ "$comm" != "$COMM" ]; then
	rm -f "$PIDFILE"
	die "$NAME: pid $PID is now '$comm', not $COMM: left alone"
fi
kill -TERM "$PID"
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$PID" 2>/dev/null; then
	echo "stop-server: $NAME: pid $PID ignored SIGTERM for 20 s, sending SIGKILL" >&2
	kill -KILL "$PID" 2>/dev/null || true
	sleep 0.5
fi
rm -f "$PIDFILE"
echo "stop-server: $NAME (pid $PID) stopped"
