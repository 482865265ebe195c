#!/bin/bash
# bench/idle-max.sh - how many idle TLS sessions Parley holds within the
# per-process limit of open files, and whether another user's ping is
# still answered quickly meanwhile.
#
#   bash bench/idle-max.sh [SESSIONS]        (default 19000)
#
# Needs bench/setup-servers.sh (accounts, certificate, parley.conf with
# max_sessions_per_account = 1000).  Starts parleyd pinned to CPU 0, holds
# SESSIONS sessions from 20 loopback source addresses (the ephemeral port
# range of one address would not suffice), pings 50 times from an extra
# session, holds for 12 s (idle sessions free their parser after 5 s), and
# prints parley-bench's report: RSS per session and the ping round trips.
# Stops the parleyd it started, by PID.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-19000}
WORKDIR=${BENCH_WORKDIR:-/tmp/parley-bench-servers}
# shellcheck disable=SC1091
. "$WORKDIR/bench.env"
pid=$(bash "$ROOT/bench/start-server.sh" --cpu 0 parley)
trap 'bash "$ROOT/bench/stop-server.sh" parley >/dev/null' EXIT
taskset -c 1 "$ROOT/bin/parley-bench" --password "$BENCH_PASSWORD" \
    --domain "$BENCH_DOMAIN" --port "$PARLEY_PORT" --users "$BENCH_USERS" \
    --source 127.0.0.1-127.0.0.20 --scram-cache "$WORKDIR/scram.cache" \
    --server-pid "$pid" --duration 12 --pings 50 idle "$N"
