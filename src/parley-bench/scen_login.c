/*
 * scen_login.c - the login scenario: --concurrency slots, each doing full
 * logins in a loop (TCP, TLS, SASL, bind, initial presence, then
 * </stream:stream> and a wait for the server's close) for --duration.
 *
 * Login time is from the TCP connect to the bind result.  Accounts are
 * taken round robin from the user range, and every login binds its own
 * resource so that no login replaces another's session.  Closing waits
 * for the server's end of the stream, so the server closes the TCP
 * connection first and the generator's ports do not pile up in TIME_WAIT.
 */
#include <stdio.h>
#include <stdlib.h>

#include "parley-bench/bench.h"

static _Atomic uint64_t next_login;

static size_t login_conns_for(int wid)
{
	return (size_t)(opt.concurrency / opt.threads +
	    (wid < opt.concurrency % opt.threads));
}

static void login_next(struct conn *c)
{
	uint64_t k = atomic_fetch_add(&next_login, 1);

	conn_prepare(c, (long)k, opt.user_offset + (long)(k % (uint64_t)
	    opt.users));
	worker_queue(c->w, c);
}

static void login_ready(struct conn *c)
{
	struct worker *w = c->w;
	int ph = atomic_load_explicit(w->phase, memory_order_relaxed);

	if (ph == PH_RUN)
		hist_add(&w->login, now_ns() - c->t_start);
	STAT_ADD(w, done, 1);
	conn_send(c, "<presence/>", 11);
	conn_close(c);
}

static void login_closed(struct conn *c, int failed)
{
	int ph = atomic_load_explicit(c->w->phase, memory_order_relaxed);

	if (ph == PH_WARM || ph == PH_RUN)
		login_next(c);
}

static void login_phase(struct worker *w, int ph)
{
	if ((ph != PH_WARM && ph != PH_RUN) || w->started)
		return;
	w->started = 1;
	for (size_t i = 0; i < w->nconns; i++)
		login_next(&w->conns[i]);
}

static const struct scen_ops login_ops = {
	.phase = login_phase,
	.ready = login_ready,
	.closed = login_closed,
};

int run_login(void)
{
	struct measured m;
	struct usage u0, u1;
	struct hist h;
	uint64_t d0, d1, f0, f1, n;
	double dt;

	say("parley-bench login: %d at once over %ld users from %s, %s, %s, "
	    "%d thread%s\n", opt.concurrency, opt.users, opt.pattern,
	    opt.direct_tls ? "direct TLS" : "STARTTLS", mech_name(opt.mech),
	    opt.threads, opt.threads > 1 ? "s" : "");
	workers_create(login_conns_for, &login_ops, 10000);
	for (int i = 0; i < opt.threads; i++)
		workers[i].max_connecting = (int)workers[i].nconns;
	workers_start();
	run_measured("logins", offsetof(struct wstats, done),
	    offsetof(struct wstats, failed), &m);
	u0 = m.u0;
	u1 = m.u1;
	d0 = m.a0;
	d1 = m.a1;
	f0 = m.b0;
	f1 = m.b1;
	set_phase(PH_DRAIN);
	n = d1 - d0;
	dt = (double)(u1.t_ns - u0.t_ns) / 1e9;
	merged_hist(&h, 1);
	say("  logins: %llu in %.2f s = %.1f logins/s, %llu failed\n",
	    (unsigned long long)n, dt, (double)n / dt,
	    (unsigned long long)(f1 - f0));
	res_add("concurrency", "%d", opt.concurrency);
	res_add("users", "%ld", opt.users);
	res_add("threads", "%d", opt.threads);
	res_add("mech", "%s", mech_name(opt.mech));
	res_add("duration_s", "%.3f", dt);
	res_add("logins", "%llu", (unsigned long long)n);
	res_add("logins_per_s", "%.1f", (double)n / dt);
	report_hist("login time", "login", &h);
	report_cpu(&u0, &u1, n, "login");
	hist_free(&h);
	workers_finish();
	res_add("failures", "%llu", (unsigned long long)SUM(failed));
	res_print();
	if (SUM(failed) > (uint64_t)opt.max_failures) {
		fprintf(stderr, "parley-bench: error: %llu logins failed; "
		    "first error: %s\n", (unsigned long long)SUM(failed),
		    first_error());
		return 2;
	}
	if (n == 0) {
		fprintf(stderr, "parley-bench: error: no login completed\n");
		return 2;
	}
	return 0;
}
