/* offline.c - see offline.h. */
#include "store/offline.h"

#include <stdlib.h>
#include <time.h>

#include "core/alloc.h"
#include "store/store_int.h"

enum store_rc store_offline_push(struct store *st, const char *user,
    const char *sender, const char *xml, size_t len, unsigned max_count,
    size_t max_bytes)
{
	sqlite3_stmt *q, *ins;
	sqlite3_int64 n = 0, bytes = 0;
	int rc;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	q = store_stmt(st, "SELECT count(*), coalesce(sum(length(xml)), 0) "
	    "FROM offline WHERE user = ?1");
	if (q == NULL)
		goto fail;
	sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		n = sqlite3_column_int64(q, 0);
		bytes = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	if ((unsigned long long)n + 1 > max_count ||
	    (unsigned long long)bytes + len > max_bytes) {
		store_rollback(st);
		return STORE_FULL;
	}
	ins = store_stmt(st, "INSERT INTO offline (user, stamp, xml, sender) "
	    "VALUES (?1, ?2, ?3, ?4)");
	if (ins == NULL)
		goto fail;
	sqlite3_bind_text(ins, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(ins, 3, xml, (int)len, SQLITE_STATIC);
	if (sender != NULL)
		sqlite3_bind_text(ins, 4, sender, -1, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "store offline message");
		goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_offline_list(struct store *st, const char *user,
    void (*fn)(void *ud, int64_t id, const char *xml, size_t len), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, xml FROM offline "
	    "WHERE user = ?1 ORDER BY id");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, sqlite3_column_int64(s, 0),
		    (const char *)sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read offline messages");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_offline_delete_upto(struct store *st, const char *user,
    int64_t last_id)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM offline WHERE user = ?1 "
	    "AND id <= ?2");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, last_id);
	return store_step_done(st, s, "delete offline messages");
}

enum store_rc store_offline_forget(struct store *st, const char *user,
    int (*match)(void *ud, const char *sender), void *ud, unsigned *n)
{
	sqlite3_stmt *s;
	int64_t *ids = NULL;
	size_t nids = 0;
	int rc;

	if (n != NULL)
		*n = 0;
	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	/* Messages stored before senders were recorded have none and
	 * stay. */
	s = store_stmt(st, "SELECT id, sender FROM offline WHERE user = ?1 "
	    "AND sender IS NOT NULL");
	if (s == NULL)
		goto fail;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	/* Collected first: rows are not deleted under a running scan. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *from = sqlite3_column_text(s, 1);

		if (from == NULL || !match(ud, (const char *)from))
			continue;
		ids = xrealloc(ids, (nids + 1) * sizeof(*ids));
		ids[nids++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read offline senders");
		goto fail;
	}
	for (size_t i = 0; i < nids; i++) {
		s = store_stmt(st, "DELETE FROM offline WHERE id = ?1");
		if (s == NULL)
			goto fail;
		sqlite3_bind_int64(s, 1, ids[i]);
		if (store_step_done(st, s, "forget offline message") !=
		    STORE_OK)
			goto fail;
	}
	free(ids);
	if (store_commit(st) != STORE_OK)
		return STORE_ERR;
	if (n != NULL)
		*n = (unsigned)nids;
	return STORE_OK;
fail:
	free(ids);
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_offline_count(struct store *st, const char *user,
    unsigned *n)
{
	int64_t v;
	enum store_rc rc = store_query_int(st, &v, "count offline messages",
	    "SELECT count(*) FROM offline WHERE user = ?1", user, NULL);

	*n = (unsigned)v;
	return rc;
}
