/*
 * traffic.h - what each account sent, counted in memory and flushed to
 * the store's time buckets (store/traffic.h) every [metrics]
 * flush_interval and at shutdown, for `parleyctl top`.
 *
 * Metadata only: message and byte counts of the stanzas an account's
 * sessions sent (every stanza read from them, refused by a rate limit
 * or not: a flood is exactly what the admin wants to see), and the files
 * it uploaded.  Never a body, a recipient or an address.
 *
 * The hot path is one hash lookup and a few additions per stanza; no
 * SQLite write happens until the flush, which writes one pair of rows
 * per account that sent something since the last one, in one
 * transaction.  When the flush fails the counts stay and go with the
 * next one.  Memory: one entry per account that sent something since
 * the last flush.  Single-threaded, on the loop.
 */
#ifndef PARLEY_ADMIN_TRAFFIC_H
#define PARLEY_ADMIN_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct traffic;

struct traffic *traffic_new(void);
/* Frees what was not flushed (flush first at shutdown). */
void	 traffic_free(struct traffic *t);
/* One stanza of bytes from account (a localpart); is_message when it is
 * a <message/>. */
void	 traffic_stanza(struct traffic *t, const char *account,
	    int is_message, size_t bytes);
/* One file of bytes uploaded by account and published. */
void	 traffic_file(struct traffic *t, const char *account, uint64_t bytes);
/* Accounts with counts not yet flushed. */
size_t	 traffic_pending(const struct traffic *t);
/* Adds the counts to the buckets of now (Unix seconds), prunes buckets
 * past the longest window, and forgets the counts; on a store error
 * (store_errmsg says which) keeps them for the next flush. */
enum store_rc traffic_flush(struct traffic *t, struct store *st, int64_t now);

#endif
