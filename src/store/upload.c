/* upload.c - see upload.h. */
#include "store/upload.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "store/store_int.h"

#define ROW_COLUMNS "id, get_hash, owner, filename, content_type, size, " \
	"state, created, slot_expires, coalesce(expires, 0)"

void upload_rec_free(struct upload_rec *r)
{
	free(r->owner);
	free(r->filename);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}

static char *column_str(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return xstrdup(t != NULL ? (const char *)t : "");
}

static enum store_rc read_row(struct store *st, sqlite3_stmt *s,
    struct upload_rec *out, const char *what)
{
	int rc = sqlite3_step(s);
	enum store_rc ret = STORE_OK;

	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) == UPLOAD_HASH_LEN)
			memcpy(out->get_hash, sqlite3_column_blob(s, 1),
			    UPLOAD_HASH_LEN);
		out->owner = column_str(s, 2);
		out->filename = column_str(s, 3);
		out->content_type = column_str(s, 4);
		out->size = (uint64_t)sqlite3_column_int64(s, 5);
		out->state = sqlite3_column_int(s, 6);
		out->created = sqlite3_column_int64(s, 7);
		out->slot_expires = sqlite3_column_int64(s, 8);
		out->expires = sqlite3_column_int64(s, 9);
	} else if (rc == SQLITE_DONE) {
		ret = STORE_NOT_FOUND;
	} else {
		store_db_error(st, what);
		ret = STORE_ERR;
	}
	sqlite3_reset(s);
	return ret;
}

enum store_rc store_upload_add(struct store *st,
    const unsigned char put_hash[UPLOAD_HASH_LEN],
    const unsigned char get_hash[UPLOAD_HASH_LEN], const char *owner,
    const char *filename, const char *content_type, uint64_t size,
    int64_t now, int64_t slot_expires, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO uploads (put_hash, "
	    "get_hash, owner, filename, content_type, size, state, created, "
	    "slot_expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, put_hash, UPLOAD_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, get_hash, UPLOAD_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, filename, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, content_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)size);
	sqlite3_bind_int64(s, 7, now);
	sqlite3_bind_int64(s, 8, slot_expires);
	if (store_step_done(st, s, "add upload slot") != STORE_OK)
		return STORE_ERR;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return STORE_OK;
}

enum store_rc store_upload_by_put(struct store *st,
    const unsigned char hash[UPLOAD_HASH_LEN], struct upload_rec *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ROW_COLUMNS
	    " FROM uploads WHERE put_hash = ?1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, hash, UPLOAD_HASH_LEN, SQLITE_STATIC);
	return read_row(st, s, out, "look up upload slot");
}

enum store_rc store_upload_by_get(struct store *st,
    const unsigned char hash[UPLOAD_HASH_LEN], struct upload_rec *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ROW_COLUMNS
	    " FROM uploads WHERE get_hash = ?1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, hash, UPLOAD_HASH_LEN, SQLITE_STATIC);
	return read_row(st, s, out, "look up upload");
}

enum store_rc store_upload_move(struct store *st, int64_t id, int from,
    int to, int64_t expires)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE uploads SET state = ?3, "
	    "expires = CASE WHEN ?4 != 0 THEN ?4 ELSE expires END "
	    "WHERE id = ?1 AND state = ?2");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int(s, 2, from);
	sqlite3_bind_int(s, 3, to);
	sqlite3_bind_int64(s, 4, expires);
	if (store_step_done(st, s, "update upload") != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) == 1 ? STORE_OK : STORE_NOT_FOUND;
}

enum store_rc store_upload_usage(struct store *st, const char *owner,
    int64_t now, int64_t since, uint64_t *bytes, unsigned *count,
    int64_t *oldest)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT "
	    "coalesce(sum(CASE WHEN state IN (1, 2, 3, 4) OR "
	    "(state = 0 AND slot_expires > ?2) THEN size ELSE 0 END), 0), "
	    "coalesce(sum(created > ?3), 0), "
	    "coalesce(min(CASE WHEN created > ?3 THEN created END), 0) "
	    "FROM uploads WHERE owner = ?1");
	int rc;

	*bytes = 0;
	*count = 0;
	*oldest = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, since);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*bytes = (uint64_t)sqlite3_column_int64(s, 0);
		*count = (unsigned)sqlite3_column_int64(s, 1);
		*oldest = sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		store_db_error(st, "count uploads");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_upload_due(struct store *st, int64_t now,
    int unfinished, struct upload_due *out, size_t max, size_t *n)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, state, get_hash "
	    "FROM uploads WHERE (state IN (3, 4) AND expires <= ?1) "
	    "OR (state = 0 AND slot_expires <= ?1) "
	    "OR (?2 AND state IN (1, 2)) LIMIT ?3");
	int rc;

	*n = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int(s, 2, unfinished != 0);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
		struct upload_due *d = &out[(*n)++];

		d->id = sqlite3_column_int64(s, 0);
		d->state = sqlite3_column_int(s, 1);
		memset(d->get_hash, 0, UPLOAD_HASH_LEN);
		if (sqlite3_column_bytes(s, 2) == UPLOAD_HASH_LEN)
			memcpy(d->get_hash, sqlite3_column_blob(s, 2),
			    UPLOAD_HASH_LEN);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_error(st, "list expired uploads");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_upload_prune(struct store *st, int64_t before)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM uploads "
	    "WHERE state = 5 AND created < ?1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, before);
	return store_step_done(st, s, "prune uploads");
}
