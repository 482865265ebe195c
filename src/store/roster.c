/* roster.c - see roster.h. */
#include "store/roster.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "store/store_int.h"

/* Groups are stored joined by a byte XML text cannot contain. */
#define GROUP_SEP '\x1f'

static const char *const sub_names[] = { "none", "to", "from", "both" };

const char *sub_state_name(unsigned sub)
{
	return sub < 4 ? sub_names[sub] : "none";
}

void roster_item_clear(struct roster_item *it)
{
	free(it->contact);
	free(it->name);
	for (size_t i = 0; i < it->ngroups; i++)
		free(it->groups[i]);
	free(it->pending_stanza);
	memset(it, 0, sizeof(*it));
}

static char *col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? xstrdup((const char *)t) : NULL;
}

static void split_groups(struct roster_item *it, const char *g)
{
	const char *p = g, *e;

	if (g == NULL || *g == '\0')
		return;
	for (;;) {
		e = strchr(p, GROUP_SEP);
		if (it->ngroups == ROSTER_MAX_GROUPS)
			break;
		it->groups[it->ngroups++] = e ? xstrndup(p, (size_t)(e - p)) :
		    xstrdup(p);
		if (e == NULL)
			break;
		p = e + 1;
	}
}

#define ROW_COLS "contact, name, sub, ask, pending_in, approved, visible, " \
	"groups, pending_stanza"

static void read_row(sqlite3_stmt *s, struct roster_item *it)
{
	const unsigned char *g;

	memset(it, 0, sizeof(*it));
	it->contact = col_text(s, 0);
	it->name = col_text(s, 1);
	it->sub = (unsigned)sqlite3_column_int(s, 2) & 3;
	it->ask = sqlite3_column_int(s, 3) != 0;
	it->pending_in = sqlite3_column_int(s, 4) != 0;
	it->approved = sqlite3_column_int(s, 5) != 0;
	it->visible = sqlite3_column_int(s, 6) != 0;
	g = sqlite3_column_text(s, 7);
	split_groups(it, (const char *)g);
	it->pending_stanza = col_text(s, 8);
}

enum store_rc store_roster_get(struct store *st, const char *user,
    const char *contact, struct roster_item *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ROW_COLS " FROM roster "
	    "WHERE user = ?1 AND contact = ?2");
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, contact, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_row(s, out);
		sqlite3_reset(s);
		return STORE_OK;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	store_db_error(st, "read roster item");
	return STORE_ERR;
}

static enum store_rc bump_version(struct store *st, const char *user)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO roster_version (user, "
	    "ver) VALUES (?1, 1) ON CONFLICT(user) DO UPDATE SET ver = ver + 1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		store_db_error(st, "bump roster version");
		sqlite3_reset(s);
		return STORE_ERR;
	}
	sqlite3_reset(s);
	return STORE_OK;
}

/* Runs one write and the version bump as one transaction. */
static enum store_rc write_and_bump(struct store *st, sqlite3_stmt *s,
    const char *user, int *changes)
{
	int rc;

	if (store_begin(st) != STORE_OK) {
		sqlite3_reset(s);
		return STORE_ERR;
	}
	rc = sqlite3_step(s);
	*changes = sqlite3_changes(store_db(st));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "write roster");
		store_rollback(st);
		return STORE_ERR;
	}
	if (*changes > 0 && bump_version(st, user) != STORE_OK) {
		store_rollback(st);
		return STORE_ERR;
	}
	return store_commit(st);
}

enum store_rc store_roster_put(struct store *st, const char *user,
    const struct roster_item *it)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT OR REPLACE INTO roster "
	    "(user, " ROW_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10)");
	struct buf g = BUF_INIT;
	enum store_rc rc;
	int changes;

	if (s == NULL)
		return STORE_ERR;
	for (size_t i = 0; i < it->ngroups; i++) {
		if (i > 0)
			buf_putc(&g, GROUP_SEP);
		buf_puts(&g, it->groups[i]);
	}
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, it->contact, -1, SQLITE_STATIC);
	if (it->name != NULL)
		sqlite3_bind_text(s, 3, it->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, (int)it->sub);
	sqlite3_bind_int(s, 5, (int)it->ask);
	sqlite3_bind_int(s, 6, (int)it->pending_in);
	sqlite3_bind_int(s, 7, (int)it->approved);
	sqlite3_bind_int(s, 8, (int)it->visible);
	if (it->ngroups > 0)
		sqlite3_bind_text(s, 9, g.data, (int)g.len, SQLITE_STATIC);
	if (it->pending_stanza != NULL)
		sqlite3_bind_text(s, 10, it->pending_stanza, -1,
		    SQLITE_STATIC);
	rc = write_and_bump(st, s, user, &changes);
	buf_free(&g);
	return rc;
}

enum store_rc store_roster_delete(struct store *st, const char *user,
    const char *contact)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM roster WHERE user = ?1 "
	    "AND contact = ?2");
	enum store_rc rc;
	int changes = 0;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, contact, -1, SQLITE_STATIC);
	rc = write_and_bump(st, s, user, &changes);
	if (rc == STORE_OK && changes == 0)
		return STORE_NOT_FOUND;
	return rc;
}

enum store_rc store_roster_list(struct store *st, const char *user,
    void (*fn)(void *ud, const struct roster_item *it), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " ROW_COLS " FROM roster "
	    "WHERE user = ?1 ORDER BY contact");
	struct roster_item it;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, &it);
		fn(ud, &it);
		roster_item_clear(&it);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list roster");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_roster_version(struct store *st, const char *user,
    uint64_t *ver)
{
	int64_t v;
	enum store_rc rc = store_query_int(st, &v, "read roster version",
	    "SELECT ver FROM roster_version WHERE user = ?1", user, NULL);

	*ver = v > 0 ? (uint64_t)v : 0;
	return rc;
}

enum store_rc store_roster_count(struct store *st, const char *user,
    unsigned *n)
{
	int64_t v;
	enum store_rc rc = store_query_int(st, &v, "count roster",
	    "SELECT count(*) FROM roster WHERE user = ?1 AND visible = 1",
	    user, NULL);

	*n = (unsigned)v;
	return rc;
}

enum store_rc store_roster_set_pending_stanza(struct store *st,
    const char *user, const char *contact, const char *stanza)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE roster SET pending_stanza = "
	    "?3 WHERE user = ?1 AND contact = ?2 AND pending_in = 1");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, stanza, -1, SQLITE_STATIC);
	return store_step_done(st, s, "update pending request");
}
