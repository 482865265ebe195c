/* block.c - see block.h. */
#include "store/block.h"

#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "store/store_int.h"

enum store_rc store_block_list(struct store *st, const char *user,
    void (*fn)(void *ud, const char *jid), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT jid FROM blocklist "
	    "WHERE user = ?1 ORDER BY jid");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *j = sqlite3_column_text(s, 0);

		if (j != NULL)
			fn(ud, (const char *)j);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read blocklist");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_block_accounts(struct store *st, unsigned *n)
{
	int64_t v;
	enum store_rc rc = store_query_int(st, &v, "count blocklists",
	    "SELECT count(DISTINCT user) FROM blocklist", NULL);

	*n = (unsigned)v;
	return rc;
}

static void bind_opt_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
}

/* Queues one report unless its reporter has a full share of the queue;
 * returns 1 when queued, 0 when not, -1 on error. */
static int report_put(struct store *st, const struct block_report *r)
{
	sqlite3_stmt *s;
	int64_t queued;

	if (store_query_int(st, &queued, "count reports",
	    "SELECT count(*) FROM reports WHERE reporter = ?1", r->reporter,
	    NULL) != STORE_OK)
		return -1;
	if (queued >= PARLEY_REPORTS_PER_USER)
		return 0;
	s = store_stmt(st, "INSERT INTO reports (stamp, reporter, reported, "
	    "reason, text, stanza_ids, received, received_since, "
	    "offline_deleted, held_deleted, roster, reported_created) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, r->stamp);
	sqlite3_bind_text(s, 2, r->reporter, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, r->reported, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, r->reason, -1, SQLITE_STATIC);
	bind_opt_text(s, 5, r->text);
	bind_opt_text(s, 6, r->stanza_ids);
	bind_opt_int(s, 7, r->received);
	bind_opt_int(s, 8, r->received_since);
	sqlite3_bind_int64(s, 9, r->offline_deleted);
	sqlite3_bind_int64(s, 10, r->held_deleted);
	bind_opt_text(s, 11, r->roster);
	bind_opt_int(s, 12, r->reported_created);
	return store_step_done(st, s, "queue report") == STORE_OK ? 1 : -1;
}

enum store_rc store_block_add(struct store *st, const char *user,
    char *const *jids, size_t n, unsigned max,
    const struct block_report *reports, size_t nr, unsigned *dropped)
{
	sqlite3_stmt *s;
	int64_t count;

	if (dropped != NULL)
		*dropped = 0;
	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	for (size_t i = 0; i < n; i++) {
		s = store_stmt(st, "INSERT INTO blocklist (user, jid, stamp) "
		    "VALUES (?1, ?2, strftime('%s', 'now')) "
		    "ON CONFLICT (user, jid) DO NOTHING");
		if (s == NULL)
			goto fail;
		sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, jids[i], -1, SQLITE_STATIC);
		if (store_step_done(st, s, "block") != STORE_OK)
			goto fail;
	}
	/* Counted after the inserts: items already listed cost nothing. */
	if (store_query_int(st, &count, "count blocklist",
	    "SELECT count(*) FROM blocklist WHERE user = ?1", user, NULL) !=
	    STORE_OK)
		goto fail;
	if (count > (int64_t)max) {
		store_rollback(st);
		return STORE_FULL;
	}
	for (size_t i = 0; i < nr; i++) {
		int q = report_put(st, &reports[i]);

		if (q < 0)
			goto fail;
		if (q == 0 && dropped != NULL)
			(*dropped)++;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_block_remove(struct store *st, const char *user,
    char *const *jids, size_t n)
{
	sqlite3_stmt *s;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	for (size_t i = 0; i < n; i++) {
		s = store_stmt(st, "DELETE FROM blocklist WHERE user = ?1 "
		    "AND jid = ?2");
		if (s == NULL)
			goto fail;
		sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, jids[i], -1, SQLITE_STATIC);
		if (store_step_done(st, s, "unblock") != STORE_OK)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_block_clear(struct store *st, const char *user)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM blocklist "
	    "WHERE user = ?1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	return store_step_done(st, s, "unblock all");
}

static const char *col_text(sqlite3_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s, col);
}

static int64_t col_opt_int(sqlite3_stmt *s, int col)
{
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return -1;
	return sqlite3_column_int64(s, col);
}

enum store_rc store_report_list(struct store *st,
    void (*fn)(void *ud, const struct block_report *r), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, stamp, reporter, "
	    "reported, reason, text, stanza_ids, received, received_since, "
	    "offline_deleted, held_deleted, roster, reported_created "
	    "FROM reports ORDER BY id");
	struct block_report r;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(s, 0);
		r.stamp = sqlite3_column_int64(s, 1);
		r.reporter = col_text(s, 2);
		r.reported = col_text(s, 3);
		r.reason = col_text(s, 4);
		r.text = col_text(s, 5);
		r.stanza_ids = col_text(s, 6);
		r.received = col_opt_int(s, 7);
		r.received_since = col_opt_int(s, 8);
		r.offline_deleted = (unsigned)sqlite3_column_int64(s, 9);
		r.held_deleted = (unsigned)sqlite3_column_int64(s, 10);
		r.roster = col_text(s, 11);
		r.reported_created = col_opt_int(s, 12);
		if (r.reporter == NULL || r.reported == NULL ||
		    r.reason == NULL)
			continue;	/* NOT NULL columns: never */
		fn(ud, &r);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list reports");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_user_created(struct store *st, const char *localpart,
    int64_t *created)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT created FROM users "
	    "WHERE localpart = ?1");
	int rc;

	*created = -1;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, localpart, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*created = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	store_db_error(st, "read account");
	return STORE_ERR;
}
