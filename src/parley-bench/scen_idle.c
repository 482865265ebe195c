/*
 * scen_idle.c - the idle scenario: hold N sessions.
 *
 * Reports how fast they logged in, the server's resident memory per
 * session (VmRSS before connecting and after all N are up and a settle
 * second, divided by N), and how long one more session waits for the
 * answer to an XMPP ping (XEP-0199) while the N are held: the server
 * must stay responsive however many idle sessions it keeps.  The ping
 * session runs on a worker of its own so that its timing never waits
 * behind the N sessions' traffic in the generator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

static size_t idle_conns_for(int wid)
{
	return (size_t)(opt.sessions / opt.threads +
	    (wid < opt.sessions % opt.threads));
}

static void idle_ready(struct conn *c)
{
	conn_send(c, "<presence/>", 11);
}

static const struct scen_ops idle_ops = {
	.autostart = 1,
	.ready = idle_ready,
};

/* ---- the ping session -------------------------------------------------- */

static _Atomic int ping_phase = PH_INIT;
static uint64_t ping_sent_at;

static void send_ping(struct conn *c)
{
	ping_sent_at = now_ns();
	conn_sendf(c, "<iq type='get' id='ping%llu' to='%s'><ping "
	    "xmlns='urn:xmpp:ping'/></iq>", (unsigned long long)c->seq,
	    opt.domain);
}

static void ping_ready(struct conn *c)
{
	c->seq = 0;
	send_ping(c);
}

static int ping_stanza(struct conn *c, const struct xtag *root,
	    const char *p, size_t n)
{
	struct worker *w = c->w;
	char id[32];

	if (!xtag_is(root, "iq"))
		return 0;
	snprintf(id, sizeof(id), "ping%llu", (unsigned long long)c->seq);
	if (!xtag_attr_is(root, "id", id))
		return 0;
	if (!xtag_attr_is(root, "type", "result")) {
		worker_error(w, "the server answered the ping with an error");
		STAT_ADD(w, errors, 1);
		STAT_ADD(w, done, 1);
		return 1;
	}
	hist_add(&w->lat, now_ns() - ping_sent_at);
	STAT_ADD(w, recv, 1);
	if (++c->seq < (uint64_t)opt.pings)
		send_ping(c);
	else
		STAT_ADD(w, done, 1);
	return 1;
}

static const struct scen_ops ping_ops = {
	.autostart = 1,
	.ready = ping_ready,
	.stanza = ping_stanza,
};

static struct worker pw;

static int ping_over(void)
{
	return STAT_GET(&pw, done) > 0 || STAT_GET(&pw, failed) > 0;
}

static int pw_closed(void)
{
	return STAT_GET(&pw, live) == 0;
}

/* Logs one more session in and times opt.pings pings, one at a time. */
static int ping_run(void)
{
	uint64_t t0;
	int ok;

	worker_init(&pw, opt.threads, 1, &ping_ops, &ping_phase, 10000);
	conn_prepare(&pw.conns[0], opt.sessions, opt.user_offset);
	if (worker_spawn(&pw) != 0)
		return -1;
	t0 = now_ns();
	atomic_store(&ping_phase, PH_CONNECT);
	wait_until(ping_over, opt.timeout + 30);
	ok = STAT_GET(&pw, done) > 0 && STAT_GET(&pw, errors) == 0;
	say("  extra session: logged in and pinged %d times in %.0f ms\n",
	    opt.pings, (double)(now_ns() - t0) / 1e6);
	atomic_store(&ping_phase, PH_CLOSE);
	wait_until(pw_closed, 5);
	atomic_store(&ping_phase, PH_EXIT);
	worker_join(&pw);
	return ok ? 0 : -1;
}

int run_idle(void)
{
	struct connect_result cr;
	struct usage u0, u1, u2, u3;
	long rss0, rss1;
	double per = 0;
	int prc;

	say("parley-bench idle: %ld sessions of %ld users from %s, %s, %s, "
	    "%d thread%s, %d logins at once\n", opt.sessions, opt.users,
	    opt.pattern, opt.direct_tls ? "direct TLS" : "STARTTLS",
	    mech_name(opt.mech), opt.threads, opt.threads > 1 ? "s" : "",
	    opt.concurrency);
	workers_create(idle_conns_for, &idle_ops, 10000);
	for (int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		for (size_t j = 0; j < w->nconns; j++) {
			long idx = (long)j * opt.threads + i;

			conn_prepare(&w->conns[j], idx,
			    opt.user_offset + idx % opt.users);
		}
	}
	workers_start();
	rss0 = server_rss_kib();
	usage_now(&u0);
	connect_all((uint64_t)opt.sessions, &cr);
	usage_now(&u1);
	report_cpu(&u0, &u1, cr.up, "login");

	/* Let the server finish what the logins left behind (presence,
	 * freed buffers) before reading its size. */
	sleep_s(1);
	rss1 = server_rss_kib();
	if (rss0 >= 0 && rss1 >= 0 && cr.up > 0) {
		per = (double)(rss1 - rss0) / (double)cr.up;
		say("  server RSS: %.1f MiB before, %.1f MiB with %llu sessions "
		    "= %.2f KiB per session\n", (double)rss0 / 1024,
		    (double)rss1 / 1024, (unsigned long long)cr.up, per);
		res_add("rss_before_kib", "%ld", rss0);
		res_add("rss_after_kib", "%ld", rss1);
		res_add("rss_per_session_kib", "%.2f", per);
	}

	prc = ping_run();
	if (pw.lat.count > 0) {
		report_hist("ping round trip", "ping", &pw.lat);
	}
	if (prc != 0) {
		char why[300];

		snprintf(why, sizeof(why), "%s", pw.first_error[0] ?
		    pw.first_error : "no ping answer");
		worker_free(&pw);
		fail_run("the extra session's ping failed: %s", why);
	}
	worker_free(&pw);

	usage_now(&u2);
	if (run_for(opt.duration) < 0)
		fail_run("sessions failed while held; first error: %s",
		    first_error());
	usage_now(&u3);
	if (opt.duration > 0) {
		say("  held %llu sessions for %.1f s:\n",
		    (unsigned long long)SUM(live), opt.duration);
		if (u2.srv_cpu_s >= 0)
			say("  server CPU while idle: %.3f s\n",
			    u3.srv_cpu_s - u2.srv_cpu_s);
		if (u2.srv_cpu_s >= 0)
			res_add("idle_server_cpu_s", "%.3f",
			    u3.srv_cpu_s - u2.srv_cpu_s);
	}
	res_add("dropped", "%llu", (unsigned long long)SUM(dropped));
	res_add("failures", "%llu", (unsigned long long)SUM(failed));
	workers_finish();
	res_print();
	if (SUM(failed) > (uint64_t)opt.max_failures) {
		fprintf(stderr, "parley-bench: error: %llu connections failed; "
		    "first error: %s\n", (unsigned long long)SUM(failed),
		    first_error());
		return 2;
	}
	return 0;
}
