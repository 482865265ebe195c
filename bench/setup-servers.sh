#!/bin/bash
# bench/setup-servers.sh - prepare Parley, Prosody and ejabberd for a
# side-by-side benchmark on this machine (issue 4).  Run as root.
#
#   bash bench/setup-servers.sh [--users N] [--password PW] [--workdir DIR]
#                               [--only parley,prosody,ejabberd] [--no-install]
#
# 1. Installs Debian 12's prosody and ejabberd packages if missing, without
#    letting them start as system services (a temporary policy-rc.d denies
#    the start during the install), then makes sure the packaged services
#    are stopped and disabled (systemd when it runs, otherwise the SysV
#    scripts; a packaged daemon still running is stopped by its own init
#    script and, failing that, by the PID in its own pid file, never by name).
# 2. Creates DIR (default /tmp/parley-bench-servers) with one ECDSA P-256
#    certificate for 'localhost' (cert/), and one private run directory per
#    server (parley/, prosody/, ejabberd/) holding its configuration: loopback
#    listeners only, TLS required, SCRAM with 4096 iterations, the server's
#    own rate limits and shapers off, no offline/MAM/extra modules except
#    what README.md lists.
# 3. Creates the same accounts bench0..bench(N-1) with one password on each,
#    in bulk (see README.md for how and how long), and times it.
# 4. Writes DIR/bench.env (ports, users, password) for start-server.sh,
#    stop-server.sh and the runner scripts.
#
# Ports (loopback only) come from the environment, with these defaults:
#   PARLEY_PORT=28222   PARLEY_TLS_PORT=28223
#   PROSODY_PORT=28322  PROSODY_TLS_PORT=28323
#   EJABBERD_PORT=28422 EJABBERD_TLS_PORT=28423 EJABBERD_DIST_PORT=28429
#   RELAY_PORT=28522
# Servers of an earlier setup in DIR that are still running are stopped first
# (by their pid files, see stop-server.sh).  Everything bounded: no step waits
# more than a minute or so.
set -eu
set -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BINDIR=${BINDIR:-$ROOT/bin}
case $BINDIR in /*) ;; *) BINDIR=$ROOT/$BINDIR ;; esac

USERS=${BENCH_USERS:-1000}
PASSWORD=${BENCH_PASSWORD:-bench-secret}
WORKDIR=${BENCH_WORKDIR:-/tmp/parley-bench-servers}
ONLY=parley,prosody,ejabberd
INSTALL=1
SCRAM_ITER=4096

die() { echo "setup-servers: $*" >&2; exit 1; }
say() { echo "setup-servers: $*"; }

while [ $# -gt 0 ]; do
	case $1 in
	--users) USERS=$2; shift 2 ;;
	--password) PASSWORD=$2; shift 2 ;;
	--workdir) WORKDIR=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--no-install) INSTALL=0; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case $USERS in ''|*[!0-9]*) die "--users must be a number" ;; esac
[ "$USERS" -ge 1 ] && [ "$USERS" -le 100000 ] || die "--users must be 1..100000"
case $PASSWORD in *[!A-Za-z0-9._-]*|'') die "--password: use [A-Za-z0-9._-] only" ;; esac
case $WORKDIR in /*) ;; *) WORKDIR=$(pwd)/$WORKDIR ;; esac
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and runs servers as their users)"
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

PARLEY_PORT=${PARLEY_PORT:-28222}
PARLEY_TLS_PORT=${PARLEY_TLS_PORT:-28223}
PROSODY_PORT=${PROSODY_PORT:-28322}
PROSODY_TLS_PORT=${PROSODY_TLS_PORT:-28323}
EJABBERD_PORT=${EJABBERD_PORT:-28422}
EJABBERD_TLS_PORT=${EJABBERD_TLS_PORT:-28423}
EJABBERD_DIST_PORT=${EJABBERD_DIST_PORT:-28429}
RELAY_PORT=${RELAY_PORT:-28522}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- packages
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stops a packaged daemon that is running as a system service.  $1 service
# name, $2 its pid file (from the package's own configuration).
stop_packaged() {
	local svc=$1 pidfile=$2 pid=
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl disable --now "$svc" >/dev/null 2>&1 || true
	else
		# Not booted with systemd: keep it from starting at boot both ways.
		command -v update-rc.d >/dev/null &&
		    update-rc.d "$svc" disable >/dev/null 2>&1 || true
		command -v systemctl >/dev/null &&
		    systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
	[ -f "$pidfile" ] && pid=$(head -n1 "$pidfile" | tr -dc 0-9)
	if pid_alive "$pid"; then
		say "stopping the packaged $svc service (pid $pid)"
		timeout 60 service "$svc" stop >/dev/null 2>&1 || true
		local i=0
		while pid_alive "$pid" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		if pid_alive "$pid"; then
			kill "$pid" 2>/dev/null || true
			sleep 2
			pid_alive "$pid" && kill -9 "$pid" 2>/dev/null || true
		fi
	fi
}

install_packages() {
	local missing="" p ours=0
	for p in prosody ejabberd; do
		want "$p" || continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		    missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		[ "$INSTALL" = 1 ] || die "missing packages:$missing (drop --no-install)"
		say "installing$missing (services kept from starting)"
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\n# parley bench/setup-servers.sh: no service starts during install\nexit 101\n' \
			    >/usr/sbin/policy-rc.d
			chmod 755 /usr/sbin/policy-rc.d
			ours=1
		fi
		local rc=0
		{ apt-get install -y --no-install-recommends $missing ||
		  { apt-get update && apt-get install -y --no-install-recommends $missing; }; } \
		    >"$WORKDIR/apt.log" 2>&1 || rc=$?
		[ $ours = 1 ] && rm -f /usr/sbin/policy-rc.d
		[ $rc = 0 ] || { tail -20 "$WORKDIR/apt.log" >&2; die "apt-get install failed"; }
	fi
	want prosody && stop_packaged prosody /run/prosody/prosody.pid
	want ejabberd && stop_packaged ejabberd /run/ejabberd/ejabberd.pid
	return 0
}

# ---------------------------------------------------------------- start
mkdir -p "$WORKDIR"
chmod 755 "$WORKDIR"

# Servers of an earlier setup here must not hold the ports or files.
for s in parley prosody ejabberd; do
	want "$s" || continue
	if [ -f "$WORKDIR/$s/server.pid" ]; then
		bash "$BENCH/stop-server.sh" --workdir "$WORKDIR" "$s" || true
	fi
done

install_packages

# Prosody and ejabberd are started through su, whose PAM session resets
# the open-files limit to 1024: too few for the idle scenario.  Give their
# users this machine's hard limit (Parley raises its own soft limit).
HARD_NOFILE=$(ulimit -Hn)
if [ -d /etc/security/limits.d ]; then
	cat >/etc/security/limits.d/parley-bench.conf <<LIM
# written by parley's bench/setup-servers.sh
prosody  soft nofile $HARD_NOFILE
prosody  hard nofile $HARD_NOFILE
ejabberd soft nofile $HARD_NOFILE
ejabberd hard nofile $HARD_NOFILE
LIM
fi
if want parley; then
	for b in parleyd parleyctl; do
		[ -x "$BINDIR/$b" ] || die "$BINDIR/$b is missing: run 'make' first"
	done
fi

# Refuse to set up on ports some other program already listens on.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for p in $( { want parley && echo "$PARLEY_PORT $PARLEY_TLS_PORT"
	      want prosody && echo "$PROSODY_PORT $PROSODY_TLS_PORT"
	      want ejabberd && echo "$EJABBERD_PORT $EJABBERD_TLS_PORT $EJABBERD_DIST_PORT"; } || true); do
	port_busy "$p" && die "port $p on 127.0.0.1 is already in use (set the *_PORT variables)"
done

# ---------------------------------------------------------------- cert
CERT=$WORKDIR/cert/cert.pem
KEY=$WORKDIR/cert/key.pem
mkdir -p "$WORKDIR/cert"
if [ ! -s "$CERT" ] || [ ! -s "$KEY" ]; then
	say "making an ECDSA P-256 certificate for 'localhost'"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$KEY" -out "$CERT" -days 3650 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost" >/dev/null 2>&1 ||
	    die "openssl could not make the certificate"
fi
chmod 644 "$CERT"
chmod 600 "$KEY"

# $1 dir, $2 owner: a copy of the shared cert and key the server can read
# after it drops root (the same certificate for all three servers).
copy_cert() {
	install -m 644 -o "$2" "$CERT" "$1/cert.pem"
	install -m 600 -o "$2" "$KEY" "$1/key.pem"
}

cat >"$WORKDIR/bench.env" <<EOF
# written by bench/setup-servers.sh; sourced by start-server.sh and friends
BENCH_WORKDIR=$WORKDIR
BENCH_USERS=$USERS
BENCH_PASSWORD=$PASSWORD
BENCH_DOMAIN=localhost
BENCH_CERT=$CERT
BENCH_KEY=$KEY
PARLEY_PORT=$PARLEY_PORT
PARLEY_TLS_PORT=$PARLEY_TLS_PORT
PROSODY_PORT=$PROSODY_PORT
PROSODY_TLS_PORT=$PROSODY_TLS_PORT
EJABBERD_PORT=$EJABBERD_PORT
EJABBERD_TLS_PORT=$EJABBERD_TLS_PORT
EJABBERD_DIST_PORT=$EJABBERD_DIST_PORT
RELAY_PORT=$RELAY_PORT
EOF

TIMES=""

# ---------------------------------------------------------------- parley
setup_parley() {
	local d=$WORKDIR/parley
	rm -rf "$d"
	mkdir -p "$d"
	copy_cert "$d" root
	cat >"$d/parley.conf" <<EOF
; written by bench/setup-servers.sh: Parley for the side-by-side benchmark
[server]
domain = localhost
data_dir = $d/var
log_level = warn

[c2s]
listen = 127.0.0.1:$PARLEY_PORT
tls_listen = 127.0.0.1:$PARLEY_TLS_PORT
max_unauth_per_address = 100000
connect_rate = 1000000
max_sessions_per_account = 1000

[tls]
cert = $d/cert.pem
key = $d/key.pem

[auth]
; PLAIN on, as Prosody and ejabberd offer it over TLS by default
plain = on
scram_iterations = $SCRAM_ITER
backoff_base_ms = 0

[limits]
max_stanza_size = 262144
rate_limits = off

[http]
; no HTTPS port: the benchmark measures XMPP alone
listen =
EOF
	say "parley: creating $USERS accounts with parleyctl"
	local t0 i
	t0=$(now)
	# One parleyctl per account (it has no bulk mode); the first one alone
	# (it creates the database), then a few in parallel.
	echo "$PASSWORD" | "$BINDIR/parleyctl" -c "$d/parley.conf" user add bench0 \
	    >/dev/null || die "parley: parleyctl user add bench0 failed"
	seq 1 $((USERS - 1)) | xargs -P 4 -I{} sh -c \
	    'echo "$2" | "$1" -c "$3" user add "bench{}" >/dev/null' _ \
	    "$BINDIR/parleyctl" "$PASSWORD" "$d/parley.conf" ||
	    die "parley: parleyctl user add failed"
	i=$("$BINDIR/parleyctl" -c "$d/parley.conf" user list | grep -c '^bench' || true)
	[ "$i" = "$USERS" ] || die "parley: $i accounts listed, wanted $USERS"
	TIMES="$TIMES parley=$(elapsed "$t0")s"
}

# ---------------------------------------------------------------- prosody
setup_prosody() {
	local d=$WORKDIR/prosody
	rm -rf "$d"
	mkdir -p "$d/data" "$d/certs"
	copy_cert "$d" prosody
	cat >"$d/prosody.cfg.lua" <<EOF
-- written by bench/setup-servers.sh: Prosody for the side-by-side benchmark
pidfile = "$d/prosody.pid"
data_path = "$d/data"
log = { { levels = { min = "warn" }, to = "file", filename = "$d/prosody.log" } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }
c2s_ports = { $PROSODY_PORT }
c2s_direct_tls_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { $PROSODY_TLS_PORT }
s2s_ports = { }
network_backend = "epoll"
-- listen(2) backlog as Parley's, so bursts of logins are not refused; and
-- TCP_NODELAY as the others (Prosody's default Nagle adds ~40 ms per hop)
network_settings = { tcp_backlog = 511; nagle = false }

-- Only what the other two servers have as well.  Not loaded, unlike
-- Prosody's example config: limits (rate limits), offline, s2s, register,
-- carbons, pep, vcard, mam, smacks, csi, http, admin_*.
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping" }
modules_disabled = { "offline", "s2s", "s2s_auth_certs" }

authentication = "internal_hashed"
storage = "internal"
default_iteration_count = $SCRAM_ITER
allow_registration = false
c2s_require_encryption = true
s2s_require_encryption = true
c2s_stanza_size_limit = 262144

ssl = {
	certificate = "$d/cert.pem";
	key = "$d/key.pem";
	protocol = "tlsv1_2+";
}

VirtualHost "localhost"
	ssl = {
		certificate = "$d/cert.pem";
		key = "$d/key.pem";
		protocol = "tlsv1_2+";
	}
EOF
	say "prosody: creating $USERS accounts (storage files written directly)"
	local t0
	t0=$(now)
	# prosodyctl register costs ~0.5 s per account (one Lua start each), so
	# the accounts are written in Prosody's internal_hashed format instead:
	# data/localhost/accounts/USER.dat = SCRAM-SHA-1 stored_key, server_key
	# (hex), salt, iteration_count, exactly what mod_auth_internal_hashed
	# writes.  bench0 is then checked with prosodyctl itself below.
	/usr/bin/python3 - "$d/data/localhost/accounts" "$USERS" "$PASSWORD" "$SCRAM_ITER" <<'PY'
import hashlib, hmac, os, sys, uuid
out, n, pw, it = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
os.makedirs(out, exist_ok=True)
for i in range(n):
    salt = str(uuid.uuid4()).encode()      # Prosody's salts are UUIDs too
    sp = hashlib.pbkdf2_hmac("sha1", pw, salt, it)
    ck = hmac.new(sp, b"Client Key", "sha1").digest()
    sk = hmac.new(sp, b"Server Key", "sha1").digest()
    stored = hashlib.sha1(ck).hexdigest()
    with open(os.path.join(out, "bench%d.dat" % i), "w") as f:
        f.write('return {\n\t["iteration_count"] = %d;\n\t["salt"] = "%s";\n'
                '\t["server_key"] = "%s";\n\t["stored_key"] = "%s";\n};\n'
                % (it, salt.decode(), sk.hex(), stored))
PY
	chown -R prosody:prosody "$d"
	chmod 750 "$d/data"
	# Check one account with Prosody's own code (prosodyctl check of the
	# password through mod_auth_internal_hashed).
	cat >"$d/check-account.lua" <<'LUA'
-- bench/setup-servers.sh: checks bench0's stored SCRAM keys with Prosody's code
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local data, pw = arg[1], arg[2]
local dm = require "util.datamanager"
local hex = require "util.hex"
local scram = require "util.sasl.scram"
dm.set_data_path(data)
local acc = dm.load("bench0", "localhost", "accounts")
if not acc then print("no account file") return end
local ok, stored, server = scram.getAuthenticationDatabaseSHA1(pw, acc.salt, acc.iteration_count)
print(ok and hex.encode(stored) == acc.stored_key
      and hex.encode(server) == acc.server_key and "ok" or "mismatch")
LUA
	local ok
	ok=$(timeout 60 lua5.4 "$d/check-account.lua" "$d/data" "$PASSWORD" 2>&1) || true
	[ "$ok" = ok ] || die "prosody: bench0's stored keys do not check out with Prosody's code: $ok"
	TIMES="$TIMES prosody=$(elapsed "$t0")s"
}

# ---------------------------------------------------------------- ejabberd
setup_ejabberd() {
	local d=$WORKDIR/ejabberd
	rm -rf "$d"
	mkdir -p "$d/db" "$d/log"
	copy_cert "$d" ejabberd
	cat >"$d/ejabberd.yml" <<EOF
# written by bench/setup-servers.sh: ejabberd for the side-by-side benchmark
hosts:
  - localhost
loglevel: warning
log_rotate_count: 0
certfiles:
  - "$d/cert.pem"
  - "$d/key.pem"
acme:
  auto: false
define_macro:
  TLS_OPTS: [no_sslv2, no_sslv3, no_tlsv1, no_tlsv1_1]
c2s_protocol_options: TLS_OPTS
listen:
  -
    port: $EJABBERD_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    shaper: none
    max_stanza_size: 262144
    max_fsm_queue: 1000000
    backlog: 511
    access: c2s
  -
    port: $EJABBERD_TLS_PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    tls: true
    shaper: none
    max_stanza_size: 262144
    max_fsm_queue: 1000000
    backlog: 511
    access: c2s
s2s_access: none
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha
default_db: mnesia
max_fsm_queue: 1000000
shaper_rules:
  c2s_shaper: none
  max_user_sessions: 1000
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
# Only what the other two servers have as well: no mod_offline, mod_mam,
# mod_fail2ban, mod_stream_mgmt, mod_carboncopy, mod_pubsub, mod_register,
# mod_http_*, mod_vcard, mod_last, mod_caps, ...
modules:
  mod_roster: {}
  mod_disco: {}
  mod_ping: {}
EOF
	# The ejabberdctl settings of this instance: no epmd (the node listens
	# for its ctl clients on EJABBERD_DIST_PORT on loopback only), pid file
	# and logs here, schedulers that sleep instead of spinning when idle
	# (busy-waiting would be counted as CPU time per message).
	cat >"$d/ejabberdctl.cfg" <<EOF
ERLANG_NODE=ejbench@localhost
ERL_DIST_PORT=$EJABBERD_DIST_PORT
INET_DIST_INTERFACE=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 +sbwt none +sbwtdcpu none +sbwtdio none"
EJABBERD_PID_PATH=$d/ejabberd.pid
EJABBERD_CONFIG_PATH=$d/ejabberd.yml
SPOOL_DIR=$d/db
LOGS_DIR=$d/log
EJABBERD_BYPASS_WARNINGS=true
EOF
	cp /etc/ejabberd/inetrc "$d/inetrc"
	chown -R ejabberd:ejabberd "$d"
	say "ejabberd: creating $USERS accounts (one rpc client, ejabberd_auth:try_register)"
	local t0 out
	t0=$(now)
	bash "$BENCH/start-server.sh" --workdir "$WORKDIR" --cpu all ejabberd >/dev/null ||
	    die "ejabberd: could not start it to create the accounts"
	# `ejabberdctl register` starts one Erlang VM per account (~1 s each),
	# so one VM registers them all over the node's own ctl port.
	out=$(cd "$d/db" && timeout 600 su -s /bin/sh ejabberd -c '
		exec erl -sname "regctl$$@localhost" -hidden -noinput \
		    -erl_epmd_port "$0" -start_epmd false -dist_listen false \
		    -eval "
			N = $1, Pw = <<\"$2\">>, Node = '\''ejbench@localhost'\'',
			Bad = lists:filter(fun(I) ->
				U = list_to_binary(\"bench\" ++ integer_to_list(I)),
				R = rpc:call(Node, ejabberd_auth, try_register,
					     [U, <<\"localhost\">>, Pw]),
				not (R =:= ok orelse R =:= {error, exists})
			end, lists:seq(0, N - 1)),
			io:format(\"~p~n\", [length(Bad)]),
			halt(0)."' \
		    "$EJABBERD_DIST_PORT" "$USERS" "$PASSWORD" 2>&1) || true
	bash "$BENCH/stop-server.sh" --workdir "$WORKDIR" ejabberd >/dev/null || true
	[ "$out" = 0 ] || die "ejabberd: registering accounts failed: $out"
	TIMES="$TIMES ejabberd=$(elapsed "$t0")s(incl.start/stop)"
}

want parley && setup_parley
want prosody && setup_prosody
want ejabberd && setup_ejabberd
say "accounts bench0..bench$((USERS - 1)) (password in $WORKDIR/bench.env) created in:$TIMES"
say "ready in $WORKDIR; start one with: bash bench/start-server.sh parley|prosody|ejabberd"
