/* addrlimit.c - see addrlimit.h. */
#include "net/addrlimit.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/hmap.h"

/* The bucket holds this many seconds' worth of connections as burst. */
#define BURST_FACTOR	4u

struct addr_ent {
	unsigned	unauth;		/* open, not yet authenticated */
	double		tokens;		/* connect-rate bucket */
	uint64_t	last_ms;	/* last refill */
};

struct addrlimit {
	struct hmap	*m;
	unsigned	 max_unauth;
	unsigned	 rate;
};

struct addrlimit *addrlimit_new(unsigned max_unauth, unsigned rate_per_s)
{
	struct addrlimit *al = xcalloc(1, sizeof(*al));

	al->m = hmap_new();
	al->max_unauth = max_unauth;
	al->rate = rate_per_s;
	return al;
}

static void free_ent(void *ud, const char *key, void *val)
{
	free(val);
}

void addrlimit_free(struct addrlimit *al)
{
	if (al == NULL)
		return;
	hmap_each(al->m, free_ent, NULL);
	hmap_free(al->m);
	free(al);
}

static void refill(struct addrlimit *al, struct addr_ent *e, uint64_t now)
{
	double cap = (double)al->rate * BURST_FACTOR;

	e->tokens += (double)(now - e->last_ms) * al->rate / 1000.0;
	if (e->tokens > cap)
		e->tokens = cap;
	e->last_ms = now;
}

const char *addrlimit_admit(struct addrlimit *al, const char *addr)
{
	struct addr_ent *e = hmap_get(al->m, addr);
	uint64_t now = clock_mono_ms();

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->tokens = (double)al->rate * BURST_FACTOR;
		e->last_ms = now;
		hmap_put(al->m, addr, e);
	}
	refill(al, e, now);
	if (e->tokens < 1.0)
		return "too many new connections from your address";
	if (e->unauth >= al->max_unauth)
		return "too many unauthenticated connections from your address";
	e->tokens -= 1.0;
	e->unauth++;
	return NULL;
}

void addrlimit_release(struct addrlimit *al, const char *addr)
{
	struct addr_ent *e = hmap_get(al->m, addr);

	if (e != NULL && e->unauth > 0)
		e->unauth--;
}

struct gc_ctx {
	struct addrlimit	*al;
	uint64_t		 now;
	char			**dead;
	size_t			 n, cap;
};

static void gc_one(void *ud, const char *key, void *val)
{
	struct gc_ctx *g = ud;
	struct addr_ent *e = val;

	refill(g->al, e, g->now);
	if (e->unauth == 0 &&
	    e->tokens >= (double)g->al->rate * BURST_FACTOR) {
		if (g->n == g->cap) {
			g->cap = g->cap ? g->cap * 2 : 64;
			g->dead = xrealloc(g->dead, g->cap * sizeof(*g->dead));
		}
		g->dead[g->n++] = xstrdup(key);
	}
}

void addrlimit_gc(struct addrlimit *al)
{
	struct gc_ctx g = { al, clock_mono_ms(), NULL, 0, 0 };

	hmap_each(al->m, gc_one, &g);
	for (size_t i = 0; i < g.n; i++) {
		free(hmap_del(al->m, g.dead[i]));
		free(g.dead[i]);
	}
	free(g.dead);
}
