/* archive.c - see archive.h. */
#include "store/archive.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

/* Runs fn inside a transaction of its own unless one is open already
 * (a bulk load). */
static int own_tx(struct store *st)
{
	if (!sqlite3_get_autocommit(store_db(st)))
		return 0;
	return store_begin(st) == STORE_OK ? 1 : -1;
}

static enum store_rc end_tx(struct store *st, int own, enum store_rc rc)
{
	if (own != 1)
		return rc;
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

static enum store_rc last_stamp(struct store *st, const char *owner,
    int64_t *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT stamp FROM archive "
	    "WHERE owner = ?1 ORDER BY id DESC LIMIT 1");
	int rc;

	*out = INT64_MIN;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_error(st, "read archive stamp");
		return STORE_ERR;
	}
	return STORE_OK;
}

static enum store_rc make_room(struct store *st, const char *owner,
    unsigned max_rows, unsigned *dropped)
{
	int64_t n;
	sqlite3_stmt *s;
	enum store_rc rc;

	rc = store_query_int(st, &n, "read archive size",
	    "SELECT n FROM archive_size WHERE owner = ?1", owner, NULL);
	if (rc != STORE_OK || n < (int64_t)max_rows)
		return rc;
	s = store_stmt(st, "DELETE FROM archive WHERE id IN (SELECT id "
	    "FROM archive WHERE owner = ?1 ORDER BY id LIMIT ?2)");
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, n - (int64_t)max_rows + 1);
	rc = store_step_done(st, s, "make room in archive");
	if (rc == STORE_OK && dropped != NULL)
		*dropped = (unsigned)(n - (int64_t)max_rows + 1);
	return rc;
}

enum store_rc store_archive_add(struct store *st,
    const struct archive_msg *m, unsigned max_rows,
    char sid[ARCHIVE_SID_LEN + 1], unsigned *dropped)
{
	int own = own_tx(st), rc;
	int64_t prev, stamp = m->stamp_ms;
	enum store_rc ret;
	sqlite3_stmt *s;

	if (dropped != NULL)
		*dropped = 0;
	sid[0] = '\0';
	if (own < 0)
		return STORE_ERR;
	ret = last_stamp(st, m->owner, &prev);
	if (ret == STORE_OK && prev > stamp)
		stamp = prev;	/* the clock went back: keep order */
	if (ret == STORE_OK && max_rows > 0)
		ret = make_room(st, m->owner, max_rows, dropped);
	if (ret != STORE_OK)
		return end_tx(st, own, ret);
	s = store_stmt(st, "INSERT INTO archive (owner, sid, peer, outgoing, "
	    "stamp, expires, xml) VALUES (?1, lower(hex(randomblob(8))), ?2, "
	    "?3, ?4, ?5, ?6) RETURNING sid");
	if (s == NULL)
		return end_tx(st, own, STORE_ERR);
	sqlite3_bind_text(s, 1, m->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, m->peer, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 3, m->outgoing ? 1 : 0);
	sqlite3_bind_int64(s, 4, stamp);
	if (m->expires > 0)
		sqlite3_bind_int64(s, 5, m->expires);
	sqlite3_bind_blob(s, 6, m->xml, (int)m->len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(s, 0);

		snprintf(sid, ARCHIVE_SID_LEN + 1, "%s", v ? (const char *)v :
		    "");
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "archive message");
		return end_tx(st, own, STORE_ERR);
	}
	return end_tx(st, own, STORE_OK);
}

/* The row id of sid in owner's archive. */
static enum store_rc sid_id(struct store *st, const char *owner,
    const char *sid, int64_t *id)
{
	enum store_rc rc = store_query_int(st, id, "find archive id",
	    "SELECT id FROM archive WHERE owner = ?1 AND sid = ?2", owner,
	    sid, NULL);

	if (rc == STORE_OK && *id == 0)
		return STORE_NOT_FOUND;
	return rc;
}

/* The first id at or after a stamp (first = 1), or the last at or before
 * it (first = 0); 0 when there is none. */
static enum store_rc stamp_id(struct store *st, const char *owner,
    int64_t ms, int first, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, first ?
	    "SELECT id FROM archive WHERE owner = ?1 AND stamp >= ?2 "
	    "ORDER BY stamp, id LIMIT 1" :
	    "SELECT id FROM archive WHERE owner = ?1 AND stamp <= ?2 "
	    "ORDER BY stamp DESC, id DESC LIMIT 1");
	int rc;

	*id = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ms);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_error(st, "find archive stamp");
		return STORE_ERR;
	}
	return STORE_OK;
}

static void read_row(sqlite3_stmt *s, struct archive_row *r)
{
	const unsigned char *sid = sqlite3_column_text(s, 1);

	r->id = sqlite3_column_int64(s, 0);
	snprintf(r->sid, sizeof(r->sid), "%s", sid ? (const char *)sid : "");
	r->peer = (const char *)sqlite3_column_text(s, 2);
	r->outgoing = sqlite3_column_int(s, 3);
	r->stamp_ms = sqlite3_column_int64(s, 4);
	r->xml = sqlite3_column_blob(s, 5);
	r->len = (size_t)sqlite3_column_bytes(s, 5);
	if (r->peer == NULL)
		r->peer = "";
	if (r->xml == NULL)
		r->xml = "";
}

enum store_rc store_archive_query(struct store *st,
    const struct archive_query *q,
    void (*fn)(void *ud, const struct archive_row *r), void *ud, int *more)
{
	int64_t lo = 0, hi = INT64_MAX, id;
	enum store_rc ret;
	sqlite3_stmt *s;
	unsigned n = 0;
	int rc;

	*more = 0;
	if (q->after_sid != NULL) {
		if ((ret = sid_id(st, q->owner, q->after_sid, &id)) !=
		    STORE_OK)
			return ret;
		lo = id;
	}
	if (q->before_sid != NULL) {
		if ((ret = sid_id(st, q->owner, q->before_sid, &id)) !=
		    STORE_OK)
			return ret;
		hi = id;
	}
	/* Stamps rise with ids in one archive: a time range is an id
	 * range, found with one index probe at each end. */
	if (q->start_ms != INT64_MIN) {
		if ((ret = stamp_id(st, q->owner, q->start_ms, 1, &id)) !=
		    STORE_OK)
			return ret;
		if (id == 0)
			return STORE_OK;
		if (id - 1 > lo)
			lo = id - 1;
	}
	if (q->end_ms != INT64_MAX) {
		if ((ret = stamp_id(st, q->owner, q->end_ms, 0, &id)) !=
		    STORE_OK)
			return ret;
		if (id == 0)
			return STORE_OK;
		if (id + 1 < hi)
			hi = id + 1;
	}
	if (lo >= hi)
		return STORE_OK;
	if (q->with != NULL)
		s = store_stmt(st, q->backwards ?
		    "SELECT id, sid, peer, outgoing, stamp, xml FROM archive "
		    "INDEXED BY archive_by_peer WHERE owner = ?1 AND "
		    "peer = ?5 AND id > ?2 AND id < ?3 ORDER BY id DESC "
		    "LIMIT ?4" :
		    "SELECT id, sid, peer, outgoing, stamp, xml FROM archive "
		    "INDEXED BY archive_by_peer WHERE owner = ?1 AND "
		    "peer = ?5 AND id > ?2 AND id < ?3 ORDER BY id LIMIT ?4");
	else
		s = store_stmt(st, q->backwards ?
		    "SELECT id, sid, peer, outgoing, stamp, xml FROM archive "
		    "INDEXED BY archive_by_owner WHERE owner = ?1 AND "
		    "id > ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4" :
		    "SELECT id, sid, peer, outgoing, stamp, xml FROM archive "
		    "INDEXED BY archive_by_owner WHERE owner = ?1 AND "
		    "id > ?2 AND id < ?3 ORDER BY id LIMIT ?4");
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, q->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, lo);
	sqlite3_bind_int64(s, 3, hi);
	/* One more than asked: whether the page is the last one. */
	sqlite3_bind_int64(s, 4, (int64_t)q->max + 1);
	if (q->with != NULL)
		sqlite3_bind_text(s, 5, q->with, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct archive_row r;

		if (n == q->max) {
			*more = 1;
			continue;
		}
		read_row(s, &r);
		fn(ud, &r);
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "query archive");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_archive_count(struct store *st, const char *owner,
    int64_t *n)
{
	return store_query_int(st, n, "read archive size",
	    "SELECT n FROM archive_size WHERE owner = ?1", owner, NULL);
}

enum store_rc store_archive_each(struct store *st, const char *owner,
    void (*fn)(void *ud, const struct archive_row *r), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, sid, peer, outgoing, "
	    "stamp, xml FROM archive WHERE owner = ?1 ORDER BY id");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct archive_row r;

		read_row(s, &r);
		fn(ud, &r);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read archive");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_archive_purge(struct store *st, const char *owner,
    const char *with, int64_t *n)
{
	sqlite3_stmt *s = store_stmt(st, with != NULL ?
	    "DELETE FROM archive WHERE owner = ?1 AND peer = ?2" :
	    "DELETE FROM archive WHERE owner = ?1");
	enum store_rc rc;

	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	if (with != NULL)
		sqlite3_bind_text(s, 2, with, -1, SQLITE_STATIC);
	rc = store_step_done(st, s, "purge archive");
	if (rc == STORE_OK && n != NULL)
		*n = sqlite3_changes(store_db(st));
	return rc;
}

static enum store_rc exec_user(struct store *st, const char *sql,
    const char *user, const char *what)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	return store_step_done(st, s, what);
}

enum store_rc store_archive_purge_all(struct store *st, const char *owner,
    int64_t *n)
{
	int own = own_tx(st);
	enum store_rc rc;

	if (own < 0)
		return STORE_ERR;
	rc = store_archive_purge(st, owner, NULL, n);
	if (rc == STORE_OK)
		rc = exec_user(st, "DELETE FROM archive_size WHERE owner = ?1",
		    owner, "purge archive size");
	if (rc == STORE_OK)
		rc = exec_user(st, "DELETE FROM archive_prefs_jids WHERE "
		    "user = ?1", owner, "purge archive preferences");
	if (rc == STORE_OK)
		rc = exec_user(st, "DELETE FROM archive_prefs WHERE user = ?1",
		    owner, "purge archive preferences");
	if (rc == STORE_OK)
		rc = exec_user(st, "DELETE FROM archive_disclosed WHERE "
		    "user = ?1", owner, "purge disclosure records");
	return end_tx(st, own, rc);
}

enum store_rc store_archive_expire(struct store *st, int64_t now,
    unsigned batch, int64_t *n)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM archive WHERE id IN "
	    "(SELECT id FROM archive WHERE expires IS NOT NULL AND "
	    "expires <= ?1 LIMIT ?2)");
	enum store_rc rc;

	*n = 0;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, batch);
	rc = store_step_done(st, s, "expire archive");
	if (rc == STORE_OK)
		*n = sqlite3_changes(store_db(st));
	return rc;
}

enum store_rc store_archive_begin(struct store *st)
{
	return store_begin(st);
}

enum store_rc store_archive_commit(struct store *st)
{
	return store_commit(st);
}

/* ---- preferences ---------------------------------------------------------- */

enum store_rc store_archive_prefs_get(struct store *st, const char *user,
    enum archive_default *dflt,
    void (*fn)(void *ud, const char *jid, int always), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT dflt FROM archive_prefs "
	    "WHERE user = ?1");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*dflt = (enum archive_default)sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW) {
		store_db_error(st, "read archive preferences");
		return STORE_ERR;
	}
	if (fn == NULL)
		return STORE_OK;
	s = store_stmt(st, "SELECT jid, always FROM archive_prefs_jids "
	    "WHERE user = ?1 ORDER BY jid");
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read archive preferences");
		return STORE_ERR;
	}
	return STORE_OK;
}

static enum store_rc add_rules(struct store *st, const char *user,
    const char *const *jids, size_t n, int always)
{
	sqlite3_stmt *s;
	enum store_rc rc = STORE_OK;

	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		s = store_stmt(st, "INSERT OR REPLACE INTO archive_prefs_jids "
		    "(user, jid, always) VALUES (?1, ?2, ?3)");
		if (s == NULL)
			return STORE_ERR;
		sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, jids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, always);
		rc = store_step_done(st, s, "write archive preferences");
	}
	return rc;
}

enum store_rc store_archive_prefs_set(struct store *st, const char *user,
    enum archive_default dflt, const char *const *always, size_t nalways,
    const char *const *never, size_t nnever)
{
	int own = own_tx(st);
	enum store_rc rc;
	sqlite3_stmt *s;

	if (own < 0)
		return STORE_ERR;
	rc = exec_user(st, "DELETE FROM archive_prefs_jids WHERE user = ?1",
	    user, "write archive preferences");
	if (rc == STORE_OK) {
		s = store_stmt(st, "INSERT OR REPLACE INTO archive_prefs "
		    "(user, dflt) VALUES (?1, ?2)");
		if (s == NULL)
			return end_tx(st, own, STORE_ERR);
		sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, (int)dflt);
		rc = store_step_done(st, s, "write archive preferences");
	}
	/* A JID in both lists is never archived: 'never' is written last. */
	if (rc == STORE_OK)
		rc = add_rules(st, user, always, nalways, 1);
	if (rc == STORE_OK)
		rc = add_rules(st, user, never, nnever, 0);
	return end_tx(st, own, rc);
}

enum store_rc store_archive_prefs_rule(struct store *st, const char *user,
    const char *jid, int *rule)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT always FROM "
	    "archive_prefs_jids WHERE user = ?1 AND jid = ?2");
	int rc;

	*rule = -1;
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, jid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*rule = sqlite3_column_int(s, 0) ? 1 : 0;
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_error(st, "read archive preferences");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_archive_prefs_users(struct store *st,
    void (*fn)(void *ud, const char *user, enum archive_default d), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT user, dflt FROM "
	    "archive_prefs");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		    (enum archive_default)sqlite3_column_int(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list archive preferences");
		return STORE_ERR;
	}
	return STORE_OK;
}

/* ---- disclosure ----------------------------------------------------------- */

enum store_rc store_archive_disclosed_get(struct store *st,
    const char *owner, const char *peer, char *out, size_t cap)
{
	struct buf b = BUF_INIT;
	enum store_rc rc = store_query_blob(st, &b, "read disclosure",
	    "SELECT state FROM archive_disclosed WHERE user = ?1 AND "
	    "peer = ?2", owner, peer, NULL);

	if (rc == STORE_OK)
		snprintf(out, cap, "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return rc;
}

enum store_rc store_archive_disclosed_set(struct store *st,
    const char *owner, const char *peer, const char *state, int64_t stamp)
{
	sqlite3_stmt *s;

	if (state == NULL) {
		s = store_stmt(st, "DELETE FROM archive_disclosed WHERE "
		    "user = ?1 AND peer = ?2");
		if (s == NULL)
			return STORE_ERR;
		sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
		return store_step_done(st, s, "write disclosure");
	}
	s = store_stmt(st, "INSERT OR REPLACE INTO archive_disclosed "
	    "(user, peer, state, stamp) VALUES (?1, ?2, ?3, ?4)");
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, stamp);
	return store_step_done(st, s, "write disclosure");
}

enum store_rc store_archive_disclosed_each(struct store *st,
    const char *owner, void (*fn)(void *ud, const char *owner,
    const char *peer, const char *state), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, owner != NULL ?
	    "SELECT user, peer, state FROM archive_disclosed WHERE user = ?1" :
	    "SELECT user, peer, state FROM archive_disclosed");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	if (owner != NULL)
		sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		    (const char *)sqlite3_column_text(s, 1),
		    (const char *)sqlite3_column_text(s, 2));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read disclosures");
		return STORE_ERR;
	}
	return STORE_OK;
}
