/*
 * offline.h - messages held for accounts that are offline (XEP-0160).
 *
 * A message is committed before store_offline_push() returns, so it
 * survives a crash of parleyd from then on.  Per-account quotas (count
 * and bytes) are checked in the same transaction as the insert.
 */
#ifndef PARLEY_STORE_OFFLINE_H
#define PARLEY_STORE_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* STORE_FULL when the message would pass max_count or max_bytes.  sender
 * is the full JID it came from (for store_offline_forget()). */
enum store_rc store_offline_push(struct store *st, const char *user,
	    const char *sender, const char *xml, size_t len,
	    unsigned max_count, size_t max_bytes);
/* Calls fn for each held message, oldest first. */
enum store_rc store_offline_list(struct store *st, const char *user,
	    void (*fn)(void *ud, int64_t id, const char *xml, size_t len),
	    void *ud);
/* Deletes the account's messages with id <= last_id. */
enum store_rc store_offline_delete_upto(struct store *st, const char *user,
	    int64_t last_id);
/* Deletes the account's messages whose sender match() accepts (blocking,
 * XEP-0191); *n (may be NULL) gets how many went. */
enum store_rc store_offline_forget(struct store *st, const char *user,
	    int (*match)(void *ud, const char *sender), void *ud,
	    unsigned *n);
/* Messages held for the account. */
enum store_rc store_offline_count(struct store *st, const char *user,
	    unsigned *n);

#endif
