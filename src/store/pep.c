/* pep.c - see pep.h. */
#include "store/pep.h"

#include "store/store_int.h"

static void conf_decode(sqlite3_stmt *s, int col, struct pep_conf *c)
{
	sqlite3_int64 a = sqlite3_column_int64(s, col);
	sqlite3_int64 m = sqlite3_column_int64(s, col + 1);

	/* A value this build does not know is read as the most closed
	 * model, never as a more open one. */
	c->access = a >= 0 && a <= PEP_ACCESS_WHITELIST ?
	    (unsigned)a : PEP_ACCESS_WHITELIST;
	c->max_items = m >= 1 && m <= 0x7fffffff ? (unsigned)m : 1;
	c->send_last = sqlite3_column_int(s, col + 2) != 0;
}

static void conf_bind(sqlite3_stmt *s, int col, const struct pep_conf *c)
{
	sqlite3_bind_int64(s, col, c->access);
	sqlite3_bind_int64(s, col + 1, c->max_items);
	sqlite3_bind_int(s, col + 2, c->send_last ? 1 : 0);
}

static void bind_un(sqlite3_stmt *s, const char *user, const char *node)
{
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, node, -1, SQLITE_STATIC);
}

enum store_rc store_pep_node_get(struct store *st, const char *user,
    const char *node, struct pep_conf *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT access, max_items, send_last "
	    "FROM pep_nodes WHERE user = ?1 AND node = ?2");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		conf_decode(s, 0, out);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	store_db_error(st, "read pep node");
	return STORE_ERR;
}

enum store_rc store_pep_node_create(struct store *st, const char *user,
    const char *node, const struct pep_conf *c, unsigned max_nodes)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int changes;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	if (store_query_int(st, &n, "count pep nodes", "SELECT count(*) "
	    "FROM pep_nodes WHERE user = ?1", user, NULL) != STORE_OK)
		goto fail;
	s = store_stmt(st, "INSERT INTO pep_nodes (user, node, access, "
	    "max_items, send_last) VALUES (?1, ?2, ?3, ?4, ?5) "
	    "ON CONFLICT (user, node) DO NOTHING");
	if (s == NULL)
		goto fail;
	bind_un(s, user, node);
	conf_bind(s, 3, c);
	/* The limit is checked after the insert so that creating a node
	 * that exists says "exists", not "full". */
	if (store_step_done(st, s, "create pep node") != STORE_OK)
		goto fail;
	changes = sqlite3_changes(store_db(st));
	if (changes == 0) {
		store_rollback(st);
		return STORE_EXISTS;
	}
	if ((unsigned long long)n >= max_nodes) {
		store_rollback(st);
		return STORE_FULL;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

/* Deletes the node's items beyond its newest max (inside a transaction). */
static enum store_rc trim(struct store *st, const char *user,
    const char *node, unsigned max)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM pep_items WHERE "
	    "user = ?1 AND node = ?2 AND item NOT IN (SELECT item FROM "
	    "pep_items WHERE user = ?1 AND node = ?2 "
	    "ORDER BY seq DESC LIMIT ?3)");

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	sqlite3_bind_int64(s, 3, max);
	return store_step_done(st, s, "trim pep items");
}

enum store_rc store_pep_node_set(struct store *st, const char *user,
    const char *node, const struct pep_conf *c)
{
	sqlite3_stmt *s;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	s = store_stmt(st, "UPDATE pep_nodes SET access = ?3, max_items = ?4, "
	    "send_last = ?5 WHERE user = ?1 AND node = ?2");
	if (s == NULL)
		goto fail;
	bind_un(s, user, node);
	conf_bind(s, 3, c);
	if (store_step_done(st, s, "configure pep node") != STORE_OK)
		goto fail;
	if (sqlite3_changes(store_db(st)) == 0) {
		store_rollback(st);
		return STORE_NOT_FOUND;
	}
	if (trim(st, user, node, c->max_items) != STORE_OK)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_pep_node_delete(struct store *st, const char *user,
    const char *node)
{
	/* Items and whitelist go by ON DELETE CASCADE. */
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM pep_nodes WHERE "
	    "user = ?1 AND node = ?2");

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	if (store_step_done(st, s, "delete pep node") != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOT_FOUND;
}

enum store_rc store_pep_node_list(struct store *st, const char *user,
    void (*fn)(void *ud, const char *node, const struct pep_conf *c),
    void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT node, access, max_items, "
	    "send_last FROM pep_nodes WHERE user = ?1 ORDER BY node");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *node = sqlite3_column_text(s, 0);
		struct pep_conf c;

		if (node == NULL)
			continue;
		conf_decode(s, 1, &c);
		fn(ud, (const char *)node, &c);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list pep nodes");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_pep_item_put(struct store *st, const char *user,
    const char *node, const char *item, const char *xml, size_t len)
{
	sqlite3_stmt *s;
	sqlite3_int64 max = 0, seq = 0;
	int rc;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	s = store_stmt(st, "SELECT max_items, (SELECT coalesce(max(seq), 0) "
	    "FROM pep_items WHERE user = ?1 AND node = ?2) "
	    "FROM pep_nodes WHERE user = ?1 AND node = ?2");
	if (s == NULL)
		goto fail;
	bind_un(s, user, node);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		max = sqlite3_column_int64(s, 0);
		seq = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		store_rollback(st);
		return STORE_NOT_FOUND;
	}
	if (rc != SQLITE_ROW) {
		store_db_error(st, "read pep node");
		goto fail;
	}
	s = store_stmt(st, "INSERT OR REPLACE INTO pep_items (user, node, "
	    "item, seq, xml) VALUES (?1, ?2, ?3, ?4, ?5)");
	if (s == NULL)
		goto fail;
	bind_un(s, user, node);
	sqlite3_bind_text(s, 3, item, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, seq + 1);
	sqlite3_bind_blob(s, 5, xml, (int)len, SQLITE_STATIC);
	if (store_step_done(st, s, "store pep item") != STORE_OK ||
	    trim(st, user, node, max >= 1 ? (unsigned)max : 1) != STORE_OK)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_pep_item_delete(struct store *st, const char *user,
    const char *node, const char *item)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM pep_items WHERE "
	    "user = ?1 AND node = ?2 AND item = ?3");

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	sqlite3_bind_text(s, 3, item, -1, SQLITE_STATIC);
	if (store_step_done(st, s, "retract pep item") != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOT_FOUND;
}

enum store_rc store_pep_item_purge(struct store *st, const char *user,
    const char *node)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM pep_items WHERE "
	    "user = ?1 AND node = ?2");

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	return store_step_done(st, s, "purge pep items");
}

enum store_rc store_pep_item_get(struct store *st, const char *user,
    const char *node, const char *item, struct buf *out)
{
	return store_query_blob(st, out, "read pep item", "SELECT xml FROM "
	    "pep_items WHERE user = ?1 AND node = ?2 AND item = ?3", user,
	    node, item, NULL);
}

enum store_rc store_pep_item_list(struct store *st, const char *user,
    const char *node, unsigned max,
    void (*fn)(void *ud, const char *item, const char *xml, size_t len),
    void *ud)
{
	/* LIMIT -1 is no limit in SQLite. */
	sqlite3_stmt *s = store_stmt(st, "SELECT item, xml FROM (SELECT item, "
	    "xml, seq FROM pep_items WHERE user = ?1 AND node = ?2 "
	    "ORDER BY seq DESC LIMIT ?3) ORDER BY seq");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	sqlite3_bind_int64(s, 3, max == 0 ? -1 : (sqlite3_int64)max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *item = sqlite3_column_text(s, 0);
		const void *xml = sqlite3_column_blob(s, 1);
		int n = sqlite3_column_bytes(s, 1);

		if (item != NULL && xml != NULL && n > 0)
			fn(ud, (const char *)item, xml, (size_t)n);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list pep items");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_pep_member_set(struct store *st, const char *user,
    const char *node, const char *jid, int member, unsigned max_members)
{
	sqlite3_stmt *s;
	int64_t n = 0;

	if (!member) {
		s = store_stmt(st, "DELETE FROM pep_whitelist WHERE "
		    "user = ?1 AND node = ?2 AND jid = ?3");
		if (s == NULL)
			return STORE_ERR;
		bind_un(s, user, node);
		sqlite3_bind_text(s, 3, jid, -1, SQLITE_STATIC);
		return store_step_done(st, s, "remove pep member");
	}
	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	if (store_query_int(st, &n, "count pep members", "SELECT count(*) "
	    "FROM pep_whitelist WHERE user = ?1 AND node = ?2", user, node,
	    NULL) != STORE_OK)
		goto fail;
	/* A missing node fails the foreign key; say so plainly instead. */
	s = store_stmt(st, "INSERT INTO pep_whitelist (user, node, jid) "
	    "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM pep_nodes WHERE "
	    "user = ?1 AND node = ?2) ON CONFLICT DO NOTHING");
	if (s == NULL)
		goto fail;
	bind_un(s, user, node);
	sqlite3_bind_text(s, 3, jid, -1, SQLITE_STATIC);
	if (store_step_done(st, s, "add pep member") != STORE_OK)
		goto fail;
	if (sqlite3_changes(store_db(st)) == 0) {
		/* Already a member, or no such node. */
		struct pep_conf c;
		enum store_rc r = store_pep_node_get(st, user, node, &c);

		store_rollback(st);
		return r == STORE_OK ? STORE_OK : r;
	}
	if ((unsigned long long)n >= max_members) {
		store_rollback(st);
		return STORE_FULL;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return STORE_ERR;
}

enum store_rc store_pep_member_check(struct store *st, const char *user,
    const char *node, const char *jid)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM pep_whitelist WHERE "
	    "user = ?1 AND node = ?2 AND jid = ?3");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	sqlite3_bind_text(s, 3, jid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	store_db_error(st, "read pep member");
	return STORE_ERR;
}

enum store_rc store_pep_member_list(struct store *st, const char *user,
    const char *node, void (*fn)(void *ud, const char *jid), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT jid FROM pep_whitelist "
	    "WHERE user = ?1 AND node = ?2 ORDER BY jid");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	bind_un(s, user, node);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *jid = sqlite3_column_text(s, 0);

		if (jid != NULL)
			fn(ud, (const char *)jid);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list pep members");
		return STORE_ERR;
	}
	return STORE_OK;
}
