/*
 * scen_presence.c - setup-roster and presence.
 *
 * setup-roster gives every user of the range R mutual ('both') contacts
 * in a ring: user i and users i+1..i+R/2 and i-1..i-R/2 (mod the range).
 * It uses only what RFC 6121 gives any client, so it works on any server:
 * user i adds i+k (k = 1..R/2) with a roster set and sends it a
 * subscribe; whoever receives a subscribe from a ring contact approves it
 * (subscribed) and, if it is not subscribed to that contact yet, asks
 * back.  Roster pushes tell each user its real subscription states;
 * a user is complete when all R contacts are 'both'.  Existing 'both'
 * items are left alone, so running it again is cheap and safe.
 *
 * presence then holds every user online and, at --rate per second in
 * total, makes users go unavailable and available again, in turn.  Each
 * such presence carries its send time in <status/>; the report counts
 * the presence stanzas delivered to contacts per second and their
 * latency.  A user coming back also receives its available contacts'
 * current presence (answers to its probes); those carry older stamps,
 * so latency counts only stamps newer than the receiver's own last
 * coming-online, which probe answers never are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

#define SUB_TO		1
#define SUB_FROM	2
#define SUB_BOTH	3

/* Per-user setup state: subscription and "asked" per ring slot. */
struct rstate {
	int		 nboth;
	unsigned char	 v[];	/* [0, R): subscription; [R, 2R): asked */
};

static size_t share(int wid)
{
	return (size_t)(opt.users / opt.threads +
	    (wid < opt.users % opt.threads));
}

/* Ring slot of user number u in i's contact list, or -1. */
static int slot_of(long i, long u)
{
	long n = opt.users, h = opt.contacts / 2, d;

	if (u < opt.user_offset || u >= opt.user_offset + n)
		return -1;
	d = ((u - i) % n + n) % n;
	if (d >= 1 && d <= h)
		return (int)(d - 1);
	if (d >= n - h)
		return (int)(h + (n - d) - 1);
	return -1;
}

/* User number in slot j of i's contact list. */
static long contact_of(long i, int j)
{
	long n = opt.users, h = opt.contacts / 2, k, rel;

	rel = i - opt.user_offset;
	k = j < h ? rel + j + 1 : rel - (j - h) - 1;
	return opt.user_offset + ((k % n) + n) % n;
}

static void assign(void)
{
	for (int i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];

		for (size_t j = 0; j < w->nconns; j++) {
			long idx = (long)j * opt.threads + i;

			conn_prepare(&w->conns[j], idx, opt.user_offset + idx);
		}
	}
}

/* Writes "local@domain" of user u. */
static void put_bare(struct buf *b, long u)
{
	char local[256];

	user_local(u, local, sizeof(local));
	buf_printf(b, "%s@%s", local, opt.domain);
}

static int from_user(const struct xtag *root, long *u)
{
	const char *v;
	size_t vl;

	if (!xtag_attr(root, "from", &v, &vl))
		return 0;
	*u = user_from_jid(v, vl);
	return *u >= 0;
}

/* ---- setup-roster ----------------------------------------------------- */

static struct rstate *rs_of(struct conn *c)
{
	if (c->x == NULL)
		c->x = xcalloc(1, sizeof(struct rstate) +
		    2 * (size_t)opt.contacts);
	return c->x;
}

static void rs_set(struct conn *c, int slot, int sub)
{
	struct rstate *r = rs_of(c);

	if (r->v[slot] == SUB_BOTH)
		r->nboth--;
	r->v[slot] = (unsigned char)sub;
	if (sub == SUB_BOTH && ++r->nboth == opt.contacts)
		STAT_ADD(c->w, done, 1);
}

/* Applies every <item jid= subscription=/> of a roster result or push. */
static void rs_items(struct conn *c, const char *p, size_t n)
{
	const char *cur = p, *end = p + n, *v;
	struct xtag t;
	size_t vl;

	while (xtag_next(&cur, end, &t)) {
		long u;
		int slot, sub = 0;

		if (t.kind == TAG_CLOSE || !xtag_is(&t, "item") ||
		    !xtag_attr(&t, "jid", &v, &vl))
			continue;
		u = user_from_jid(v, vl);
		if (u < 0 || (slot = slot_of(c->user, u)) < 0)
			continue;
		if (xtag_attr(&t, "subscription", &v, &vl)) {
			if (vl == 4 && memcmp(v, "both", 4) == 0)
				sub = SUB_BOTH;
			else if (vl == 2 && memcmp(v, "to", 2) == 0)
				sub = SUB_TO;
			else if (vl == 4 && memcmp(v, "from", 4) == 0)
				sub = SUB_FROM;
		}
		rs_set(c, slot, sub);
	}
}

static void send_sub(struct conn *c, long u, const char *type)
{
	buf_puts(&c->out, "<presence to='");
	put_bare(&c->out, u);
	buf_printf(&c->out, "' type='%s'/>", type);
	worker_mark_dirty(c->w, c);
}

static void rs_ready(struct conn *c)
{
	rs_of(c);
	conn_sendf(c, "<iq type='get' id='roster0'><query "
	    "xmlns='jabber:iq:roster'/></iq>");
}

static int rs_stanza(struct conn *c, const struct xtag *root, const char *p,
	    size_t n)
{
	struct rstate *r = rs_of(c);
	long u;
	int slot;

	if (xtag_is(root, "iq")) {
		if (xtag_attr_is(root, "id", "roster0")) {
			if (!xtag_attr_is(root, "type", "result")) {
				conn_abort(c, "roster get refused");
				return 1;
			}
			rs_items(c, p, n);
			/* Available only now: subscription requests that
			 * wait for us arrive after our roster is known. */
			conn_send(c, "<presence/>", 11);
			c->roster_got = 1;
			STAT_ADD(c->w, done2, 1);
			return 1;
		}
		if (xtag_attr_is(root, "type", "set")) {
			rs_items(c, p, n);
			conn_iq_result(c, root);
			return 1;
		}
		return 0;
	}
	if (!xtag_is(root, "presence") ||
	    !xtag_attr_is(root, "type", "subscribe"))
		return xtag_is(root, "presence");
	if (!from_user(root, &u) || (slot = slot_of(c->user, u)) < 0)
		return 1;	/* not a ring contact: leave it pending */
	send_sub(c, u, "subscribed");
	if (!(r->v[slot] & SUB_TO) && !r->v[opt.contacts + slot]) {
		r->v[opt.contacts + slot] = 1;
		send_sub(c, u, "subscribe");
	}
	return 1;
}

static void rs_phase(struct worker *w, int ph)
{
	if (ph != PH_RUN || w->started)
		return;
	w->started = 1;
	for (size_t i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		struct rstate *r = rs_of(c);

		if (c->state != CS_READY)
			continue;
		for (int j = 0; j < opt.contacts / 2; j++) {
			long u = contact_of(c->user, j);

			if (r->v[j] == SUB_BOTH || r->v[opt.contacts + j])
				continue;
			r->v[opt.contacts + j] = 1;
			buf_puts(&c->out, "<iq type='set' id='add'><query "
			    "xmlns='jabber:iq:roster'><item jid='");
			put_bare(&c->out, u);
			buf_puts(&c->out, "'/></query></iq>");
			send_sub(c, u, "subscribe");
		}
	}
}

static const struct scen_ops rs_ops = {
	.autostart = 1,
	.phase = rs_phase,
	.ready = rs_ready,
	.stanza = rs_stanza,
};

static int rosters_fetched(void)
{
	return SUM(done2) >= (uint64_t)opt.users;
}

static int all_complete(void)
{
	return SUM(done) >= (uint64_t)opt.users;
}

int run_setup_roster(void)
{
	struct connect_result cr;
	struct usage u0, u1;
	uint64_t t0, already;
	double secs;
	int rc;

	say("parley-bench setup-roster: users %ld..%ld of %s, %d mutual "
	    "contacts each (ring), %d thread%s\n", opt.user_offset,
	    opt.user_offset + opt.users - 1, opt.pattern, opt.contacts,
	    opt.threads, opt.threads > 1 ? "s" : "");
	workers_create(share, &rs_ops, 10000);
	assign();
	workers_start();
	connect_all((uint64_t)opt.users, &cr);
	if (wait_until(rosters_fetched, opt.timeout) != 1)
		fail_run("only %llu of %ld users got their roster; first "
		    "error: %s", (unsigned long long)SUM(done2), opt.users,
		    first_error());
	already = SUM(done);
	usage_now(&u0);
	t0 = u0.t_ns;
	set_phase(PH_RUN);
	rc = wait_until(all_complete, opt.duration);
	usage_now(&u1);
	secs = (double)(u1.t_ns - t0) / 1e9;
	say("  complete: %llu of %ld users have all %d contacts as 'both' "
	    "(%llu already had) after %.2f s\n",
	    (unsigned long long)SUM(done), opt.users, opt.contacts,
	    (unsigned long long)already, secs);
	res_add("users", "%ld", opt.users);
	res_add("contacts", "%d", opt.contacts);
	res_add("complete", "%llu", (unsigned long long)SUM(done));
	res_add("already", "%llu", (unsigned long long)already);
	res_add("secs", "%.3f", secs);
	report_cpu(&u0, &u1, 0, "");
	workers_finish();
	res_add("failures", "%llu", (unsigned long long)SUM(failed));
	res_print();
	if (rc != 1) {
		fprintf(stderr, "parley-bench: error: only %llu of %ld users "
		    "complete after %.0f s%s%s\n",
		    (unsigned long long)SUM(done), opt.users, opt.duration,
		    first_error()[0] ? "; first error: " : "", first_error());
		return 2;
	}
	return 0;
}

/* ---- presence ------------------------------------------------------------ */

/* Own bare JID ("local@domain") length check against a from attribute. */
static int from_self(const struct conn *c, const struct xtag *root)
{
	const char *v;
	size_t vl, bl;

	if (c->jid == NULL || !xtag_attr(root, "from", &v, &vl))
		return 0;
	bl = strcspn(c->jid, "/");
	return vl >= bl && memcmp(v, c->jid, bl) == 0 &&
	    (vl == bl || v[bl] == '/');
}

static void pr_ready(struct conn *c)
{
	conn_send(c, "<presence/>", 11);
	c->avail = 1;
	c->seq = now_ns();	/* last time this user came online */
}

static int pr_stanza(struct conn *c, const struct xtag *root, const char *p,
	    size_t n)
{
	struct worker *w = c->w;
	const char *txt;
	size_t tl;
	struct xtag t;
	uint64_t stamp = 0, run, now;

	if (!xtag_is(root, "presence"))
		return 0;
	if (!xtag_attr_is(root, "type", "unavailable")) {
		const char *v;
		size_t vl;

		if (xtag_attr(root, "type", &v, &vl))
			return 1;	/* subscription traffic, errors */
	}
	if (from_self(c, root)) {
		STAT_ADD(w, done2, 1);
		return 1;
	}
	STAT_ADD(w, recv, 1);
	if (!el_find(p, n, "status", &t, &txt, &tl) || tl < 22 ||
	    txt[0] != 't' || txt[1] != '=')
		return 1;
	for (int i = 2; i < 22; i++)
		stamp = stamp * 10 + (uint64_t)(txt[i] - '0');
	now = now_ns();
	run = atomic_load_explicit(&g_t_run, memory_order_relaxed);
	if (run != 0 && stamp >= run && stamp >= c->seq && now >= stamp)
		hist_add(&w->lat, now - stamp);
	return 1;
}

static void toggle(struct conn *c)
{
	uint64_t t = now_ns();

	if (c->avail) {
		conn_sendf(c, "<presence type='unavailable'><status>t=%020llu"
		    "</status></presence>", (unsigned long long)t);
		c->avail = 0;
	} else {
		conn_sendf(c, "<presence><status>t=%020llu</status>"
		    "</presence>", (unsigned long long)t);
		c->avail = 1;
		c->seq = t;
	}
	STAT_ADD(c->w, sent, 1);
}

static void pr_tick(struct worker *w, uint64_t now)
{
	int ph = atomic_load_explicit(w->phase, memory_order_relaxed);
	double rate_w;
	uint64_t target, due, cap;

	if ((ph != PH_WARM && ph != PH_RUN) || w->nconns == 0)
		return;
	rate_w = opt.rate * (double)w->nconns / (double)opt.users;
	target = (uint64_t)(rate_w * (double)(now - atomic_load(&g_t_load)) /
	    1e9);
	if (target <= w->sent_open)
		return;
	due = target - w->sent_open;
	cap = (uint64_t)(rate_w * 0.05) + 1;
	if (due > cap) {
		STAT_ADD(w, backlog, due - cap);
		w->sent_open += due - cap;
		due = cap;
	}
	while (due-- > 0) {
		struct conn *c = &w->conns[w->rr++ % w->nconns];

		w->sent_open++;
		if (c->state == CS_READY)
			toggle(c);
		else
			STAT_ADD(w, backlog, 1);
	}
}

static const struct scen_ops pr_ops = {
	.autostart = 1,
	.ready = pr_ready,
	.stanza = pr_stanza,
	.tick = pr_tick,
};

/* Waits until presence deliveries stop changing (the log-in storm of
 * initial presences is over), at most max_s. */
static void wait_quiet(double max_s)
{
	uint64_t end = now_ns() + (uint64_t)(max_s * 1e9), last = SUM(recv);

	while (now_ns() < end) {
		uint64_t cur;

		sleep_s(0.2);
		cur = SUM(recv);
		if (cur == last)
			return;
		last = cur;
	}
}

int run_presence(void)
{
	struct connect_result cr;
	struct measured m;
	struct usage u0, u1;
	struct hist lat;
	uint64_t r0, r1, s0, s1, delivered, toggles;
	double dt;

	if (opt.rate <= 0)
		opt.rate = 100;
	say("parley-bench presence: %ld users of %s, %d contacts each, %.0f "
	    "toggles/s, %d thread%s\n", opt.users, opt.pattern, opt.contacts,
	    opt.rate, opt.threads, opt.threads > 1 ? "s" : "");
	workers_create(share, &pr_ops, open_loop_tick_us(opt.rate));
	assign();
	workers_start();
	connect_all((uint64_t)opt.users, &cr);
	wait_quiet(10);
	say("  initial presence: %llu presence stanzas delivered while "
	    "logging in\n", (unsigned long long)SUM(recv));
	if (SUM(recv) == 0)
		say("  WARNING: no presence reached any contact: run "
		    "setup-roster first for this user range\n");

	atomic_store(&g_t_load, now_ns());
	run_measured("sessions", offsetof(struct wstats, recv),
	    offsetof(struct wstats, sent), &m);
	u0 = m.u0;
	u1 = m.u1;
	r0 = m.a0;
	r1 = m.a1;
	s0 = m.b0;
	s1 = m.b1;
	set_phase(PH_DRAIN);
	delivered = r1 - r0;
	toggles = s1 - s0;
	dt = (double)(u1.t_ns - u0.t_ns) / 1e9;
	merged_hist(&lat, 0);
	say("  toggles: %llu in %.2f s = %.0f/s; presence delivered to "
	    "contacts: %llu = %.0f/s (%.1f per toggle)\n",
	    (unsigned long long)toggles, dt, (double)toggles / dt,
	    (unsigned long long)delivered, (double)delivered / dt,
	    toggles ? (double)delivered / (double)toggles : 0.0);
	if (SUM(backlog) > 0)
		say("  %llu toggles skipped because the generator fell "
		    "behind\n", (unsigned long long)SUM(backlog));
	res_add("users", "%ld", opt.users);
	res_add("contacts", "%d", opt.contacts);
	res_add("threads", "%d", opt.threads);
	res_add("duration_s", "%.3f", dt);
	res_add("toggles", "%llu", (unsigned long long)toggles);
	res_add("toggles_per_s", "%.1f", (double)toggles / dt);
	res_add("presence_delivered", "%llu", (unsigned long long)delivered);
	res_add("presence_per_s", "%.1f", (double)delivered / dt);
	res_add("skipped", "%llu", (unsigned long long)SUM(backlog));
	report_hist("presence latency", "lat", &lat);
	report_cpu(&u0, &u1, delivered, "presence");
	hist_free(&lat);
	workers_finish();
	res_add("failures", "%llu", (unsigned long long)SUM(failed));
	res_print();
	if (SUM(failed) > (uint64_t)opt.max_failures) {
		fprintf(stderr, "parley-bench: error: %llu connections failed; "
		    "first error: %s\n", (unsigned long long)SUM(failed),
		    first_error());
		return 2;
	}
	if (delivered == 0) {
		fprintf(stderr, "parley-bench: error: no presence was "
		    "delivered (did setup-roster run for these users?)\n");
		return 2;
	}
	return 0;
}
