/*
 * held.h - messages from strangers held until the recipient answers the
 * contact request they became (first-contact consent, im/consent.c).
 *
 * Held messages are kept per (recipient account, sender bare JID), oldest
 * first, each with a one-line preview for the request.  A push is one
 * transaction: the caps are checked, the message and (for a pair's first
 * message, a new request) the sender's request log are written, and all
 * of it is committed before store_held_push() returns.
 */
#ifndef PARLEY_STORE_HELD_H
#define PARLEY_STORE_HELD_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

struct held_caps {
	unsigned	 max_messages;	/* per (recipient, sender) */
	size_t		 max_bytes;	/* per (recipient, sender) */
	unsigned	 max_requests;	/* new requests a sender may start */
	unsigned	 window_s;	/* ... in this many seconds */
};

enum held_rc {
	HELD_OK,
	HELD_FULL,	/* the pair's count or bytes would pass a cap */
	HELD_TOO_MANY,	/* a new request past max_requests */
	HELD_AGAIN,	/* the recipient was asked within the window */
	HELD_ERR,
};

/* Holds one message; *count is then the number the pair holds (1: this
 * message starts a new request).  Nothing is written unless HELD_OK. */
enum held_rc store_held_push(struct store *st, const char *user,
	    const char *sender, const char *preview, const char *xml,
	    size_t len, const struct held_caps *caps, unsigned *count);
/* Calls fn for each message the pair holds, oldest first. */
enum store_rc store_held_list(struct store *st, const char *user,
	    const char *sender,
	    void (*fn)(void *ud, int64_t id, const char *xml, size_t len),
	    void *ud);
/* Deletes the pair's messages with id <= last_id. */
enum store_rc store_held_delete_upto(struct store *st, const char *user,
	    const char *sender, int64_t last_id);
/* Deletes everything the pair holds. */
enum store_rc store_held_forget(struct store *st, const char *user,
	    const char *sender);
/* The pair's message count and the preview of its oldest message
 * (appended to preview); STORE_NOT_FOUND when it holds none. */
enum store_rc store_held_summary(struct store *st, const char *user,
	    const char *sender, struct buf *preview, unsigned *count);
/* Calls fn once for each sender with messages held for user. */
enum store_rc store_held_senders(struct store *st, const char *user,
	    void (*fn)(void *ud, const char *sender), void *ud);

#endif
