/*
 * bench.h - parley-bench, the XMPP load generator: shared declarations.
 *
 * Shape of the program:
 *   main.c      options, limits, the phase clock, reports
 *   worker.c    one thread = one libevent base + a tick; starts connections
 *   conn.c      one XMPP client connection: TCP, STARTTLS or direct TLS,
 *               SASL, bind; then hands stanzas to the scenario
 *   scan.c      splits the stream into top-level elements without building
 *               trees (the generator must not be the bottleneck)
 *   sasl.c      client side of SCRAM-SHA-1/256 and PLAIN, with a cache of
 *               salted passwords so that logins do not each pay PBKDF2
 *   hist.c      log-linear latency histogram
 *   sysstat.c   server CPU and RSS from /proc, our own CPU from getrusage
 *   scen_*.c    the scenarios: idle, msg, login, presence, setup-roster
 *
 * Threads never touch each other's connections or event bases.  The main
 * thread steers them through one atomic phase variable that each worker's
 * tick reads, and reads their counters, which are atomics updated with
 * relaxed ordering (one uncontended add per message).
 */
#ifndef PARLEY_BENCH_H
#define PARLEY_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/ssl.h>

#include "core/buf.h"

/* ---- options ----------------------------------------------------------- */

enum mech { MECH_SCRAM_SHA1, MECH_SCRAM_SHA256, MECH_PLAIN };
enum scenario { SC_IDLE, SC_MSG, SC_LOGIN, SC_PRESENCE, SC_SETUP_ROSTER };

struct opts {
	enum scenario	 scen;
	const char	*scen_name;
	const char	*host;
	struct sockaddr_storage addr;	/* host:port, resolved once */
	socklen_t	 addrlen;
	int		 port;
	int		 direct_tls;
	const char	*domain;
	const char	*pattern;	/* e.g. "bench%d" */
	char		*pat_pre, *pat_suf;	/* around the %d */
	const char	*password;
	long		 user_offset;
	long		 users;
	long		 sessions;	/* idle N */
	enum mech	 mech;
	struct sockaddr_storage *sources;
	int		 nsources;
	int		 threads;
	pid_t		 server_pid;
	double		 duration;
	double		 warmup;
	double		 drain;
	double		 timeout;	/* one login, seconds */
	double		 connect_timeout;	/* all sessions up */
	int		 concurrency;
	int		 window;
	double		 rate;		/* 0: closed loop */
	int		 body_size;
	int		 contacts;
	int		 pings;
	long		 max_failures;
	int		 bare_jid;
	int		 quiet;
	const char	*scram_cache;	/* file, or NULL */
};

extern struct opts opt;
extern SSL_CTX *tls_ctx;

/* Localpart of user number u; returns its length. */
size_t	 user_local(long u, char *out, size_t cap);
/* The user number encoded in a JID's localpart, or -1. */
long	 user_from_jid(const char *jid, size_t len);

/* ---- time -------------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- phases (set by main, read by workers) ------------------------------ */

enum phase {
	PH_INIT,	/* nothing yet */
	PH_CONNECT,	/* log every session in */
	PH_WARM,	/* load runs, not measured yet */
	PH_RUN,		/* load runs and is measured */
	PH_DRAIN,	/* no new load; wait for what is in flight */
	PH_CLOSE,	/* close every connection */
	PH_EXIT,	/* leave the event loop */
};

/* Monotonic ns when load started and when measuring started (PH_RUN). */
extern _Atomic uint64_t g_t_load, g_t_run;

/* ---- histogram ---------------------------------------------------------- */

#define HIST_SUB_BITS	7	/* 128 sub-buckets per power of two: <1% */
#define HIST_BUCKETS	((64 - HIST_SUB_BITS + 1) << HIST_SUB_BITS)

struct hist {
	uint64_t	 count;
	uint64_t	 max;
	uint64_t	 sum;
	uint32_t	*b;		/* HIST_BUCKETS counters, lazily made */
};

void	 hist_add(struct hist *h, uint64_t v);
void	 hist_merge(struct hist *into, const struct hist *from);
/* Value at quantile q (0..1), within the bucket precision; 0 if empty. */
uint64_t hist_quantile(const struct hist *h, double q);
void	 hist_free(struct hist *h);

/* ---- the stanza scanner ------------------------------------------------- */

enum scan_kind { SCAN_HEADER, SCAN_ELEMENT, SCAN_END };

/*
 * Called once per complete top-level unit: the stream header, one whole
 * element (p, n cover it from '<' to its last '>'), or </stream:stream>.
 * Returns 0 to go on, non-zero to stop scanning after this unit.
 */
typedef int (*scan_cb)(void *ud, enum scan_kind k, const char *p, size_t n);

/*
 * Scans data for complete units and returns how many bytes were used;
 * the rest is an incomplete unit to be rescanned with more bytes.  The
 * XML declaration, comments and whitespace between stanzas are skipped.
 * Sets *stopped when a callback asked to stop.
 */
size_t	 scan_units(const char *data, size_t len, scan_cb cb, void *ud,
	    int *stopped);

enum tag_kind { TAG_OPEN, TAG_CLOSE, TAG_EMPTY };

struct xtag {
	enum tag_kind	 kind;
	const char	*name;		/* local name (prefix dropped) */
	size_t		 name_len;
	const char	*prefix;	/* "" when none */
	size_t		 prefix_len;
	const char	*attrs;		/* raw attribute text */
	size_t		 attrs_len;
	const char	*start;		/* its '<' */
	const char	*end;		/* just after '>' */
};

/* The next tag at or after *pp (skipping text); 0 when none is left. */
int	 xtag_next(const char **pp, const char *end, struct xtag *t);
/* Raw (still escaped) value of attribute name; 1 if found. */
int	 xtag_attr(const struct xtag *t, const char *name, const char **v,
	    size_t *vlen);
int	 xtag_is(const struct xtag *t, const char *name);
int	 xtag_attr_is(const struct xtag *t, const char *name, const char *val);
/*
 * First descendant element named name inside the element [p, p+n); sets
 * its tag and the raw text between its start and end tags (empty for
 * <x/>).  1 if found.
 */
int	 el_find(const char *p, size_t n, const char *name, struct xtag *t,
	    const char **text, size_t *text_len);

/* ---- SASL, client side -------------------------------------------------- */

struct sasl;

const char *mech_name(enum mech m);
/* Starts an exchange; appends the base64 initial response to out.
 * NULL if no random nonce could be made. */
struct sasl *sasl_start(enum mech m, const char *user, struct buf *out);
/*
 * Answers a base64 challenge; appends the base64 response to out.
 * Returns 0, or -1 with *err set to a short reason.
 */
int	 sasl_step(struct sasl *s, const char *b64, size_t len, struct buf *out,
	    const char **err);
/* Checks the additional data of <success/> (SCRAM: the server's proof). */
int	 sasl_finish(struct sasl *s, const char *b64, size_t len,
	    const char **err);
void	 sasl_free(struct sasl *s);
/* Reads the --scram-cache file (missing is fine); returns entries. */
int	 sasl_cache_load(const char *path);
/* Writes it back if anything was derived; 0, or -1 on an I/O error. */
int	 sasl_cache_save(const char *path);
/* PBKDF2 runs avoided and done, for the report. */
void	 sasl_cache_stats(unsigned long *hits, unsigned long *misses);

/* ---- connections -------------------------------------------------------- */

enum cstate {
	CS_IDLE,	/* not connected (before start or after close) */
	CS_CONNECTING,	/* TCP connect in progress */
	CS_FEAT_TLS,	/* plaintext stream open, waiting for <starttls/> */
	CS_STARTTLS,	/* asked for TLS, waiting for <proceed/> */
	CS_HANDSHAKE,	/* TLS handshake */
	CS_FEAT_SASL,	/* waiting for the mechanisms */
	CS_AUTH,	/* SASL exchange */
	CS_FEAT_BIND,	/* restarted after SASL, waiting for <bind/> */
	CS_BIND,	/* bind sent */
	CS_SESSION,	/* legacy session establishment sent */
	CS_READY,	/* bound: the scenario drives it */
	CS_CLOSING,	/* </stream:stream> sent, waiting for the server's */
};

struct worker;

struct conn {
	struct worker	*w;
	int		 fd;
	SSL		*ssl;
	struct event	 rev, wev;
	enum cstate	 state;
	unsigned	 wev_on:1, rev_on:1, dirty:1, queued:1;
	unsigned	 read_wants_write:1, write_wants_read:1;
	unsigned	 need_session:1, avail:1, roster_got:1, counted:1;
	unsigned	 was_ready:1;
	unsigned	 gen;		/* bumped at every (re)start */
	long		 idx;		/* session number in the whole run */
	long		 user;		/* account number */
	char		*in;		/* an incomplete unit carried over */
	size_t		 in_len, in_cap;
	struct buf	 out;
	size_t		 out_off;	/* bytes of out already written */
	uint64_t	 t_start;	/* ns, when the TCP connect began */
	uint64_t	 deadline_ms;	/* current step must end by then; 0 none */
	struct sasl	*sasl;
	char		*jid;		/* full JID from bind */
	struct conn	*dirty_next;
	/* scenario state */
	struct conn	*partner;	/* msg: the other half of the pair */
	uint32_t	 inflight;	/* msg: sent to partner, not yet there */
	uint64_t	 seq;
	void		*x;		/* per-scenario extra (roster state) */
};

/* Scenario hooks; any may be NULL. */
struct scen_ops {
	/* Queue every connection when PH_CONNECT starts. */
	int	autostart;
	/* The phase changed to ph (< PH_CLOSE). */
	void	(*phase)(struct worker *w, int ph);
	/* The session is bound; send initial presence etc. */
	void	(*ready)(struct conn *c);
	/* A stanza arrived on a ready session (IQ get/set the scenario does
	 * not answer are answered by conn.c).  Returns 1 if it handled an
	 * IQ get/set itself. */
	int	(*stanza)(struct conn *c, const struct xtag *root,
		    const char *p, size_t n);
	/* The connection is gone; failed says whether that was an error. */
	void	(*closed)(struct conn *c, int failed);
	/* Every tick (see open_loop_tick_us). */
	void	(*tick)(struct worker *w, uint64_t now);
};

/* Resets c for a new session of user as session idx (keeps w). */
void	 conn_prepare(struct conn *c, long idx, long user);
/* Opens the TCP connection; failures are reported through closed(). */
void	 conn_start(struct conn *c);
/* Queues bytes; they are written when the current callback ends. */
void	 conn_send(struct conn *c, const char *p, size_t n);
void	 conn_sendf(struct conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Ends the stream politely and waits (bounded) for the server's end. */
void	 conn_close(struct conn *c);
/* Drops the connection at once; reason non-NULL marks it failed. */
void	 conn_abort(struct conn *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Writes what is queued; returns -1 if the connection failed. */
int	 conn_flush(struct conn *c);
/* Bytes queued but not yet written. */
size_t	 conn_backlog(const struct conn *c);
/* Ends the step that is overdue at now (ms); the worker calls it. */
void	 conn_check_deadline(struct conn *c, uint64_t now);
/* Answers an IQ get/set with an empty result. */
void	 conn_iq_result(struct conn *c, const struct xtag *root);

/* ---- workers ------------------------------------------------------------ */

/* Counters that main reads while the workers run. */
struct wstats {
	_Atomic uint64_t up;		/* sessions that reached READY */
	_Atomic uint64_t failed;	/* connections that ended in error */
	_Atomic uint64_t dropped;	/* failed after READY */
	_Atomic uint64_t live;		/* connections open now */
	_Atomic uint64_t sent;		/* scenario stanzas sent */
	_Atomic uint64_t recv;		/* scenario stanzas delivered */
	_Atomic uint64_t errors;	/* scenario stanzas bounced */
	_Atomic uint64_t done;		/* scenario milestones (see each) */
	_Atomic uint64_t done2;
	_Atomic uint64_t backlog;	/* open loop: sends skipped */
};

#define STAT_ADD(w, f, n) \
	atomic_fetch_add_explicit(&(w)->st.f, (n), memory_order_relaxed)
#define STAT_GET(w, f) \
	atomic_load_explicit(&(w)->st.f, memory_order_relaxed)

struct worker {
	int		 id;
	pthread_t	 thr;
	struct event_base *base;
	struct event	 tick;
	unsigned	 tick_us;	/* tick period, microseconds */
	_Atomic int	*phase;		/* the phase this worker follows */
	int		 seen_phase;
	const struct scen_ops *ops;
	char		*scratch;	/* TLS read buffer, shared by conns */
	size_t		 scratch_len;
	struct conn	*conns;
	size_t		 nconns;
	struct conn	**startq;	/* ring of conns waiting to start */
	size_t		 q_head, q_len;
	int		 connecting, max_connecting;
	struct conn	*dirty;
	uint64_t	 next_deadline_check;
	size_t		 rr;		/* round-robin cursor for scenarios */
	int		 started;	/* scenario: load has begun */
	uint64_t	 sent_open;	/* open loop: sends done so far */
	struct hist	 lat;		/* scenario latency, ns */
	struct hist	 login;		/* login time, ns */
	char		 first_error[200];
	struct wstats	 st;
	void		*x;		/* scenario per-worker state */
};

/* Sets up w with n connections (not started) and the scenario hooks. */
void	 worker_init(struct worker *w, int id, size_t nconns,
	    const struct scen_ops *ops, _Atomic int *phase, unsigned tick_us);
void	 worker_free(struct worker *w);
/* Queues c to be started as soon as the concurrency allows. */
void	 worker_queue(struct worker *w, struct conn *c);
/* Flushes dirty connections and starts queued ones; every event
 * callback ends with this. */
void	 worker_after(struct worker *w);
void	 worker_mark_dirty(struct worker *w, struct conn *c);
/* Records the first error of this worker (for the one-line reason). */
void	 worker_error(struct worker *w, const char *msg);
/* Closes every connection; the loop ends at PH_EXIT once none is left. */
void	 worker_close_all(struct worker *w);
int	 worker_spawn(struct worker *w);
void	 worker_join(struct worker *w);

/* ---- the scenarios ------------------------------------------------------- */

/* Each runs one whole scenario from main; returns the exit status. */
int	 run_idle(void);
int	 run_msg(void);
int	 run_login(void);
int	 run_presence(void);
int	 run_setup_roster(void);

/* Tick period for open-loop load of rate per second in total: about
 * four sends per tick and worker, between 100 us and 1 ms. */
unsigned open_loop_tick_us(double rate);

/* Helpers in run.c shared by the scenarios. */
extern struct worker *workers;
extern _Atomic int g_phase;
void	 set_phase(int ph);
/* Creates opt.threads workers; conns_for(i) says how many each gets. */
void	 workers_create(size_t (*conns_for)(int wid), const struct scen_ops *ops,
	    unsigned tick_us);
void	 workers_start(void);
/* Close everything, wait (bounded), join the threads. */
void	 workers_finish(void);
uint64_t sum_stat(size_t off);
#define SUM(f)	sum_stat(offsetof(struct wstats, f))
/* Waits until cond() is true, the timeout passes (returns 0) or failures
 * exceed --max-failures (returns -1).  1 when cond() came true. */
int	 wait_until(int (*cond)(void), double timeout_s);
/* The first error any worker recorded, or "" */
const char *first_error(void);
/* Log all sessions in (the connect phase); returns 0, or exits on failure.
 * Fills the connect-phase figures. */
struct connect_result {
	uint64_t	 up, failed;
	double		 secs;
	double		 rate;
};
int	 connect_all(uint64_t total, struct connect_result *r);
void	 sleep_s(double s);
/* Sleeps s seconds; -1 early if failures exceed --max-failures. */
int	 run_for(double s);
/* Exits 1 with the reason after closing everything. */
void	 fail_run(const char *fmt, ...) __attribute__((format(printf, 1, 2),
	    noreturn));

/* ---- measurements -------------------------------------------------------- */

struct usage {
	uint64_t	 t_ns;		/* monotonic */
	double		 srv_cpu_s;	/* -1 when no --server-pid */
	double		 gen_cpu_s;
};

void	 usage_now(struct usage *u);

/* One measured interval: CPU use and two worker counters (wstats fields,
 * by offset) sampled together at its start and its end. */
struct measured {
	struct usage	 u0, u1;
	uint64_t	 a0, a1;	/* first counter */
	uint64_t	 b0, b1;	/* second counter */
};

/* Runs the unmeasured --warmup, then the measured --duration, setting the
 * phases; exits through fail_run() naming 'what' if too many of them
 * fail. */
void	 run_measured(const char *what, size_t off_a, size_t off_b,
	    struct measured *m);
long	 server_rss_kib(void);		/* -1 when unknown */

/* Report helpers: a human line goes to stdout, the same pairs collect
 * into the RESULT line. */
void	 res_add(const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 res_print(void);
void	 say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the CPU block for [a, b] and adds its RESULT keys; units is the
 * count of delivered things over that interval, named unit. */
void	 report_cpu(const struct usage *a, const struct usage *b,
	    uint64_t units, const char *unit);
void	 report_hist(const char *what, const char *key, const struct hist *h);
void	 merged_hist(struct hist *out, int login);

#endif
