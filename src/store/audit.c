/* audit.c - see audit.h. */
#include "store/audit.h"

#include "store/store_int.h"

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v != NULL)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

enum store_rc store_audit_add(struct store *st, int64_t stamp,
    const char *kind, const char *account, const char *addr,
    const char *detail)
{
	return store_audit_add_id(st, stamp, kind, account, addr, detail,
	    NULL);
}

enum store_rc store_audit_add_id(struct store *st, int64_t stamp,
    const char *kind, const char *account, const char *addr,
    const char *detail, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO audit (stamp, kind, "
	    "account, addr, detail) VALUES (?1, ?2, ?3, ?4, ?5)");
	enum store_rc rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, stamp);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	bind_opt(s, 3, account);
	bind_opt(s, 4, addr);
	bind_opt(s, 5, detail);
	rc = store_step_done(st, s, "write audit event");
	if (rc == STORE_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

enum store_rc store_audit_set_detail(struct store *st, int64_t id,
    const char *detail)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE audit SET detail = ?2 "
	    "WHERE id = ?1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	bind_opt(s, 2, detail);
	return store_step_done(st, s, "update audit event");
}

enum store_rc store_audit_list(struct store *st, const char *account,
    int64_t since, void (*fn)(void *ud, const struct audit_row *r), void *ud)
{
	sqlite3_stmt *s;
	int rc;

	if (account != NULL)
		s = store_stmt(st, "SELECT id, stamp, kind, account, addr, "
		    "detail FROM audit WHERE account = ?1 AND stamp >= ?2 "
		    "ORDER BY stamp, id");
	else
		s = store_stmt(st, "SELECT id, stamp, kind, account, addr, "
		    "detail FROM audit WHERE stamp >= ?2 ORDER BY stamp, id");
	if (s == NULL)
		return STORE_ERR;
	if (account != NULL)
		sqlite3_bind_text(s, 1, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct audit_row r = {
			sqlite3_column_int64(s, 0),
			sqlite3_column_int64(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			(const char *)sqlite3_column_text(s, 3),
			(const char *)sqlite3_column_text(s, 4),
			(const char *)sqlite3_column_text(s, 5),
		};
		fn(ud, &r);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read audit events");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_audit_prune(struct store *st, int64_t before,
    int64_t *n)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM audit WHERE stamp < ?1");
	enum store_rc rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, before);
	rc = store_step_done(st, s, "prune audit events");
	if (rc == STORE_OK && n != NULL)
		*n = sqlite3_changes(store_db(st));
	return rc;
}
