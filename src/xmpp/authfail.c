/* authfail.c - see authfail.h. */
#include "xmpp/authfail.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"

/* A counter loses one failure per minute of quiet. */
#define DECAY_MS	60000u
/* Entries per table before idle ones are swept. */
#define TABLE_MAX	65536u

struct fail_ent {
	unsigned	count;
	uint64_t	last_ms;
};

struct authfail {
	struct hmap	*by_acct;
	struct hmap	*by_addr;
	unsigned	 base_ms, max_ms;
};

struct authfail *authfail_new(unsigned base_ms, unsigned max_ms)
{
	struct authfail *af = xcalloc(1, sizeof(*af));

	af->by_acct = hmap_new();
	af->by_addr = hmap_new();
	af->base_ms = base_ms;
	af->max_ms = max_ms;
	return af;
}

static void free_val(void *ud, const char *k, void *v)
{
	free(v);
}

void authfail_free(struct authfail *af)
{
	if (af == NULL)
		return;
	hmap_each(af->by_acct, free_val, NULL);
	hmap_each(af->by_addr, free_val, NULL);
	hmap_free(af->by_acct);
	hmap_free(af->by_addr);
	free(af);
}

static void decay(struct fail_ent *e, uint64_t now)
{
	uint64_t steps = (now - e->last_ms) / DECAY_MS;

	if (steps >= e->count)
		e->count = 0;
	else
		e->count -= (unsigned)steps;
	if (steps > 0)
		e->last_ms += steps * DECAY_MS;
}

struct sweep {
	struct hmap	*m;
	uint64_t	 now;
	char		**dead;
	size_t		 n, cap;
};

static void sweep_one(void *ud, const char *key, void *val)
{
	struct sweep *sw = ud;
	struct fail_ent *e = val;

	decay(e, sw->now);
	if (e->count == 0) {
		if (sw->n == sw->cap) {
			sw->cap = sw->cap ? sw->cap * 2 : 256;
			sw->dead = xrealloc(sw->dead, sw->cap * sizeof(char *));
		}
		sw->dead[sw->n++] = xstrdup(key);
	}
}

/* Keeps a table bounded: drop decayed entries; if an attacker filled it
 * with live ones, start over rather than grow without bound. */
static void bound(struct hmap **mp, uint64_t now)
{
	struct hmap *m = *mp;
	struct sweep sw = { m, now, NULL, 0, 0 };

	if (hmap_count(m) < TABLE_MAX)
		return;
	hmap_each(m, sweep_one, &sw);
	for (size_t i = 0; i < sw.n; i++) {
		free(hmap_del(m, sw.dead[i]));
		free(sw.dead[i]);
	}
	free(sw.dead);
	if (hmap_count(m) >= TABLE_MAX) {
		log_warn("auth back-off table full; resetting it");
		hmap_each(m, free_val, NULL);
		hmap_free(m);
		*mp = hmap_new();
	}
}

static unsigned bump(struct hmap **mp, const char *key, uint64_t now)
{
	struct fail_ent *e;

	bound(mp, now);
	e = hmap_get(*mp, key);
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->last_ms = now;
		hmap_put(*mp, key, e);
	}
	decay(e, now);
	e->count++;
	e->last_ms = now;
	return e->count;
}

unsigned authfail_record(struct authfail *af, const char *account,
    const char *addr, unsigned *count)
{
	uint64_t now = clock_mono_ms();
	unsigned a = bump(&af->by_acct, account, now);
	unsigned b = bump(&af->by_addr, addr, now);
	unsigned n = a > b ? a : b;
	uint64_t delay = af->base_ms;

	for (unsigned i = 1; i < n && delay < af->max_ms; i++)
		delay *= 2;
	if (delay > af->max_ms)
		delay = af->max_ms;
	*count = n;
	return (unsigned)delay;
}
