/*
 * metrics.h - the server's aggregate counters and latency histograms, and
 * their OpenMetrics text form (the /metrics page, http/metrics.h).
 *
 * Aggregate only: no counter is per account, per address or per JID, so
 * nothing here can name a user (per-account traffic is admin/traffic.h,
 * shown only by parleyctl top).  The counters live in one process-wide
 * struct, `metrics`, written by the loop thread alone with plain
 * increments: the message path costs a few microseconds, and a counter
 * must cost a few nanoseconds of it, not a lock or a lookup.  parleyctl
 * links this module too; its counters simply stay unused.
 *
 * Histograms have fixed buckets chosen per quantity (metrics.c says
 * which and why); an observation is nanoseconds, the page shows seconds.
 * Gauges (sessions, queue depths) are not kept here: they are read when
 * the page is made, by whoever knows them (server.c), and passed in.
 */
#ifndef PARLEY_ADMIN_METRICS_H
#define PARLEY_ADMIN_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/buf.h"

/* Stanza kinds, as in the "kind" label. */
enum metrics_kind {
	MK_MESSAGE,
	MK_PRESENCE,
	MK_IQ,
	MK_NKINDS
};

/* The limits of the rate-limited counter's "limit" label: the per-account
 * buckets of xmpp/ratelimit.h, then connections refused per address
 * (net/addrlimit.h). */
enum metrics_limit {
	ML_MESSAGES,
	ML_PRESENCE,
	ML_IQ,
	ML_BYTES,
	ML_RECIPIENTS,
	ML_CONNECTIONS,
	ML_NLIMITS
};

#define METRICS_HIST_MAX	16
/* Stanza handling time is sampled: one stanza in this many is timed. */
#define METRICS_TIME_EVERY	8u

struct metrics_hist {
	const uint64_t		*bounds_ns;	/* ascending, n of them */
	const char *const	*le;		/* the same as label text */
	size_t			 n;
	uint64_t		 bucket[METRICS_HIST_MAX]; /* not cumulative */
	uint64_t		 count;
	uint64_t		 sum_ns;
};

struct metrics {
	uint64_t	 stanzas_in[MK_NKINDS];	/* from bound sessions */
	uint64_t	 stanzas_out[MK_NKINDS];	/* queued to sessions */
	uint64_t	 bytes_in;	/* XMPP client bytes read (plaintext) */
	uint64_t	 bytes_out;	/* XMPP client bytes queued */
	uint64_t	 connections;	/* XMPP connections accepted */
	uint64_t	 logins;	/* SASL successes */
	uint64_t	 auth_failures;	/* wrong password or unknown user */
	uint64_t	 rate_limited[ML_NLIMITS];
	uint64_t	 uploads;	/* files published (XEP-0363) */
	uint64_t	 upload_bytes;
	struct metrics_hist stanza_time;	/* complete stanza -> handled,
						   one in METRICS_TIME_EVERY */
	unsigned	 stanza_tick;
	struct metrics_hist store_write_time;	/* one write or COMMIT */
	struct metrics_hist login_time;		/* accepted -> bound */
};

extern struct metrics metrics;

/* What the caller knows at the moment the page is made.  A negative
 * value is unknown (the store could not say) and is left out. */
struct metrics_gauges {
	int64_t		 sessions_unauth;	/* not (yet) logged in */
	int64_t		 sessions_auth;		/* logged in */
	int64_t		 output_queue_bytes;	/* waiting to be written */
	int64_t		 offline_messages;	/* stored for later */
	int64_t		 held_messages;		/* first contact, held */
	int64_t		 uploads_scanning;	/* waiting for clamd */
	int64_t		 traffic_pending;	/* accounts not yet flushed */
};

/* A monotonic clock in nanoseconds, for the histograms. */
static inline uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Adds one observation of ns nanoseconds. */
void	 metrics_observe(struct metrics_hist *h, uint64_t ns);
/* The stanza kind of an element name ("message", "presence", "iq"). */
enum metrics_kind metrics_kind_of(const char *name);
/* Zeroes every counter (tests; parleyd starts from zero anyway). */
void	 metrics_reset(void);
/* Appends the OpenMetrics text of m and g to out, ending with # EOF. */
void	 metrics_render(const struct metrics *m,
	    const struct metrics_gauges *g, struct buf *out);

#endif
