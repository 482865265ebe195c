/* ratelimit.c - see ratelimit.h. */
#include "xmpp/ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hmap.h"
#include "core/limits.h"

/* Contacts (and conversations older than the hour's new ones) remembered
 * per account; past it the least recently written go, and cost one
 * roster read when written to again. */
#define KNOWN_MAX	64u

#define MILLI		1000u

struct rcpt {
	char		*jid;		/* bare JID */
	uint64_t	 first_ms;	/* when it counted as new */
	uint64_t	 last_ms;	/* last message to it */
	int		 counted;	/* new this hour */
};

struct acct {
	const struct rl_params *p;		/* its budgets */
	uint64_t	 last_ms;		/* refilled up to here */
	uint64_t	 mtok[RL_NBUCKETS];	/* milli-tokens */
	struct rcpt	*rcpt;
	size_t		 nrcpt, cap;
};

struct ratelimit {
	struct rl_params p;
	clock_ms_fn	 now;
	/* Per-account budgets (groups, xmpp/policy.h); NULL: p for all. */
	const struct rl_params *(*lookup)(void *ud, const char *account);
	void		*lookup_ud;
	struct hmap	*m;		/* account -> struct acct */
};

void ratelimit_set_lookup(struct ratelimit *rl,
    const struct rl_params *(*lookup)(void *ud, const char *account),
    void *ud)
{
	rl->lookup = lookup;
	rl->lookup_ud = ud;
}

struct ratelimit *ratelimit_new(const struct rl_params *p, clock_ms_fn now)
{
	struct ratelimit *rl = xcalloc(1, sizeof(*rl));

	rl->p = *p;
	for (int i = 0; i < RL_NBUCKETS; i++) {
		/* Zero would divide by zero below; config.c refuses it. */
		if (rl->p.rate[i] == 0)
			rl->p.rate[i] = 1;
		if (rl->p.burst[i] == 0)
			rl->p.burst[i] = 1;
	}
	if (rl->p.new_rcpt_per_hour == 0)
		rl->p.new_rcpt_per_hour = 1;
	rl->now = now != NULL ? now : clock_mono_ms;
	rl->m = hmap_new();
	return rl;
}

static void ratelimit_explain_params(const struct rl_params *p,
    enum rl_verdict v, char *out, size_t cap);

static void acct_free(struct acct *a)
{
	for (size_t i = 0; i < a->nrcpt; i++)
		free(a->rcpt[i].jid);
	free(a->rcpt);
	free(a);
}

static void free_val(void *ud, const char *k, void *v)
{
	acct_free(v);
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	hmap_each(rl->m, free_val, NULL);
	hmap_free(rl->m);
	free(rl);
}

static uint64_t full(const struct acct *a, int b)
{
	return (uint64_t)a->p->burst[b] * MILLI;
}

/* A rate of r tokens a second is r milli-tokens a millisecond. */
static void refill(struct acct *a, uint64_t now)
{
	uint64_t dt = now > a->last_ms ? now - a->last_ms : 0;

	for (int b = 0; b < RL_NBUCKETS; b++) {
		uint64_t cap = full(a, b);
		uint64_t room = cap > a->mtok[b] ? cap - a->mtok[b] : 0;

		/* Compare before multiplying: a long idle time times a
		 * large rate would overflow. */
		if (dt >= room / a->p->rate[b] + 1)
			a->mtok[b] = cap;
		else
			a->mtok[b] += dt * a->p->rate[b];
		if (a->mtok[b] > cap)
			a->mtok[b] = cap;
	}
	a->last_ms = now;
}

/* The budgets of account: its group's, or the defaults.  Asked at every
 * use (a hash lookup), so that a group change applies at once; a bucket
 * that shrank keeps no more than its new burst. */
static const struct rl_params *params_of(const struct ratelimit *rl,
    const char *account)
{
	const struct rl_params *p = rl->lookup != NULL ?
	    rl->lookup(rl->lookup_ud, account) : NULL;

	return p != NULL ? p : &rl->p;
}

static struct acct *acct_get(struct ratelimit *rl, const char *account,
    uint64_t now)
{
	struct acct *a = hmap_get(rl->m, account);

	if (a == NULL) {
		/* A fresh entry is a full one: the same as one long idle. */
		a = xcalloc(1, sizeof(*a));
		a->p = params_of(rl, account);
		for (int b = 0; b < RL_NBUCKETS; b++)
			a->mtok[b] = full(a, b);
		a->last_ms = now;
		hmap_put(rl->m, account, a);
		return a;
	}
	a->p = params_of(rl, account);
	for (int b = 0; b < RL_NBUCKETS; b++)
		if (a->mtok[b] > full(a, b))
			a->mtok[b] = full(a, b);
	return a;
}

/* Milliseconds until bucket b holds need milli-tokens (0 if it does). */
static uint64_t wait_for(const struct acct *a, int b, uint64_t need)
{
	uint64_t d;

	if (a->mtok[b] >= need)
		return 0;
	d = need - a->mtok[b];
	return (d + a->p->rate[b] - 1) / a->p->rate[b];
}

enum rl_verdict ratelimit_charge(struct ratelimit *rl, const char *account,
    enum rl_bucket kind, size_t bytes, uint64_t *wait_ms)
{
	uint64_t now = rl->now();
	struct acct *a = acct_get(rl, account, now);
	uint64_t nb = bytes < a->p->burst[RL_BYTES] ? bytes :
	    a->p->burst[RL_BYTES];
	uint64_t wk, wb;

	refill(a, now);
	wk = wait_for(a, kind, MILLI);
	wb = wait_for(a, RL_BYTES, nb * MILLI);
	if (wk == 0 && wb == 0) {
		a->mtok[kind] -= MILLI;
		a->mtok[RL_BYTES] -= nb * MILLI;
		*wait_ms = 0;
		return RL_PASS;
	}
	*wait_ms = wk > wb ? wk : wb;
	if (wk == 0)
		return RL_OVER_BYTES;
	return kind == RL_MESSAGE ? RL_OVER_MESSAGES :
	    kind == RL_PRESENCE ? RL_OVER_PRESENCE : RL_OVER_IQ;
}

static int in_window(const struct rcpt *r, uint64_t now)
{
	return now - r->first_ms < PARLEY_NEW_RCPT_WINDOW_MS;
}

/* Forgets recipients not written to within the hour; a new conversation
 * older than the hour no longer counts but is remembered while it goes on. */
static void expire(struct acct *a, uint64_t now)
{
	size_t i = 0;

	while (i < a->nrcpt) {
		struct rcpt *r = &a->rcpt[i];

		if (now - r->last_ms >= PARLEY_NEW_RCPT_WINDOW_MS) {
			free(r->jid);
			*r = a->rcpt[--a->nrcpt];
			continue;
		}
		if (r->counted && !in_window(r, now))
			r->counted = 0;
		i++;
	}
}

static void add_rcpt(struct acct *a, const char *to, uint64_t now,
    int counted)
{
	struct rcpt *r;

	if (!counted) {
		size_t n = 0, oldest = a->nrcpt;

		for (size_t i = 0; i < a->nrcpt; i++) {
			if (a->rcpt[i].counted)
				continue;
			n++;
			if (oldest == a->nrcpt ||
			    a->rcpt[i].last_ms < a->rcpt[oldest].last_ms)
				oldest = i;
		}
		if (n >= KNOWN_MAX) {
			free(a->rcpt[oldest].jid);
			a->rcpt[oldest] = a->rcpt[--a->nrcpt];
		}
	}
	if (a->nrcpt == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->rcpt = xrealloc(a->rcpt, a->cap * sizeof(*a->rcpt));
	}
	r = &a->rcpt[a->nrcpt++];
	r->jid = xstrdup(to);
	r->first_ms = now;
	r->last_ms = now;
	r->counted = counted;
}

enum rl_verdict ratelimit_recipient(struct ratelimit *rl,
    const char *account, const char *to,
    int (*known)(void *ud, const char *to), void *ud, uint64_t *wait_ms)
{
	uint64_t now = rl->now(), soonest = UINT64_MAX;
	struct acct *a = acct_get(rl, account, now);
	unsigned counted = 0;

	*wait_ms = 0;
	expire(a, now);
	for (size_t i = 0; i < a->nrcpt; i++) {
		if (strcmp(a->rcpt[i].jid, to) == 0) {
			a->rcpt[i].last_ms = now;
			return RL_PASS;
		}
	}
	if (known != NULL && known(ud, to)) {
		add_rcpt(a, to, now, 0);
		return RL_PASS;
	}
	for (size_t i = 0; i < a->nrcpt; i++) {
		const struct rcpt *r = &a->rcpt[i];

		if (!r->counted)
			continue;
		counted++;
		if (r->first_ms + PARLEY_NEW_RCPT_WINDOW_MS - now < soonest)
			soonest = r->first_ms + PARLEY_NEW_RCPT_WINDOW_MS - now;
	}
	if (counted < a->p->new_rcpt_per_hour) {
		add_rcpt(a, to, now, 1);
		return RL_PASS;
	}
	*wait_ms = soonest;
	return RL_OVER_RECIPIENTS;
}

const char *ratelimit_name(enum rl_verdict v)
{
	switch (v) {
	case RL_PASS:
		return "none";
	case RL_OVER_MESSAGES:
		return "messages";
	case RL_OVER_PRESENCE:
		return "presence";
	case RL_OVER_IQ:
		return "iq";
	case RL_OVER_BYTES:
		return "bytes";
	case RL_OVER_RECIPIENTS:
		return "new recipients";
	}
	return "?";
}

void ratelimit_explain(const struct ratelimit *rl, enum rl_verdict v,
    char *out, size_t cap)
{
	ratelimit_explain_params(&rl->p, v, out, cap);
}

void ratelimit_explain_for(const struct ratelimit *rl, const char *account,
    enum rl_verdict v, char *out, size_t cap)
{
	ratelimit_explain_params(params_of(rl, account), v, out, cap);
}

static void ratelimit_explain_params(const struct rl_params *p,
    enum rl_verdict v, char *out, size_t cap)
{
	static const char *const what[] = {
		[RL_MESSAGE] = "messages",
		[RL_PRESENCE] = "presence stanzas",
		[RL_IQ] = "IQ requests",
		[RL_BYTES] = "bytes",
	};
	int b;

	switch (v) {
	case RL_OVER_MESSAGES:
		b = RL_MESSAGE;
		break;
	case RL_OVER_PRESENCE:
		b = RL_PRESENCE;
		break;
	case RL_OVER_IQ:
		b = RL_IQ;
		break;
	case RL_OVER_BYTES:
		b = RL_BYTES;
		break;
	case RL_OVER_RECIPIENTS:
		snprintf(out, cap, "rate limited: more than %u new recipients "
		    "an hour (people you have no subscription with); wait, or "
		    "write to your contacts", p->new_rcpt_per_hour);
		return;
	default:
		snprintf(out, cap, "not rate limited");
		return;
	}
	snprintf(out, cap, "rate limited: more than %u %s a second (bursts "
	    "of %u) from your account; slow down and send again",
	    p->rate[b], what[b], p->burst[b]);
}

struct gc_ctx {
	struct ratelimit	*rl;
	uint64_t		 now;
	char			**dead;
	size_t			 n, cap;
};

static void gc_one(void *ud, const char *key, void *val)
{
	struct gc_ctx *g = ud;
	struct acct *a = val;

	/* Budgets as of now: an entry full by its old, larger budget
	 * is full by the new one too. */
	a->p = params_of(g->rl, key);
	refill(a, g->now);
	for (int b = 0; b < RL_NBUCKETS; b++)
		if (a->mtok[b] < full(a, b))
			return;
	for (size_t i = 0; i < a->nrcpt; i++)
		if (a->rcpt[i].counted && in_window(&a->rcpt[i], g->now))
			return;
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->dead = xrealloc(g->dead, g->cap * sizeof(*g->dead));
	}
	g->dead[g->n++] = xstrdup(key);
}

void ratelimit_gc(struct ratelimit *rl)
{
	struct gc_ctx g = { rl, rl->now(), NULL, 0, 0 };

	hmap_each(rl->m, gc_one, &g);
	for (size_t i = 0; i < g.n; i++) {
		acct_free(hmap_del(rl->m, g.dead[i]));
		free(g.dead[i]);
	}
	free(g.dead);
}

size_t ratelimit_count(const struct ratelimit *rl)
{
	return hmap_count(rl->m);
}
