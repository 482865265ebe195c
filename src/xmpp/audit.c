/* audit.c - see audit.h. */
#include "xmpp/audit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/audit.h"
#include "store/store.h"
#include "xmpp/server.h"

/* Seconds between the timer's runs: how stale a count may be. */
#define AUDIT_TICK_S	5
/* Seconds between prunes at most (a day's retention prunes hourly). */
#define AUDIT_PRUNE_MAX_S 3600

/* One account's hits on one limit in the current window. */
struct hit {
	int64_t		 row;		/* its audit row; 0: not written */
	uint64_t	 start_ms;	/* the window began (monotonic) */
	unsigned	 count;		/* hits in the window */
	unsigned	 written;	/* the count the row says */
	char		*what;
	char		*note;		/* or NULL */
};

struct audit_svc {
	struct server	*srv;
	struct hmap	*hits;		/* "kind\037account\037what" -> hit */
	struct event	*ev;
	uint64_t	 next_prune_ms;
};

static void hit_free(struct hit *h)
{
	free(h->what);
	free(h->note);
	free(h);
}

static void hit_detail(const struct hit *h, char *out, size_t cap)
{
	snprintf(out, cap, "%s count=%u%s%s", h->what, h->count,
	    h->note != NULL ? " " : "", h->note != NULL ? h->note : "");
}

static void hit_write(struct audit_svc *a, struct hit *h)
{
	struct store *st = a->srv->store;
	char detail[PARLEY_AUDIT_DETAIL_MAX];

	if (h->row == 0 || h->written == h->count)
		return;
	hit_detail(h, detail, sizeof(detail));
	if (store_audit_set_detail(st, h->row, detail) != STORE_OK)
		log_error("audit: %s", store_errmsg(st));
	h->written = h->count;
}

static void prune(struct audit_svc *a)
{
	const struct config *cfg = a->srv->cfg;
	int64_t n = 0;
	uint64_t every;

	if (cfg->audit_retention == 0)
		return;
	if (store_audit_prune(a->srv->store, clock_wall_s() -
	    (int64_t)cfg->audit_retention, &n) != STORE_OK) {
		log_error("audit: pruning: %s", store_errmsg(a->srv->store));
		return;
	}
	if (n > 0)
		log_info("audit: %lld event%s older than %us deleted ([audit] "
		    "retention)", (long long)n, n == 1 ? "" : "s",
		    cfg->audit_retention);
	/* A 24th of the retention: an event outlives it by 4% at most. */
	every = cfg->audit_retention / 24;
	if (every > AUDIT_PRUNE_MAX_S)
		every = AUDIT_PRUNE_MAX_S;
	a->next_prune_ms = clock_mono_ms() + every * 1000;
}

struct sweep {
	struct audit_svc *a;
	uint64_t	 now;
	char		**done;		/* keys of windows that ended */
	size_t		 ndone;
};

static void sweep_one(void *ud, const char *key, void *val)
{
	struct sweep *sw = ud;
	struct hit *h = val;

	hit_write(sw->a, h);
	if (sw->now - h->start_ms >= PARLEY_AUDIT_COALESCE_S * 1000u) {
		sw->done = xrealloc(sw->done, (sw->ndone + 1) *
		    sizeof(*sw->done));
		sw->done[sw->ndone++] = xstrdup(key);
	}
}

void audit_svc_tick(struct audit_svc *a)
{
	struct sweep sw = { a, clock_mono_ms(), NULL, 0 };

	hmap_each(a->hits, sweep_one, &sw);
	for (size_t i = 0; i < sw.ndone; i++) {
		hit_free(hmap_del(a->hits, sw.done[i]));
		free(sw.done[i]);
	}
	free(sw.done);
	if (sw.now >= a->next_prune_ms)
		prune(a);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	audit_svc_tick(arg);
}

struct audit_svc *audit_svc_new(struct server *srv)
{
	struct audit_svc *a = xcalloc(1, sizeof(*a));
	struct timeval tv = { AUDIT_TICK_S, 0 };

	a->srv = srv;
	a->hits = hmap_new();
	a->ev = event_new(srv->base, -1, EV_PERSIST, tick_cb, a);
	event_add(a->ev, &tv);
	prune(a);
	return a;
}

static void free_one(void *ud, const char *key, void *val)
{
	struct hit *h = val;

	hit_write(ud, h);
	hit_free(h);
}

void audit_svc_free(struct audit_svc *a)
{
	if (a == NULL)
		return;
	if (a->ev != NULL)
		event_free(a->ev);
	hmap_each(a->hits, free_one, a);
	hmap_free(a->hits);
	free(a);
}

void audit_hit(struct server *srv, const char *kind, const char *account,
    const char *addr, const char *what, const char *note)
{
	struct audit_svc *a = srv->audit;
	struct buf key = BUF_INIT;
	struct hit *h;
	uint64_t now = clock_mono_ms();
	char detail[PARLEY_AUDIT_DETAIL_MAX];

	if (a == NULL) {
		/* No service (unit tests of a bare server): one row. */
		server_audit(srv, kind, account, addr, "%s count=1%s%s", what,
		    note ? " " : "", note ? note : "");
		return;
	}
	buf_printf(&key, "%s\037%s\037%s", kind, account ? account : "",
	    what);
	h = hmap_get(a->hits, buf_str(&key));
	if (h != NULL && now - h->start_ms < PARLEY_AUDIT_COALESCE_S * 1000u) {
		h->count++;
		buf_free(&key);
		return;
	}
	if (h == NULL) {
		h = xcalloc(1, sizeof(*h));
		h->what = xstrdup(what);
		hmap_put(a->hits, buf_str(&key), h);
	} else {
		hit_write(a, h);	/* the old window's last count */
	}
	free(h->note);
	h->note = note != NULL ? xstrdup(note) : NULL;
	h->start_ms = now;
	h->count = 1;
	h->row = 0;
	hit_detail(h, detail, sizeof(detail));
	if (store_audit_add_id(srv->store, clock_wall_s(), kind, account,
	    addr, detail, &h->row) != STORE_OK) {
		log_error("audit %s: %s", kind, store_errmsg(srv->store));
		h->row = 0;
	}
	h->written = 1;
	buf_free(&key);
}

void audit_policy(struct server *srv, const char *account, const char *addr,
    const char *policy, const char *action)
{
	char what[128];

	snprintf(what, sizeof(what), "policy=%s", policy);
	audit_hit(srv, "policy", account, addr, what, action);
}
