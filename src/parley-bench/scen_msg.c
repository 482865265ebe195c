/*
 * scen_msg.c - the msg scenario: user 2k and user 2k+1 send each other
 * chat messages whose body carries the send time (monotonic ns).
 *
 * Both halves of a pair live on the same worker, so the receiver can tell
 * its partner that a message arrived without any cross-thread traffic:
 * closed loop keeps --window messages in flight per sender that way;
 * open loop sends --rate messages per second in total from the tick,
 * round robin over the senders.  One-way latency is exact (one clock,
 * one machine) and only messages sent after measuring began count, so
 * warm-up traffic never pollutes the percentiles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley-bench/bench.h"

#define STAMP_LEN	36	/* "t=<20 digits> s=<10 digits> " */
#define BACKLOG_MAX	(1u << 20)	/* open loop: skip a sender past this */

static long npairs;

static size_t msg_conns_for(int wid)
{
	long per = npairs / opt.threads + (wid < npairs % opt.threads);

	return (size_t)(2 * per);
}

static void send_msg(struct conn *s)
{
	struct conn *r = s->partner;
	struct buf *b = &s->out;
	size_t tl, pad = (size_t)opt.body_size - STAMP_LEN;
	uint64_t t;
	int n;

	if (s->state != CS_READY || r->jid == NULL)
		return;
	tl = opt.bare_jid ? strcspn(r->jid, "/") : strlen(r->jid);
	buf_reserve(b, tl + pad + 160);
	t = now_ns();
	n = snprintf(b->data + b->len, b->cap - b->len,
	    "<message type='chat' to='%.*s' id='m%llx'><body>"
	    "t=%020llu s=%010llu ", (int)tl, r->jid,
	    (unsigned long long)s->seq, (unsigned long long)t,
	    (unsigned long long)(s->seq % 10000000000ull));
	b->len += (size_t)n;
	memset(b->data + b->len, 'x', pad);
	b->len += pad;
	memcpy(b->data + b->len, "</body></message>", 17);
	b->len += 17;
	b->data[b->len] = '\0';
	s->seq++;
	s->inflight++;
	STAT_ADD(s->w, sent, 1);
	worker_mark_dirty(s->w, s);
}

static int loading(const struct worker *w)
{
	int ph = atomic_load_explicit(w->phase, memory_order_relaxed);

	return ph == PH_WARM || ph == PH_RUN;
}

/* Closed loop: top the sender's window up again. */
static void refill(struct conn *s)
{
	if (opt.rate > 0 || !loading(s->w))
		return;
	while (s->state == CS_READY && s->inflight < (uint32_t)opt.window)
		send_msg(s);
}

static void msg_ready(struct conn *c)
{
	conn_send(c, "<presence/>", 11);
}

static int msg_stanza(struct conn *c, const struct xtag *root,
	    const char *p, size_t n)
{
	struct worker *w = c->w;
	struct conn *s = c->partner;
	const char *txt;
	size_t tl;
	struct xtag t;
	uint64_t stamp = 0, run, now;

	if (!xtag_is(root, "message"))
		return 0;
	if (xtag_attr_is(root, "type", "error")) {
		STAT_ADD(w, errors, 1);
	} else {
		if (!el_find(p, n, "body", &t, &txt, &tl) ||
		    tl < STAMP_LEN || txt[0] != 't' || txt[1] != '=')
			return 1;	/* not one of ours */
		for (int i = 2; i < 22; i++)
			stamp = stamp * 10 + (uint64_t)(txt[i] - '0');
		now = now_ns();
		run = atomic_load_explicit(&g_t_run, memory_order_relaxed);
		if (run != 0 && stamp >= run && now >= stamp)
			hist_add(&w->lat, now - stamp);
		STAT_ADD(w, recv, 1);
	}
	if (s->inflight > 0)
		s->inflight--;
	refill(s);
	return 1;
}

static void msg_phase(struct worker *w, int ph)
{
	if ((ph != PH_WARM && ph != PH_RUN) || w->started)
		return;
	w->started = 1;
	if (opt.rate <= 0)
		for (size_t i = 0; i < w->nconns; i++)
			refill(&w->conns[i]);
}

/* Open loop: send what the schedule says is due by now. */
static void msg_tick(struct worker *w, uint64_t now)
{
	double rate_w;
	uint64_t t0, target, due, cap;

	if (opt.rate <= 0 || !loading(w) || w->nconns == 0)
		return;
	rate_w = opt.rate * (double)w->nconns / (double)opt.users;
	t0 = atomic_load(&g_t_load);
	target = (uint64_t)(rate_w * (double)(now - t0) / 1e9);
	if (target <= w->sent_open)
		return;
	due = target - w->sent_open;
	/* A generator that stalled does not catch up in one burst: what
	 * is more than 50 ms late is counted as not sent. */
	cap = (uint64_t)(rate_w * 0.05) + 1;
	if (due > cap) {
		STAT_ADD(w, backlog, due - cap);
		w->sent_open += due - cap;
		due = cap;
	}
	while (due-- > 0) {
		struct conn *c = &w->conns[w->rr++ % w->nconns];

		w->sent_open++;
		if (c->state == CS_READY && conn_backlog(c) < BACKLOG_MAX)
			send_msg(c);
		else
			STAT_ADD(w, backlog, 1);
	}
}

static const struct scen_ops msg_ops = {
	.autostart = 1,
	.phase = msg_phase,
	.ready = msg_ready,
	.stanza = msg_stanza,
	.tick = msg_tick,
};

static int drained(void)
{
	return SUM(recv) + SUM(errors) >= SUM(sent);
}

int run_msg(void)
{
	struct connect_result cr;
	struct measured m;
	struct usage u0, u1;
	struct hist lat;
	uint64_t r0, r1, sent, recv, errors, lost, backlog, delivered;
	double dt;

	npairs = opt.users / 2;
	say("parley-bench msg: %ld users (%ld pairs) from %s, %s loop (%s), "
	    "body %d bytes, %s, %d thread%s\n", opt.users, npairs,
	    opt.pattern, opt.rate > 0 ? "open" : "closed",
	    opt.rate > 0 ? "rate" : "window", opt.body_size,
	    mech_name(opt.mech), opt.threads, opt.threads > 1 ? "s" : "");
	workers_create(msg_conns_for, &msg_ops, opt.rate > 0 ?
	    open_loop_tick_us(opt.rate) : 10000);
	/* Pair k goes to worker k % threads, both halves together. */
	for (int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		for (size_t j = 0; j < w->nconns / 2; j++) {
			long k = (long)j * opt.threads + i;
			struct conn *a = &w->conns[2 * j], *b = a + 1;

			conn_prepare(a, 2 * k, opt.user_offset + 2 * k);
			conn_prepare(b, 2 * k + 1, opt.user_offset + 2 * k + 1);
			a->partner = b;
			b->partner = a;
		}
	}
	workers_start();
	connect_all((uint64_t)opt.users, &cr);

	atomic_store(&g_t_load, now_ns());
	run_measured("sessions", offsetof(struct wstats, recv),
	    offsetof(struct wstats, sent), &m);
	u0 = m.u0;
	u1 = m.u1;
	r0 = m.a0;
	r1 = m.a1;
	set_phase(PH_DRAIN);
	wait_until(drained, opt.drain);
	sent = SUM(sent);
	recv = SUM(recv);
	errors = SUM(errors);
	backlog = SUM(backlog);
	lost = sent > recv ? sent - recv : 0;
	delivered = r1 - r0;
	dt = (double)(u1.t_ns - u0.t_ns) / 1e9;
	merged_hist(&lat, 0);

	if (opt.rate > 0)
		say("  load: open loop, %.0f msgs/s requested\n", opt.rate);
	else
		say("  load: closed loop, %d in flight per sender\n",
		    opt.window);
	say("  delivered: %llu msgs in %.2f s = %.0f msgs/s; in total sent "
	    "%llu, delivered %llu, lost %llu (bounced with an error: %llu)\n",
	    (unsigned long long)delivered, dt, (double)delivered / dt,
	    (unsigned long long)sent, (unsigned long long)recv,
	    (unsigned long long)lost, (unsigned long long)errors);
	if (backlog > 0)
		say("  open loop: %llu sends skipped because the generator or "
		    "the connection fell behind\n",
		    (unsigned long long)backlog);
	res_add("users", "%ld", opt.users);
	res_add("threads", "%d", opt.threads);
	res_add("mode", "%s", opt.rate > 0 ? "open" : "closed");
	if (opt.rate > 0)
		res_add("rate", "%.0f", opt.rate);
	else
		res_add("window", "%d", opt.window);
	res_add("duration_s", "%.3f", dt);
	res_add("sent", "%llu", (unsigned long long)sent);
	res_add("delivered", "%llu", (unsigned long long)recv);
	res_add("msgs_per_s", "%.1f", (double)delivered / dt);
	res_add("lost", "%llu", (unsigned long long)lost);
	res_add("errors", "%llu", (unsigned long long)errors);
	res_add("skipped", "%llu", (unsigned long long)backlog);
	report_hist("latency", "lat", &lat);
	report_cpu(&u0, &u1, delivered, "msg");
	res_add("failures", "%llu", (unsigned long long)SUM(failed));
	hist_free(&lat);
	workers_finish();
	res_print();
	if (lost > 0 || SUM(failed) > (uint64_t)opt.max_failures) {
		fprintf(stderr, "parley-bench: error: %llu messages lost, %llu "
		    "connections failed%s%s\n", (unsigned long long)lost,
		    (unsigned long long)SUM(failed),
		    first_error()[0] ? "; first error: " : "", first_error());
		return 2;
	}
	return 0;
}
