/* settings.c - see settings.h. */
#include "store/settings.h"

#include "store/store_int.h"

enum store_rc store_setting_get(struct store *st, const char *user,
    const char *key, struct buf *out)
{
	return store_query_blob(st, out, "read account setting",
	    "SELECT value FROM account_settings WHERE user = ?1 AND key = ?2",
	    user, key, NULL);
}

enum store_rc store_setting_set(struct store *st, const char *user,
    const char *key, const char *value)
{
	enum store_rc rc = store_user_exists(st, user);
	sqlite3_stmt *s;

	if (rc != STORE_OK)
		return rc;
	if (value == NULL) {
		s = store_stmt(st, "DELETE FROM account_settings "
		    "WHERE user = ?1 AND key = ?2");
	} else {
		s = store_stmt(st, "INSERT INTO account_settings (user, key, "
		    "value) VALUES (?1, ?2, ?3) ON CONFLICT (user, key) "
		    "DO UPDATE SET value = ?3");
	}
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	if (value != NULL)
		sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
	return store_step_done(st, s, "write account setting");
}

enum store_rc store_setting_list(struct store *st, const char *key,
    void (*fn)(void *ud, const char *user, const char *value), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT user, value FROM "
	    "account_settings WHERE key = ?1");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list account settings");
		return STORE_ERR;
	}
	return STORE_OK;
}
