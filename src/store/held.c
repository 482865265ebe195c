/* held.c - see held.h. */
#include "store/held.h"

#include <time.h>

#include "store/store_int.h"

/* A new request is refused while the sender has started max_requests in
 * the window, or asked this recipient already in it (a declined request
 * cannot come straight back). */
static enum held_rc request_allowed(struct store *st, const char *user,
    const char *sender, const struct held_caps *caps, sqlite3_int64 now)
{
	sqlite3_stmt *q;
	sqlite3_int64 n = 0, same = 0;
	int rc;

	q = store_stmt(st, "SELECT count(*), coalesce(sum(user = ?2), 0) "
	    "FROM first_contacts WHERE sender = ?1 AND stamp > ?3");
	if (q == NULL)
		return HELD_ERR;
	sqlite3_bind_text(q, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, now - (sqlite3_int64)caps->window_s);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(q, 0);
		same = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		store_db_error(st, "count contact requests");
		return HELD_ERR;
	}
	if (same > 0)
		return HELD_AGAIN;
	if ((unsigned long long)n >= caps->max_requests)
		return HELD_TOO_MANY;
	return HELD_OK;
}

static enum held_rc log_request(struct store *st, const char *user,
    const char *sender, const struct held_caps *caps, sqlite3_int64 now)
{
	sqlite3_stmt *s;

	/* Rows older than the window count for nobody. */
	s = store_stmt(st, "DELETE FROM first_contacts WHERE stamp <= ?1");
	if (s == NULL)
		return HELD_ERR;
	sqlite3_bind_int64(s, 1, now - (sqlite3_int64)caps->window_s);
	if (store_step_done(st, s, "prune contact requests") != STORE_OK)
		return HELD_ERR;
	s = store_stmt(st, "INSERT INTO first_contacts (sender, user, stamp) "
	    "VALUES (?1, ?2, ?3)");
	if (s == NULL)
		return HELD_ERR;
	sqlite3_bind_text(s, 1, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	return store_step_done(st, s, "log contact request") == STORE_OK ?
	    HELD_OK : HELD_ERR;
}

enum held_rc store_held_push(struct store *st, const char *user,
    const char *sender, const char *preview, const char *xml, size_t len,
    const struct held_caps *caps, unsigned *count)
{
	sqlite3_stmt *q, *ins;
	sqlite3_int64 n = 0, bytes = 0, now = (sqlite3_int64)time(NULL);
	enum held_rc hr = HELD_ERR;
	int rc;

	*count = 0;
	if (store_begin(st) != STORE_OK)
		return HELD_ERR;
	q = store_stmt(st, "SELECT count(*), coalesce(sum(length(xml)), 0) "
	    "FROM held WHERE user = ?1 AND sender = ?2");
	if (q == NULL)
		goto fail;
	sqlite3_bind_text(q, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sender, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(q, 0);
		bytes = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW) {
		store_db_error(st, "count held messages");
		goto fail;
	}
	if ((unsigned long long)n + 1 > caps->max_messages ||
	    (unsigned long long)bytes + len > caps->max_bytes) {
		hr = HELD_FULL;
		goto fail;
	}
	if (n == 0) {
		if ((hr = request_allowed(st, user, sender, caps, now)) !=
		    HELD_OK)
			goto fail;
		if ((hr = log_request(st, user, sender, caps, now)) != HELD_OK)
			goto fail;
		hr = HELD_ERR;
	}
	ins = store_stmt(st, "INSERT INTO held (user, sender, stamp, preview, "
	    "xml) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (ins == NULL)
		goto fail;
	sqlite3_bind_text(ins, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(ins, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 3, now);
	sqlite3_bind_text(ins, 4, preview, -1, SQLITE_STATIC);
	sqlite3_bind_blob(ins, 5, xml, (int)len, SQLITE_STATIC);
	if (store_step_done(st, ins, "hold message") != STORE_OK)
		goto fail;
	if (store_commit(st) != STORE_OK)
		return HELD_ERR;
	*count = (unsigned)n + 1;
	return HELD_OK;
fail:
	store_rollback(st);
	return hr;
}

enum store_rc store_held_list(struct store *st, const char *user,
    const char *sender,
    void (*fn)(void *ud, int64_t id, const char *xml, size_t len), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, xml FROM held "
	    "WHERE user = ?1 AND sender = ?2 ORDER BY id");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, sqlite3_column_int64(s, 0),
		    (const char *)sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read held messages");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_held_delete_upto(struct store *st, const char *user,
    const char *sender, int64_t last_id)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM held WHERE user = ?1 "
	    "AND sender = ?2 AND id <= ?3");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, last_id);
	return store_step_done(st, s, "delete held messages");
}

enum store_rc store_held_forget(struct store *st, const char *user,
    const char *sender)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM held WHERE user = ?1 "
	    "AND sender = ?2");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	return store_step_done(st, s, "forget held messages");
}

enum store_rc store_held_summary(struct store *st, const char *user,
    const char *sender, struct buf *preview, unsigned *count)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT count(*), (SELECT preview "
	    "FROM held WHERE user = ?1 AND sender = ?2 ORDER BY id LIMIT 1) "
	    "FROM held WHERE user = ?1 AND sender = ?2");
	int rc;

	*count = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sender, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*count = (unsigned)sqlite3_column_int64(s, 0);
		if (*count > 0)
			buf_append(preview, sqlite3_column_text(s, 1),
			    (size_t)sqlite3_column_bytes(s, 1));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		store_db_error(st, "summarise held messages");
		return STORE_ERR;
	}
	return *count > 0 ? STORE_OK : STORE_NOT_FOUND;
}

enum store_rc store_held_senders(struct store *st, const char *user,
    void (*fn)(void *ud, const char *sender), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT DISTINCT sender FROM held "
	    "WHERE user = ?1");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list held senders");
		return STORE_ERR;
	}
	return STORE_OK;
}
