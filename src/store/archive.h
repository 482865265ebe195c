/*
 * archive.h - per-user message archives (XEP-0313), their preferences,
 * and what each user's contacts were last told about them.
 *
 * Rows: one stored copy of a message per owner (a local account): the
 * stanza as delivered, the peer's bare JID, the direction, a server time
 * in milliseconds, and when it expires.  Ids are the SQLite row ids
 * (order = arrival order); what clients see is 'sid', 16 random hex
 * digits per row, so that ids say nothing about how much the server
 * carries.  Stamps never go backwards within one archive (each is at
 * least the previous one), so a time range is an id range: every query
 * is answered from the (owner, id) or (owner, peer, id) index, in one
 * index range scan, whatever the archive's size.
 *
 * A per-archive row count is kept by triggers (archive_size) so that the
 * quota check and the unfiltered RSM count cost one lookup.  When a new
 * message would exceed the quota, the oldest are deleted first.
 *
 * Preferences (XEP-0313 <prefs/>): a default (always, never, roster) and
 * lists of bare JIDs always or never archived.  Disclosure records: per
 * (owner, peer), the archiving state the two were last told, so that a
 * notice goes out once per state and not once per message.
 *
 * Everything goes with the owner's account (ON DELETE CASCADE).
 */
#ifndef PARLEY_STORE_ARCHIVE_H
#define PARLEY_STORE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define ARCHIVE_SID_LEN	16

enum archive_default {
	ARCH_DEFAULT_NEVER = 0,
	ARCH_DEFAULT_ALWAYS,
	ARCH_DEFAULT_ROSTER,
};

/* One message to store.  stamp_ms is raised to the archive's last stamp
 * when the clock went back; expires is Unix seconds (0: never). */
struct archive_msg {
	const char	*owner;		/* localpart */
	const char	*peer;		/* bare JID */
	int		 outgoing;
	int64_t		 stamp_ms;
	int64_t		 expires;
	const char	*xml;
	size_t		 len;
};

/* Stores m; sid gets the new row's id as clients see it (NUL-ended).
 * With max_rows > 0, first deletes the owner's oldest rows beyond
 * max_rows - 1.  *dropped (may be NULL) counts those. */
enum store_rc store_archive_add(struct store *st,
	    const struct archive_msg *m, unsigned max_rows,
	    char sid[ARCHIVE_SID_LEN + 1], unsigned *dropped);

/* A page query.  Bounds are exclusive row ids (0: none); stamp bounds are
 * inclusive ms (INT64_MIN/INT64_MAX: none) and are turned into ids here.
 * backwards: the newest matching rows first (RSM 'before'). */
struct archive_query {
	const char	*owner;
	const char	*with;		/* bare JID, or NULL */
	int64_t		 start_ms, end_ms;
	const char	*after_sid, *before_sid;	/* NULL: none */
	unsigned	 max;
	int		 backwards;
};

struct archive_row {
	int64_t		 id;
	char		 sid[ARCHIVE_SID_LEN + 1];
	const char	*peer;
	int		 outgoing;
	int64_t		 stamp_ms;
	const char	*xml;		/* valid during the callback */
	size_t		 len;
};

/* Calls fn for at most q->max rows, in the order asked; *more is 1 when
 * rows remain beyond the page in that direction.  STORE_NOT_FOUND when
 * after_sid or before_sid names no row of the owner. */
enum store_rc store_archive_query(struct store *st,
	    const struct archive_query *q,
	    void (*fn)(void *ud, const struct archive_row *r), void *ud,
	    int *more);
/* Rows in owner's archive (from the kept count). */
enum store_rc store_archive_count(struct store *st, const char *owner,
	    int64_t *n);
/* Every row of owner, oldest first (export). */
enum store_rc store_archive_each(struct store *st, const char *owner,
	    void (*fn)(void *ud, const struct archive_row *r), void *ud);
/* Deletes owner's rows (only those with peer, when with is not NULL);
 * *n (may be NULL) gets how many. */
enum store_rc store_archive_purge(struct store *st, const char *owner,
	    const char *with, int64_t *n);
/* Deletes owner's rows, preferences and disclosure records: nothing of
 * the archive is left. */
enum store_rc store_archive_purge_all(struct store *st, const char *owner,
	    int64_t *n);
/* Deletes up to batch rows of any owner whose expiry is at or before
 * now (Unix seconds); *n gets how many. */
enum store_rc store_archive_expire(struct store *st, int64_t now,
	    unsigned batch, int64_t *n);

/* For bulk loads (the benchmark): one transaction around many adds. */
enum store_rc store_archive_begin(struct store *st);
enum store_rc store_archive_commit(struct store *st);

/* ---- preferences ---------------------------------------------------------- */

/* STORE_NOT_FOUND when the user never set any (then the server default
 * applies).  fn gets each listed JID with always = 1 or 0. */
enum store_rc store_archive_prefs_get(struct store *st, const char *user,
	    enum archive_default *dflt,
	    void (*fn)(void *ud, const char *jid, int always), void *ud);
/* Replaces the user's preferences in one transaction. */
enum store_rc store_archive_prefs_set(struct store *st, const char *user,
	    enum archive_default dflt, const char *const *always,
	    size_t nalways, const char *const *never, size_t nnever);
/* The rule for one JID: 1 always, 0 never, -1 not listed. */
enum store_rc store_archive_prefs_rule(struct store *st, const char *user,
	    const char *jid, int *rule);
/* Calls fn for each user with preferences set. */
enum store_rc store_archive_prefs_users(struct store *st,
	    void (*fn)(void *ud, const char *user, enum archive_default d),
	    void *ud);

/* ---- disclosure ----------------------------------------------------------- */

/* The state last disclosed for (owner, peer) into out (a short string
 * such as "user:30d"); STORE_NOT_FOUND if none (never told, or off). */
enum store_rc store_archive_disclosed_get(struct store *st,
	    const char *owner, const char *peer, char *out, size_t cap);
/* Records state (NULL deletes the record). */
enum store_rc store_archive_disclosed_set(struct store *st,
	    const char *owner, const char *peer, const char *state,
	    int64_t stamp);
/* Calls fn for each record (of one owner, or of all when owner is
 * NULL).  fn must not write to the store: the caller collects first. */
enum store_rc store_archive_disclosed_each(struct store *st,
	    const char *owner, void (*fn)(void *ud, const char *owner,
	    const char *peer, const char *state), void *ud);

#endif
