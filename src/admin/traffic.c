/* traffic.c - see traffic.h. */
#include "admin/traffic.h"

#include <stdlib.h>

#include "core/alloc.h"
#include "core/hmap.h"
#include "store/traffic.h"

/* An idle server still prunes, but only this often (seconds): a write
 * transaction every flush interval would sync the disk for nothing. */
#define IDLE_PRUNE_S	3600

struct traffic {
	struct hmap	*m;	/* localpart -> struct traffic_counts */
	int64_t		 pruned;	/* when buckets were last pruned */
};

struct traffic *traffic_new(void)
{
	struct traffic *t = xcalloc(1, sizeof(*t));

	t->m = hmap_new();
	return t;
}

static void free_val(void *ud, const char *k, void *v)
{
	free(v);
}

void traffic_free(struct traffic *t)
{
	if (t == NULL)
		return;
	hmap_each(t->m, free_val, NULL);
	hmap_free(t->m);
	free(t);
}

static struct traffic_counts *entry(struct traffic *t, const char *account)
{
	struct traffic_counts *c = hmap_get(t->m, account);

	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		hmap_put(t->m, account, c);
	}
	return c;
}

void traffic_stanza(struct traffic *t, const char *account, int is_message,
    size_t bytes)
{
	struct traffic_counts *c = entry(t, account);

	c->messages += is_message ? 1 : 0;
	c->bytes += bytes;
}

void traffic_file(struct traffic *t, const char *account, uint64_t bytes)
{
	struct traffic_counts *c = entry(t, account);

	c->files++;
	c->file_bytes += bytes;
}

size_t traffic_pending(const struct traffic *t)
{
	return hmap_count(t->m);
}

struct collect {
	struct traffic_row	*rows;
	size_t			 n;
};

static void collect_one(void *ud, const char *account, void *v)
{
	struct collect *x = ud;
	const struct traffic_counts *c = v;

	x->rows[x->n].account = account;
	x->rows[x->n].c = *c;
	x->n++;
}

enum store_rc traffic_flush(struct traffic *t, struct store *st, int64_t now)
{
	struct collect x = { NULL, 0 };
	enum store_rc rc;

	if (hmap_count(t->m) == 0 && now - t->pruned < IDLE_PRUNE_S &&
	    now >= t->pruned)
		return STORE_OK;
	x.rows = xcalloc(hmap_count(t->m) + 1, sizeof(*x.rows));
	hmap_each(t->m, collect_one, &x);
	rc = store_traffic_flush(st, now, x.rows, x.n);
	free(x.rows);
	if (rc != STORE_OK)
		return rc;
	t->pruned = now;
	hmap_each(t->m, free_val, NULL);
	hmap_free(t->m);
	t->m = hmap_new();
	return STORE_OK;
}
