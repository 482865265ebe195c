/* blob.c - see blob.h. */
#include "store/blob.h"

#include "store/store_int.h"

enum store_rc store_blob_get(struct store *st, const char *user,
    const char *kind, const char *key, struct buf *out)
{
	return store_query_blob(st, out, "read blob", "SELECT xml FROM blobs "
	    "WHERE user = ?1 AND kind = ?2 AND key = ?3", user, kind, key,
	    NULL);
}

enum store_rc store_blob_put(struct store *st, const char *user,
    const char *kind, const char *key, const char *xml, size_t len)
{
	sqlite3_stmt *s = len == 0 ?
	    store_stmt(st, "DELETE FROM blobs WHERE user = ?1 AND kind = ?2 "
	    "AND key = ?3") :
	    store_stmt(st, "INSERT OR REPLACE INTO blobs (user, kind, key, "
	    "xml) VALUES (?1, ?2, ?3, ?4)");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
	if (len > 0)
		sqlite3_bind_blob(s, 4, xml, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "write blob");
		return STORE_ERR;
	}
	return STORE_OK;
}
