/*
 * main.c - parley-bench: options, limits, TLS set-up, the watchdog.
 *
 * The generator only ever targets a server on this machine (loopback):
 * it can open thousands of connections per second and must not be
 * pointed at someone else's server by a typo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

#define MAX_SOURCES	1024
#define FD_RESERVE	64	/* stdio, epoll, /proc reads, per-thread fds */

struct opts opt;
SSL_CTX *tls_ctx;

static void usage(FILE *f)
{
	fprintf(f,
"usage: parley-bench [options] SCENARIO\n"
"scenarios:\n"
"  idle N          hold N sessions; connect rate, server RSS per session,\n"
"                  ping latency of one more session while N are held\n"
"  msg             pairs exchange 1:1 messages (closed loop with --window,\n"
"                  or open loop with --rate); throughput, latency, losses\n"
"  login           full logins per second at --concurrency\n"
"  setup-roster    give each user --contacts mutual ('both') contacts\n"
"  presence        users go unavailable/available at --rate per second;\n"
"                  presence stanzas delivered per second\n"
"target:\n"
"  --host ADDR           loopback address of the server (127.0.0.1)\n"
"  --port N              5222, or 5223 with --direct-tls\n"
"  --direct-tls          TLS from the first byte (XEP-0368), not STARTTLS\n"
"  --domain D            the server's XMPP domain (localhost)\n"
"  --user-pattern P      account localpart, %%d = user number (bench%%d)\n"
"  --password PW         password of every account (secret)\n"
"  --user-offset K       first user number (0)\n"
"  --users N             number of users (see docs/BENCH-TOOL.md)\n"
"  --mech M              SCRAM-SHA-1 (default), SCRAM-SHA-256 or PLAIN\n"
"  --source LIST         loopback source addresses: A-B range or A,B,...\n"
"  --server-pid PID      read the server's CPU and RSS from /proc\n"
"load:\n"
"  -t, --threads N       worker threads, one event loop each (1)\n"
"  --duration S          measured seconds (10; idle: hold time, 2;\n"
"                        setup-roster: time limit, 120)\n"
"  --warmup S            unmeasured load before measuring (msg: 1, else 0)\n"
"  --drain S             msg: wait this long for messages in flight (5)\n"
"  --concurrency C       logins in progress at once (login: 20, else 100)\n"
"  --window W            msg closed loop: messages in flight per sender (4)\n"
"  --rate R              msg: total msgs/s (open loop); presence: toggles/s\n"
"  --body-size B         msg body bytes (100)\n"
"  --bare-jid            msg: address the partner's bare JID\n"
"  --contacts R          setup-roster/presence: contacts per user (10)\n"
"  --pings K             idle: pings to time (20)\n"
"  --timeout S           one login's time limit (30)\n"
"  --connect-timeout S   all sessions up (60 + N/50)\n"
"  --max-failures N      failed connections tolerated (0)\n"
"  --scram-cache FILE    keep derived SCRAM keys across runs (mode 0600)\n"
"  -q, --quiet           only the RESULT line\n");
}

static void die_usage(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "parley-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see parley-bench --help)\n");
	exit(1);
}

static long parse_long(const char *s, const char *what, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "parley-bench: %s must be a number from %ld to "
		    "%ld, not '%s'\n", what, lo, hi, s);
		exit(1);
	}
	return v;
}

static double parse_double(const char *s, const char *what, double lo,
	    double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "parley-bench: %s must be a number from %g to "
		    "%g, not '%s'\n", what, lo, hi, s);
		exit(1);
	}
	return v;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
		    a->sin6_addr.s6_addr[12] == 127);
	}
	return 0;
}

/* An IP literal (or "localhost") into ss; 0 on success. */
static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(s, "localhost") == 0)
		s = "127.0.0.1";
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

static void add_source(const struct sockaddr_storage *ss, const char *txt)
{
	if (!is_loopback(ss))
		die_usage("--source %s is not a loopback address", txt);
	if (opt.nsources >= MAX_SOURCES)
		die_usage("--source: more than 1024 addresses (%s)", txt);
	if (opt.sources == NULL)
		opt.sources = xcalloc(MAX_SOURCES, sizeof(*opt.sources));
	opt.sources[opt.nsources++] = *ss;
}

/* "A-B" (IPv4 range) or "A,B,C", or a mix: "A-B,C". */
static void parse_sources(const char *arg)
{
	char *copy = xstrdup(arg), *save = NULL, *item;

	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(item, '-');
		struct sockaddr_storage a, b;

		if (dash == NULL) {
			if (parse_addr(item, &a) != 0)
				die_usage("--source: bad address '%s'", item);
			add_source(&a, item);
			continue;
		}
		*dash = '\0';
		if (parse_addr(item, &a) != 0 || a.ss_family != AF_INET ||
		    parse_addr(dash + 1, &b) != 0 || b.ss_family != AF_INET)
			die_usage("--source: bad IPv4 range in '%s'", arg);
		{
			uint32_t lo = ntohl(((struct sockaddr_in *)&a)->sin_addr.s_addr);
			uint32_t hi = ntohl(((struct sockaddr_in *)&b)->sin_addr.s_addr);

			if (hi < lo || hi - lo >= MAX_SOURCES)
				die_usage("--source: range '%s' is empty or "
				    "too long", arg);
			for (uint32_t v = lo; v <= hi; v++) {
				struct sockaddr_storage s;

				memset(&s, 0, sizeof(s));
				((struct sockaddr_in *)&s)->sin_family = AF_INET;
				((struct sockaddr_in *)&s)->sin_addr.s_addr =
				    htonl(v);
				add_source(&s, item);
			}
		}
	}
	free(copy);
}

static void parse_pattern(const char *p)
{
	const char *pc = strstr(p, "%d");

	if (pc == NULL || strchr(pc + 2, '%') != NULL ||
	    memchr(p, '%', (size_t)(pc - p)) != NULL)
		die_usage("--user-pattern '%s' must contain exactly one %%d "
		    "and no other %%", p);
	opt.pattern = p;
	opt.pat_pre = xstrndup(p, (size_t)(pc - p));
	opt.pat_suf = xstrdup(pc + 2);
}

size_t user_local(long u, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%ld%s", opt.pat_pre, u, opt.pat_suf);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

long user_from_jid(const char *jid, size_t len)
{
	size_t pl = strlen(opt.pat_pre), sl = strlen(opt.pat_suf), i;
	const char *at = memchr(jid, '@', len);
	long v = 0;

	if (at == NULL)
		return -1;
	len = (size_t)(at - jid);
	if (len < pl + sl + 1 || memcmp(jid, opt.pat_pre, pl) != 0 ||
	    memcmp(jid + len - sl, opt.pat_suf, sl) != 0)
		return -1;
	for (i = pl; i < len - sl; i++) {
		if (jid[i] < '0' || jid[i] > '9' || v > LONG_MAX / 10 - 10)
			return -1;
		v = v * 10 + (jid[i] - '0');
	}
	return v;
}

static void watchdog(int sig)
{
	static const char msg[] = "parley-bench: error: watchdog: the run "
	    "took far longer than its options allow; aborting\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/* Raises the open-file limit to the hard limit and checks need fits. */
static void fit_fd_limit(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		perror("parley-bench: getrlimit");
		exit(1);
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			perror("parley-bench: setrlimit");
			exit(1);
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (unsigned long long)need + FD_RESERVE > rl.rlim_cur) {
		fprintf(stderr, "parley-bench: error: %ld connections need "
		    "%ld open files but this process may have %llu; run "
		    "several processes with disjoint --user-offset/--users\n",
		    need, need + FD_RESERVE, (unsigned long long)rl.rlim_cur);
		exit(1);
	}
}

static int accept_any_cert(X509_STORE_CTX *x, void *arg)
{
	(void)x;
	(void)arg;
	return 1;
}

static void tls_setup(void)
{
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (tls_ctx == NULL) {
		fprintf(stderr, "parley-bench: error: cannot create a TLS "
		    "context\n");
		exit(1);
	}
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	/* A benchmark on loopback against self-signed certificates: no
	 * verification, and not even the chain building that OpenSSL does
	 * (and then ignores) under SSL_VERIFY_NONE. */
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_cert_verify_callback(tls_ctx, accept_any_cert, NULL);
	/* Writes may be partial and the output buffer may move between
	 * retries (it grows). */
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* Only when holding many sessions: it frees and reallocates the
	 * record buffers around every read and write, which costs the busy
	 * scenarios more than the memory it saves them. */
	if (opt.scen == SC_IDLE)
		SSL_CTX_set_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Several records per read() when the server batches. */
	SSL_CTX_set_read_ahead(tls_ctx, 1);
	/* Every login is a full handshake, as with a new client. */
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
}

enum {
	O_HOST = 256, O_PORT, O_DIRECT, O_DOMAIN, O_PATTERN, O_PASSWORD,
	O_OFFSET, O_USERS, O_MECH, O_SOURCE, O_PID, O_DURATION, O_WARMUP,
	O_DRAIN, O_CONC, O_WINDOW, O_RATE, O_BODY, O_BARE, O_CONTACTS,
	O_PINGS, O_TIMEOUT, O_CTIMEOUT, O_MAXFAIL, O_SCACHE,
};

static const struct option longopts[] = {
	{ "host", required_argument, NULL, O_HOST },
	{ "port", required_argument, NULL, O_PORT },
	{ "direct-tls", no_argument, NULL, O_DIRECT },
	{ "domain", required_argument, NULL, O_DOMAIN },
	{ "user-pattern", required_argument, NULL, O_PATTERN },
	{ "password", required_argument, NULL, O_PASSWORD },
	{ "user-offset", required_argument, NULL, O_OFFSET },
	{ "users", required_argument, NULL, O_USERS },
	{ "mech", required_argument, NULL, O_MECH },
	{ "source", required_argument, NULL, O_SOURCE },
	{ "server-pid", required_argument, NULL, O_PID },
	{ "threads", required_argument, NULL, 't' },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "drain", required_argument, NULL, O_DRAIN },
	{ "concurrency", required_argument, NULL, O_CONC },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "rate", required_argument, NULL, O_RATE },
	{ "body-size", required_argument, NULL, O_BODY },
	{ "bare-jid", no_argument, NULL, O_BARE },
	{ "contacts", required_argument, NULL, O_CONTACTS },
	{ "pings", required_argument, NULL, O_PINGS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, O_CTIMEOUT },
	{ "max-failures", required_argument, NULL, O_MAXFAIL },
	{ "scram-cache", required_argument, NULL, O_SCACHE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	long users = -1, need;
	double duration = -1, warmup = -1, ctimeout = -1, budget;
	int ch, conc = -1, rc;

	opt.port = 0;
	opt.domain = "localhost";
	opt.password = "secret";
	opt.mech = MECH_SCRAM_SHA1;
	opt.threads = 1;
	opt.drain = 5;
	opt.timeout = 30;
	opt.window = 4;
	opt.body_size = 100;
	opt.contacts = 10;
	opt.pings = 20;
	opt.server_pid = -1;
	parse_pattern("bench%d");

	while ((ch = getopt_long(argc, argv, "t:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case O_HOST:	host = optarg; break;
		case O_PORT:
			opt.port = (int)parse_long(optarg, "--port", 1, 65535);
			break;
		case O_DIRECT:	opt.direct_tls = 1; break;
		case O_DOMAIN:	opt.domain = optarg; break;
		case O_PATTERN:	parse_pattern(optarg); break;
		case O_PASSWORD: opt.password = optarg; break;
		case O_OFFSET:
			opt.user_offset = parse_long(optarg, "--user-offset",
			    0, 1000000000);
			break;
		case O_USERS:
			users = parse_long(optarg, "--users", 1, 10000000);
			break;
		case O_MECH:
			if (strcmp(optarg, "SCRAM-SHA-1") == 0)
				opt.mech = MECH_SCRAM_SHA1;
			else if (strcmp(optarg, "SCRAM-SHA-256") == 0)
				opt.mech = MECH_SCRAM_SHA256;
			else if (strcmp(optarg, "PLAIN") == 0)
				opt.mech = MECH_PLAIN;
			else
				die_usage("--mech '%s' is not SCRAM-SHA-1, "
				    "SCRAM-SHA-256 or PLAIN", optarg);
			break;
		case O_SOURCE:	parse_sources(optarg); break;
		case O_PID:
			opt.server_pid = (pid_t)parse_long(optarg,
			    "--server-pid", 1, INT_MAX);
			break;
		case 't':
			opt.threads = (int)parse_long(optarg, "--threads", 1,
			    64);
			break;
		case O_DURATION:
			duration = parse_double(optarg, "--duration", 0, 86400);
			break;
		case O_WARMUP:
			warmup = parse_double(optarg, "--warmup", 0, 3600);
			break;
		case O_DRAIN:
			opt.drain = parse_double(optarg, "--drain", 0, 3600);
			break;
		case O_CONC:
			conc = (int)parse_long(optarg, "--concurrency", 1,
			    100000);
			break;
		case O_WINDOW:
			opt.window = (int)parse_long(optarg, "--window", 1,
			    100000);
			break;
		case O_RATE:
			opt.rate = parse_double(optarg, "--rate", 0.001, 1e8);
			break;
		case O_BODY:
			opt.body_size = (int)parse_long(optarg, "--body-size",
			    40, 1000000);
			break;
		case O_BARE:	opt.bare_jid = 1; break;
		case O_CONTACTS:
			opt.contacts = (int)parse_long(optarg, "--contacts", 2,
			    100000);
			break;
		case O_PINGS:
			opt.pings = (int)parse_long(optarg, "--pings", 1,
			    100000);
			break;
		case O_TIMEOUT:
			opt.timeout = parse_double(optarg, "--timeout", 0.1,
			    3600);
			break;
		case O_CTIMEOUT:
			ctimeout = parse_double(optarg, "--connect-timeout", 1,
			    86400);
			break;
		case O_MAXFAIL:
			opt.max_failures = parse_long(optarg,
			    "--max-failures", 0, LONG_MAX);
			break;
		case O_SCACHE:	opt.scram_cache = optarg; break;
		case 'q':	opt.quiet = 1; break;
		case 'h':	usage(stdout); return 0;
		default:	usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	opt.scen_name = argv[optind];
	if (strcmp(argv[optind], "idle") == 0) {
		opt.scen = SC_IDLE;
		if (optind + 2 != argc)
			die_usage("idle needs the number of sessions: "
			    "idle N");
		opt.sessions = parse_long(argv[optind + 1], "idle N", 1,
		    10000000);
	} else {
		if (optind + 1 != argc)
			die_usage("unexpected argument '%s'", argv[optind + 1]);
		if (strcmp(argv[optind], "msg") == 0)
			opt.scen = SC_MSG;
		else if (strcmp(argv[optind], "login") == 0)
			opt.scen = SC_LOGIN;
		else if (strcmp(argv[optind], "presence") == 0)
			opt.scen = SC_PRESENCE;
		else if (strcmp(argv[optind], "setup-roster") == 0)
			opt.scen = SC_SETUP_ROSTER;
		else
			die_usage("unknown scenario '%s'", argv[optind]);
	}

	/* Target: loopback only. */
	opt.host = host;
	if (parse_addr(host, &opt.addr) != 0)
		die_usage("--host '%s' must be an IP address (or localhost)",
		    host);
	if (!is_loopback(&opt.addr)) {
		fprintf(stderr, "parley-bench: error: refusing --host %s: "
		    "parley-bench only targets servers on this machine "
		    "(127.0.0.0/8 or ::1)\n", host);
		return 1;
	}
	if (opt.port == 0)
		opt.port = opt.direct_tls ? 5223 : 5222;
	if (opt.addr.ss_family == AF_INET) {
		((struct sockaddr_in *)&opt.addr)->sin_port = htons(
		    (uint16_t)opt.port);
		opt.addrlen = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&opt.addr)->sin6_port = htons(
		    (uint16_t)opt.port);
		opt.addrlen = sizeof(struct sockaddr_in6);
	}
	for (int i = 0; i < opt.nsources; i++)
		if (opt.sources[i].ss_family != opt.addr.ss_family)
			die_usage("--source addresses must be of the same "
			    "family as --host %s", host);
	if (opt.server_pid > 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/stat",
		    (int)opt.server_pid);
		if (access(path, R_OK) != 0) {
			fprintf(stderr, "parley-bench: error: --server-pid "
			    "%d: no such process readable in /proc\n",
			    (int)opt.server_pid);
			return 1;
		}
	}

	/* Scenario defaults and sizes. */
	switch (opt.scen) {
	case SC_IDLE:
		opt.users = users > 0 ? users : opt.sessions;
		need = opt.sessions + 1;
		opt.duration = duration >= 0 ? duration : 2;
		break;
	case SC_LOGIN:
		opt.users = users > 0 ? users : 1000;
		conc = conc > 0 ? conc : 20;
		need = conc;
		opt.duration = duration >= 0 ? duration : 10;
		break;
	case SC_SETUP_ROSTER:
		opt.users = users > 0 ? users : 1000;
		need = opt.users;
		opt.duration = duration >= 0 ? duration : 120;
		break;
	default:
		opt.users = users > 0 ? users : 1000;
		need = opt.users;
		opt.duration = duration >= 0 ? duration : 10;
		break;
	}
	opt.concurrency = conc > 0 ? conc : 100;
	opt.warmup = warmup >= 0 ? warmup : opt.scen == SC_MSG ? 1 : 0;
	opt.connect_timeout = ctimeout > 0 ? ctimeout :
	    60 + (double)need / 50;
	if (opt.scen == SC_MSG && (opt.users < 2 || opt.users % 2 != 0 ||
	    opt.user_offset % 2 != 0))
		die_usage("msg needs an even --users (pairs) and an even "
		    "--user-offset");
	if ((opt.scen == SC_PRESENCE || opt.scen == SC_SETUP_ROSTER) &&
	    (opt.contacts % 2 != 0 || opt.contacts >= opt.users))
		die_usage("--contacts must be even and below --users");
	if (opt.threads > 1 && opt.threads > need)
		opt.threads = (int)need;
	fit_fd_limit(need);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, watchdog);
	tls_setup();

	/* Everything has a time bound; this is the bound on the bounds. */
	budget = opt.connect_timeout + opt.warmup + opt.duration + opt.drain +
	    opt.timeout + 90;
	alarm((unsigned)(budget > 86400 ? 86400 : budget));

	if (opt.scram_cache != NULL)
		sasl_cache_load(opt.scram_cache);
	switch (opt.scen) {
	case SC_IDLE:		rc = run_idle(); break;
	case SC_MSG:		rc = run_msg(); break;
	case SC_LOGIN:		rc = run_login(); break;
	case SC_PRESENCE:	rc = run_presence(); break;
	default:		rc = run_setup_roster(); break;
	}
	if (opt.scram_cache != NULL && sasl_cache_save(opt.scram_cache) != 0)
		fprintf(stderr, "parley-bench: warning: cannot write "
		    "--scram-cache %s: %s\n", opt.scram_cache,
		    strerror(errno));
	SSL_CTX_free(tls_ctx);
	return rc;
}
