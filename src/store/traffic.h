/*
 * traffic.h - per-account traffic in time buckets, for `parleyctl top`
 * (admin/traffic.h counts in memory and flushes here), and the queue
 * depths the metrics page shows.
 *
 * Metadata only: how many messages, stanza bytes and files an account
 * sent, never what or to whom.
 *
 * Buckets.  Each flush adds its counts to two rows of the account: the
 * minute it falls in (span 60) and the hour (span 3600).  Minute rows
 * answer the 1h and 24h windows and are kept a day; hour rows answer 7d
 * and are kept a week; nothing older is kept.  A window is the last
 * window/span buckets, the current one included, so it covers between
 * window - span and window seconds: 59 to 60 minutes, 23h59m to 24h,
 * 167 to 168 hours (within 1.7%, 0.07% and 0.6%).  One granularity
 * would cost either accuracy (5-minute buckets: the hour window off by
 * up to 8%) or rows (minute buckets for a week: 10,080 per busy account
 * instead of 1,440 + 168).
 */
#ifndef PARLEY_STORE_TRAFFIC_H
#define PARLEY_STORE_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define TRAFFIC_MINUTE		60
#define TRAFFIC_HOUR		3600
#define TRAFFIC_MINUTES_KEPT	(24 * 3600)	/* seconds */
#define TRAFFIC_HOURS_KEPT	(7 * 24 * 3600)
#define TRAFFIC_WINDOW_MAX	TRAFFIC_HOURS_KEPT

struct traffic_counts {
	uint64_t	messages;	/* <message/> stanzas sent */
	uint64_t	bytes;		/* bytes of every stanza sent */
	uint64_t	files;		/* files uploaded and published */
	uint64_t	file_bytes;	/* their bytes */
};

enum traffic_by {
	TRAFFIC_BY_MESSAGES,
	TRAFFIC_BY_BYTES,
	TRAFFIC_BY_FILES,
};

struct traffic_row {
	const char		*account;	/* localpart */
	struct traffic_counts	 c;
};

/* The buckets a window of window_s seconds (at most TRAFFIC_WINDOW_MAX)
 * reads at wall time now: their span, and the start of the oldest. */
void	 traffic_window(int64_t now, int64_t window_s, int64_t *span,
	    int64_t *from);

/* In one transaction: adds each of the n rows' counts to its account's
 * minute and hour buckets for now (Unix seconds), and deletes the
 * buckets no window reads any more.  All or nothing. */
enum store_rc store_traffic_flush(struct store *st, int64_t now,
	    const struct traffic_row *rows, size_t n);
/* Calls fn for the (at most limit) accounts with the most of by in the
 * window, most first (ties by account name), leaving out those with
 * none.  The row lives for the call. */
enum store_rc store_traffic_top(struct store *st, int64_t now,
	    int64_t window_s, enum traffic_by by, unsigned limit,
	    void (*fn)(void *ud, const struct traffic_row *r), void *ud);

/* Messages stored offline and held for consent, over all accounts. */
enum store_rc store_queue_counts(struct store *st, int64_t *offline,
	    int64_t *held);

#endif
