/*
 * block.h - stored blocklists (XEP-0191) and the spam report queue
 * (XEP-0377).
 *
 * A blocklist is a set of normalised JIDs per account (bare, full, domain
 * or domain/resource, as the user gave them); rows go with their account.
 * A block and the reports that came with it are one transaction: the
 * item limit is checked inside it and nothing is written past it.
 *
 * A report keeps what the server knows about the reported JID, never a
 * message body: who reported whom, when, the reason and the reporter's
 * own text, the stanza ids the reporter named, and counts.  Reports stay
 * when the reporter's account is deleted: they are the admin's record.
 */
#ifndef PARLEY_STORE_BLOCK_H
#define PARLEY_STORE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Joins the stanza ids of a report: a byte XML text cannot contain. */
#define REPORT_ID_SEP	'\x1f'

struct block_report {
	int64_t		 id;		/* set by the store */
	int64_t		 stamp;		/* Unix time of the report */
	const char	*reporter;	/* bare JID */
	const char	*reported;	/* the blocked item */
	const char	*reason;	/* e.g. urn:xmpp:reporting:spam */
	const char	*text;		/* the reporter's, or NULL */
	const char	*stanza_ids;	/* REPORT_ID_SEP between, or NULL */
	/* Messages the reported JID sent the reporter while the reporter
	 * was online, counted since received_since (-1: not known). */
	int64_t		 received;
	int64_t		 received_since;
	unsigned	 offline_deleted; /* waiting offline, deleted */
	unsigned	 held_deleted;	/* waiting for consent, deleted */
	const char	*roster;	/* reporter's item: none/to/from/both,
					   or NULL when there is none */
	int64_t		 reported_created; /* account creation, -1: not a
					      local account */
};

/* Calls fn for each item of user's blocklist, in JID order. */
enum store_rc store_block_list(struct store *st, const char *user,
	    void (*fn)(void *ud, const char *jid), void *ud);
/*
 * Adds the n jids (already there: no change) and queues the nr reports,
 * as one transaction.  STORE_FULL, with nothing written, when the list
 * would pass max items.  Reports past PARLEY_REPORTS_PER_USER for their
 * reporter are not queued; *dropped (may be NULL) counts them.
 */
enum store_rc store_block_add(struct store *st, const char *user,
	    char *const *jids, size_t n, unsigned max,
	    const struct block_report *reports, size_t nr, unsigned *dropped);
/* Removes the n jids (absent ones are no error). */
enum store_rc store_block_remove(struct store *st, const char *user,
	    char *const *jids, size_t n);
/* Empties user's blocklist. */
enum store_rc store_block_clear(struct store *st, const char *user);

/* Calls fn for each queued report, oldest first. */
enum store_rc store_report_list(struct store *st,
	    void (*fn)(void *ud, const struct block_report *r), void *ud);
/* How many accounts have a non-empty blocklist. */
enum store_rc store_block_accounts(struct store *st, unsigned *n);
/* When the account was created (Unix time); STORE_NOT_FOUND if none. */
enum store_rc store_user_created(struct store *st, const char *localpart,
	    int64_t *created);

#endif
