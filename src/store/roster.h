/*
 * roster.h - stored rosters and subscription state (RFC 6121 2, 3).
 *
 * One row per (account, contact bare JID).  A row is either a roster item
 * the user sees (visible) or hidden subscription state the user never put
 * in the roster, such as an unanswered request from a stranger.  Every
 * change bumps the account's roster version (XEP-0237).  Items returned
 * are owned by the caller: roster_item_clear() frees their strings.
 */
#ifndef PARLEY_STORE_ROSTER_H
#define PARLEY_STORE_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* RFC 6121 2.1.2.5: which way presence flows. */
enum sub_state {
	SUB_NONE = 0,	/* neither */
	SUB_TO = 1,	/* the user sees the contact's presence */
	SUB_FROM = 2,	/* the contact sees the user's presence */
	SUB_BOTH = 3,
};

#define ROSTER_MAX_GROUPS 64

struct roster_item {
	char		*contact;	/* bare JID, normalised */
	char		*name;		/* NULL if none */
	unsigned	 sub;		/* enum sub_state */
	unsigned	 ask;		/* 1: the user asked to subscribe */
	unsigned	 pending_in;	/* 1: the contact asked, unanswered */
	unsigned	 approved;	/* 1: pre-approved (RFC 6121 3.4) */
	unsigned	 visible;	/* 1: a roster item, 0: hidden state */
	size_t		 ngroups;
	char		*groups[ROSTER_MAX_GROUPS];
	char		*pending_stanza; /* the request to show at login */
};

const char *sub_state_name(unsigned sub);
void	 roster_item_clear(struct roster_item *it);

/* STORE_NOT_FOUND if no row. */
enum store_rc store_roster_get(struct store *st, const char *user,
	    const char *contact, struct roster_item *out);
/* Inserts or replaces the row and bumps the version. */
enum store_rc store_roster_put(struct store *st, const char *user,
	    const struct roster_item *it);
/* Deletes the row (STORE_NOT_FOUND if none) and bumps the version. */
enum store_rc store_roster_delete(struct store *st, const char *user,
	    const char *contact);
/* Every row (visible and hidden), in contact order. */
enum store_rc store_roster_list(struct store *st, const char *user,
	    void (*fn)(void *ud, const struct roster_item *it), void *ud);
/* The account's roster version (0 before any change). */
enum store_rc store_roster_version(struct store *st, const char *user,
	    uint64_t *ver);
/* Visible items. */
enum store_rc store_roster_count(struct store *st, const char *user,
	    unsigned *n);
/* Replaces the stored request of a row with pending_in (what the user
 * is shown at login); the roster itself, and so its version, stays. */
enum store_rc store_roster_set_pending_stanza(struct store *st,
	    const char *user, const char *contact, const char *stanza);

#endif
