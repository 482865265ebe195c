/* notice.c - see notice.h. */
#include "store/notice.h"

#include "store/store_int.h"

enum store_rc store_notice_add(struct store *st, const char *user,
    int64_t stamp, const char *kind, const char *text)
{
	enum store_rc rc = store_user_exists(st, user);
	sqlite3_stmt *s;

	if (rc != STORE_OK)
		return rc;
	s = store_stmt(st, "INSERT INTO notices (user, stamp, kind, text) "
	    "VALUES (?1, ?2, ?3, ?4)");
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, stamp);
	sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
	return store_step_done(st, s, "write notice");
}

enum store_rc store_notice_list(struct store *st, const char *user,
    void (*fn)(void *ud, int64_t id, int64_t stamp, const char *kind,
    const char *text), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, stamp, kind, text "
	    "FROM notices WHERE user = ?1 ORDER BY id");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
		    (const char *)sqlite3_column_text(s, 2),
		    (const char *)sqlite3_column_text(s, 3));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read notices");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_notice_delete_upto(struct store *st, const char *user,
    int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM notices WHERE user = ?1 "
	    "AND id <= ?2");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	return store_step_done(st, s, "delete notices");
}
