/* reglimit.c - see reglimit.h. */
#include "net/reglimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hmap.h"
#include "core/limits.h"

#define HOUR_MS		(3600u * 1000u)

struct rl_ent {
	uint64_t	*t[2];		/* event times, oldest first */
	unsigned	 n[2], cap[2];
};

struct reglimit {
	struct hmap	*m;		/* block key -> struct rl_ent */
	unsigned	 lim[2];	/* per hour, by enum reglimit_event */
	size_t		 next_sweep;	/* entry count to sweep at */
};

struct reglimit *reglimit_new(unsigned accounts_per_hour,
    unsigned refused_per_hour)
{
	struct reglimit *rl = xcalloc(1, sizeof(*rl));

	rl->m = hmap_new();
	rl->lim[RL_ACCOUNT] = accounts_per_hour;
	rl->lim[RL_REFUSED] = refused_per_hour;
	rl->next_sweep = 1024;
	return rl;
}

static void ent_free(struct rl_ent *e)
{
	free(e->t[0]);
	free(e->t[1]);
	free(e);
}

static void free_one(void *ud, const char *key, void *val)
{
	ent_free(val);
}

void reglimit_free(struct reglimit *rl)
{
	if (rl == NULL)
		return;
	hmap_each(rl->m, free_one, NULL);
	hmap_free(rl->m);
	free(rl);
}

/*
 * The block an address counts in: IPv4 as it is, IPv6 cut to its /64
 * (an IPv4-mapped IPv6 address is its IPv4 address).  Anything else, as
 * given.
 */
static void block_key(const char *addr, char *out, size_t cap)
{
	struct in6_addr a6;
	char txt[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET6, addr, &a6) != 1) {
		snprintf(out, cap, "%s", addr);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		inet_ntop(AF_INET, &a6.s6_addr[12], txt, sizeof(txt));
		snprintf(out, cap, "%s", txt);
		return;
	}
	memset(&a6.s6_addr[8], 0, 8);
	inet_ntop(AF_INET6, &a6, txt, sizeof(txt));
	snprintf(out, cap, "%s/64", txt);
}

/* Forgets events older than an hour. */
static void prune(struct rl_ent *e, uint64_t now)
{
	for (int k = 0; k < 2; k++) {
		unsigned i = 0;

		while (i < e->n[k] && now - e->t[k][i] >= HOUR_MS)
			i++;
		if (i > 0) {
			memmove(e->t[k], e->t[k] + i,
			    (e->n[k] - i) * sizeof(e->t[k][0]));
			e->n[k] -= i;
		}
	}
}

struct sweep_ctx {
	uint64_t	 now;
	char		**dead;
	size_t		 n, cap;
};

static void sweep_one(void *ud, const char *key, void *val)
{
	struct sweep_ctx *x = ud;
	struct rl_ent *e = val;

	prune(e, x->now);
	if (e->n[0] != 0 || e->n[1] != 0)
		return;
	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 64;
		x->dead = xrealloc(x->dead, x->cap * sizeof(*x->dead));
	}
	x->dead[x->n++] = xstrdup(key);
}

/* Drops the blocks with no event in the last hour. */
static void sweep(struct reglimit *rl, uint64_t now)
{
	struct sweep_ctx x = { now, NULL, 0, 0 };
	size_t left;

	hmap_each(rl->m, sweep_one, &x);
	for (size_t i = 0; i < x.n; i++) {
		ent_free(hmap_del(rl->m, x.dead[i]));
		free(x.dead[i]);
	}
	free(x.dead);
	left = hmap_count(rl->m);
	rl->next_sweep = left * 2 > 1024 ? left * 2 : 1024;
}

/* 1 if there is room for one more block (sweeping first if needed). */
static int room(struct reglimit *rl, uint64_t now)
{
	if (hmap_count(rl->m) >= PARLEY_REG_ADDRS_MAX)
		sweep(rl, now);
	return hmap_count(rl->m) < PARLEY_REG_ADDRS_MAX;
}

const char *reglimit_check(struct reglimit *rl, const char *addr,
    int creates_account, uint64_t now_ms)
{
	char key[INET6_ADDRSTRLEN + 8];
	struct rl_ent *e;

	block_key(addr, key, sizeof(key));
	e = hmap_get(rl->m, key);
	if (e == NULL)
		return room(rl, now_ms) ? NULL :
		    "registration is busy; try again later";
	prune(e, now_ms);
	if (rl->lim[RL_REFUSED] != 0 &&
	    e->n[RL_REFUSED] >= rl->lim[RL_REFUSED])
		return "too many refused registration attempts from your "
		    "network; try again in an hour";
	if (creates_account && rl->lim[RL_ACCOUNT] != 0 &&
	    e->n[RL_ACCOUNT] >= rl->lim[RL_ACCOUNT])
		return "too many accounts registered from your network; "
		    "try again in an hour";
	return NULL;
}

void reglimit_note(struct reglimit *rl, const char *addr,
    enum reglimit_event ev, uint64_t now_ms)
{
	char key[INET6_ADDRSTRLEN + 8];
	struct rl_ent *e;
	unsigned lim = rl->lim[ev];

	if (lim == 0)
		return;
	block_key(addr, key, sizeof(key));
	e = hmap_get(rl->m, key);
	if (e == NULL) {
		if (hmap_count(rl->m) >= rl->next_sweep)
			sweep(rl, now_ms);
		if (!room(rl, now_ms))
			return;
		e = xcalloc(1, sizeof(*e));
		hmap_put(rl->m, key, e);
	}
	prune(e, now_ms);
	/* Only whether lim events fall in the hour matters: keep no more. */
	if (e->n[ev] == lim) {
		memmove(e->t[ev], e->t[ev] + 1,
		    (e->n[ev] - 1) * sizeof(e->t[ev][0]));
		e->n[ev]--;
	}
	if (e->n[ev] == e->cap[ev]) {
		e->cap[ev] = e->cap[ev] ? e->cap[ev] * 2 : 4;
		if (e->cap[ev] > lim)
			e->cap[ev] = lim;
		e->t[ev] = xrealloc(e->t[ev], e->cap[ev] * sizeof(uint64_t));
	}
	e->t[ev][e->n[ev]++] = now_ms;
}
