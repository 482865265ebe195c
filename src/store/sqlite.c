/* sqlite.c - see store.h (the SQLite back-end). */
#include "store/store.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "admin/metrics.h"
#include "core/alloc.h"
#include "core/hmap.h"
#include "store/store_int.h"

/*
 * Migrations, applied in order: the schema version is the number of
 * entries applied (PRAGMA user_version).  Never edit an entry once
 * released; append a new one.
 */
static const char *const migrations[] = {
	/* 1: accounts with both SCRAM credentials (never the password). */
	"CREATE TABLE users ("
	"  localpart TEXT PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  sha1_salt BLOB, sha1_iter INTEGER,"
	"  sha1_stored BLOB, sha1_server BLOB,"
	"  sha256_salt BLOB, sha256_iter INTEGER,"
	"  sha256_stored BLOB, sha256_server BLOB"
	");",
	/*
	 * 2: what RFC 6121 and the everyday extensions keep per account.
	 * Rows go with their account (ON DELETE CASCADE).  A roster row
	 * with visible = 0 holds subscription state the user never put in
	 * the roster (an unanswered request, RFC 6121 3.1.3).
	 */
	"CREATE TABLE roster ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  contact TEXT NOT NULL,"
	"  name TEXT,"
	"  sub INTEGER NOT NULL DEFAULT 0,"
	"  ask INTEGER NOT NULL DEFAULT 0,"
	"  pending_in INTEGER NOT NULL DEFAULT 0,"
	"  approved INTEGER NOT NULL DEFAULT 0,"
	"  visible INTEGER NOT NULL DEFAULT 1,"
	"  groups TEXT,"
	"  pending_stanza TEXT,"
	"  PRIMARY KEY (user, contact)"
	") WITHOUT ROWID;"
	"CREATE TABLE roster_version ("
	"  user TEXT PRIMARY KEY REFERENCES users(localpart) ON DELETE CASCADE,"
	"  ver INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE offline ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  stamp INTEGER NOT NULL,"
	"  xml BLOB NOT NULL"
	");"
	"CREATE INDEX offline_by_user ON offline (user, id);"
	"CREATE TABLE blobs ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  xml BLOB NOT NULL,"
	"  PRIMARY KEY (user, kind, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE pep_nodes ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  node TEXT NOT NULL,"
	"  access INTEGER NOT NULL,"
	"  max_items INTEGER NOT NULL DEFAULT 1,"
	"  send_last INTEGER NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (user, node)"
	") WITHOUT ROWID;"
	"CREATE TABLE pep_items ("
	"  user TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  item TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  xml BLOB NOT NULL,"
	"  PRIMARY KEY (user, node, item),"
	"  FOREIGN KEY (user, node) REFERENCES pep_nodes(user, node)"
	"    ON DELETE CASCADE"
	") WITHOUT ROWID;"
	"CREATE TABLE pep_whitelist ("
	"  user TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  jid TEXT NOT NULL,"
	"  PRIMARY KEY (user, node, jid),"
	"  FOREIGN KEY (user, node) REFERENCES pep_nodes(user, node)"
	"    ON DELETE CASCADE"
	") WITHOUT ROWID;",
	/*
	 * 3: first-contact consent (store/held.c, store/settings.c).  Held
	 * messages go with their recipient; the sender is any bare JID, so
	 * it has no foreign key.  first_contacts only counts requests of the
	 * last hour and is pruned as it is written.  account_settings holds
	 * what the admin (or the user) set for one account, by key.
	 */
	"CREATE TABLE held ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  sender TEXT NOT NULL,"
	"  stamp INTEGER NOT NULL,"
	"  preview TEXT NOT NULL,"
	"  xml BLOB NOT NULL"
	");"
	"CREATE INDEX held_by_pair ON held (user, sender, id);"
	"CREATE TABLE first_contacts ("
	"  sender TEXT NOT NULL,"
	"  user TEXT NOT NULL,"
	"  stamp INTEGER NOT NULL"
	");"
	"CREATE INDEX first_contacts_by_sender ON first_contacts "
	"  (sender, stamp);"
	"CREATE INDEX first_contacts_by_stamp ON first_contacts (stamp);"
	"CREATE TABLE account_settings ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (user, key)"
	") WITHOUT ROWID;",
	/*
	 * 4: blocking (XEP-0191) and spam reports (XEP-0377), store/block.c.
	 * A blocklist goes with its account; reports stay when the reporter's
	 * account goes (they are the admin's record) and hold no message
	 * body.  Offline messages learn their sender so that a block can
	 * delete what the blocked JID left waiting (older rows have none).
	 */
	"CREATE TABLE blocklist ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  jid TEXT NOT NULL,"
	"  stamp INTEGER NOT NULL,"
	"  PRIMARY KEY (user, jid)"
	") WITHOUT ROWID;"
	"CREATE TABLE reports ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  stamp INTEGER NOT NULL,"
	"  reporter TEXT NOT NULL,"
	"  reported TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  text TEXT,"
	"  stanza_ids TEXT,"
	"  received INTEGER,"
	"  received_since INTEGER,"
	"  offline_deleted INTEGER NOT NULL DEFAULT 0,"
	"  held_deleted INTEGER NOT NULL DEFAULT 0,"
	"  roster TEXT,"
	"  reported_created INTEGER"
	");"
	"CREATE INDEX reports_by_reporter ON reports (reporter);"
	"ALTER TABLE offline ADD COLUMN sender TEXT;",
	/*
	 * 5: invitations to register (store/invite.c, XEP-0401/0445).  Only
	 * the SHA-256 of a token is kept, never the token.
	 */
	"CREATE TABLE invites ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  uses_left INTEGER NOT NULL,"
	"  used INTEGER NOT NULL DEFAULT 0,"
	"  revoked INTEGER NOT NULL DEFAULT 0"
	");",
	/*
	 * 6: HTTP file uploads (XEP-0363, store/upload.c).  Only the SHA-256
	 * of each token is kept.  Rows keep no foreign key on users: a
	 * deleted account's files still expire on time.  upload_events is
	 * the admin's record of what the virus scanner found; it holds no
	 * file name and is never pruned.
	 */
	"CREATE TABLE uploads ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  put_hash BLOB NOT NULL UNIQUE,"
	"  get_hash BLOB NOT NULL UNIQUE,"
	"  owner TEXT NOT NULL,"
	"  filename TEXT NOT NULL,"
	"  content_type TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  slot_expires INTEGER NOT NULL,"
	"  expires INTEGER"
	");"
	"CREATE INDEX uploads_by_owner ON uploads (owner, created);"
	"CREATE INDEX uploads_by_state ON uploads (state, expires);"
	"CREATE TABLE upload_events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  stamp INTEGER NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  detail TEXT,"
	"  size INTEGER,"
	"  content_type TEXT,"
	"  upload_id INTEGER,"
	"  file TEXT"
	");",
	/*
	 * 7: notices the server owes a user (store/notice.c): what an admin
	 * read or exported of the account's data, told at the next login so
	 * that no access is silent.  They go with the account.
	 */
	"CREATE TABLE notices ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  stamp INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  text TEXT NOT NULL"
	");"
	"CREATE INDEX notices_by_user ON notices (user, id);",
	/*
	 * 8: the admin's audit trail (store/audit.c): metadata of events,
	 * never a message body.  addr is the client's address, kept here
	 * and nowhere else, shown only to the admin.  Rows stay when the
	 * account goes (they are the admin's record) until the retention
	 * job deletes them.
	 */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  stamp INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  account TEXT,"
	"  addr TEXT,"
	"  detail TEXT"
	");"
	"CREATE INDEX audit_by_account ON audit (account, stamp);"
	"CREATE INDEX audit_by_stamp ON audit (stamp);",
	/*
	 * 9: per-account traffic for `parleyctl top` (store/traffic.c):
	 * counts of messages, stanza bytes and files in minute (span 60)
	 * and hour (span 3600) buckets, never what was sent or to whom.
	 * No foreign key: a deleted account's rows age out with the rest
	 * (a week at most).
	 */
	"CREATE TABLE traffic ("
	"  span INTEGER NOT NULL,"
	"  start INTEGER NOT NULL,"
	"  account TEXT NOT NULL,"
	"  messages INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0,"
	"  files INTEGER NOT NULL DEFAULT 0,"
	"  file_bytes INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (span, start, account)"
	") WITHOUT ROWID;",
	/*
	 * 10: one audit trail.  What the virus scanner found (upload_events,
	 * 6) moves into audit as kind quarantine, upload-refused or upload
	 * (served unscanned), in the detail format of http/upload.c, and the
	 * old table goes: from now on its events are audit rows, under the
	 * audit retention.  backups records each `parleyctl backup` that
	 * finished, for `parleyctl check` ("no recent backup").
	 */
	"INSERT INTO audit (stamp, kind, account, addr, detail)"
	"  SELECT stamp,"
	"    CASE event WHEN 'infected' THEN 'quarantine'"
	"      WHEN 'unscanned' THEN 'upload' ELSE 'upload-refused' END,"
	"    owner, NULL,"
	"    printf('id=%d size=%d type=%s scan=%s%s%s', upload_id, size,"
	"      content_type, event,"
	"      CASE WHEN file IS NULL THEN '' ELSE ' file=quarantine/' || file"
	"        END,"
	"      CASE WHEN detail IS NULL THEN ''"
	"        WHEN event = 'infected' THEN ' signature=' || detail"
	"        ELSE ' reason=' || detail END)"
	"  FROM upload_events ORDER BY id;"
	"DROP TABLE upload_events;"
	"CREATE TABLE backups ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  stamp INTEGER NOT NULL,"
	"  file TEXT NOT NULL,"
	"  bytes INTEGER NOT NULL"
	");",
	/*
	 * 11: message archives (XEP-0313, store/archive.c).  One row per
	 * stored copy and owner; sid is what clients see.  The indexes
	 * answer every page query with one range scan: (owner, id) for the
	 * whole archive, (owner, peer, id) for one contact, (owner, stamp)
	 * to turn a time bound into an id.  archive_size is kept by the
	 * triggers so that the quota and the count cost one lookup.  The
	 * preferences and what was last disclosed go with the account.
	 */
	"CREATE TABLE archive ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  owner TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  sid TEXT NOT NULL,"
	"  peer TEXT NOT NULL,"
	"  outgoing INTEGER NOT NULL,"
	"  stamp INTEGER NOT NULL,"
	"  expires INTEGER,"
	"  xml BLOB NOT NULL"
	");"
	"CREATE INDEX archive_by_owner ON archive (owner, id);"
	"CREATE INDEX archive_by_peer ON archive (owner, peer, id);"
	"CREATE INDEX archive_by_stamp ON archive (owner, stamp);"
	"CREATE UNIQUE INDEX archive_by_sid ON archive (owner, sid);"
	"CREATE INDEX archive_by_expiry ON archive (expires) "
	"  WHERE expires IS NOT NULL;"
	"CREATE TABLE archive_size ("
	"  owner TEXT PRIMARY KEY REFERENCES users(localpart)"
	"    ON DELETE CASCADE,"
	"  n INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TRIGGER archive_added AFTER INSERT ON archive BEGIN"
	"  INSERT OR IGNORE INTO archive_size (owner, n) VALUES (NEW.owner, 0);"
	"  UPDATE archive_size SET n = n + 1 WHERE owner = NEW.owner;"
	"END;"
	"CREATE TRIGGER archive_removed AFTER DELETE ON archive BEGIN"
	"  UPDATE archive_size SET n = n - 1 WHERE owner = OLD.owner;"
	"END;"
	"CREATE TABLE archive_prefs ("
	"  user TEXT PRIMARY KEY REFERENCES users(localpart) ON DELETE CASCADE,"
	"  dflt INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE archive_prefs_jids ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  jid TEXT NOT NULL,"
	"  always INTEGER NOT NULL,"
	"  PRIMARY KEY (user, jid)"
	") WITHOUT ROWID;"
	"CREATE TABLE archive_disclosed ("
	"  user TEXT NOT NULL REFERENCES users(localpart) ON DELETE CASCADE,"
	"  peer TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  stamp INTEGER NOT NULL,"
	"  PRIMARY KEY (user, peer)"
	") WITHOUT ROWID;",
};

#define SCHEMA_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return SCHEMA_VERSION;
}

enum stmt_id {
	S_USER_CREATE,
	S_USER_SET_CREDS,
	S_USER_DELETE,
	S_USER_GET_CREDS,
	S_USER_EXISTS,
	S_USER_LIST,
	S_COUNT,
};

static const char *const stmt_sql[S_COUNT] = {
	[S_USER_CREATE] =
	    "INSERT INTO users (localpart, created,"
	    " sha1_salt, sha1_iter, sha1_stored, sha1_server,"
	    " sha256_salt, sha256_iter, sha256_stored, sha256_server)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	    " ON CONFLICT (localpart) DO NOTHING",
	[S_USER_SET_CREDS] =
	    "UPDATE users SET"
	    " sha1_salt = ?3, sha1_iter = ?4, sha1_stored = ?5,"
	    " sha1_server = ?6, sha256_salt = ?7, sha256_iter = ?8,"
	    " sha256_stored = ?9, sha256_server = ?10"
	    " WHERE localpart = ?1",
	[S_USER_DELETE] =
	    "DELETE FROM users WHERE localpart = ?1",
	[S_USER_GET_CREDS] =
	    "SELECT sha1_salt, sha1_iter, sha1_stored, sha1_server,"
	    " sha256_salt, sha256_iter, sha256_stored, sha256_server"
	    " FROM users WHERE localpart = ?1",
	[S_USER_EXISTS] =
	    "SELECT 1 FROM users WHERE localpart = ?1",
	[S_USER_LIST] =
	    "SELECT localpart FROM users ORDER BY localpart",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*stmt[S_COUNT];
	struct hmap	*cache;		/* SQL text -> sqlite3_stmt */
	char		 errmsg[256];
};

static void set_err(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
}

static void set_db_err(struct store *st, const char *what)
{
	set_err(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

static int exec(struct store *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		set_db_err(st, what);
		return -1;
	}
	return 0;
}

static int user_version(struct store *st, int *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
	    NULL) != SQLITE_OK) {
		set_db_err(st, "read schema version");
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	else
		set_db_err(st, "read schema version");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Each step runs in its own IMMEDIATE transaction and re-reads the version
 * inside it, so that parleyd and parleyctl opening a new file at the same
 * moment do not both apply a step.
 */
static int migrate(struct store *st)
{
	char sql[64];
	int v;

	for (;;) {
		if (exec(st, "BEGIN IMMEDIATE", "begin migration") != 0)
			return -1;
		if (user_version(st, &v) != 0)
			goto fail;
		if (v > SCHEMA_VERSION) {
			set_err(st, "database schema version %d is newer than "
			    "this program supports (%d)", v, SCHEMA_VERSION);
			goto fail;
		}
		if (v < 0) {
			set_err(st, "bad database schema version %d", v);
			goto fail;
		}
		if (v == SCHEMA_VERSION) {
			if (exec(st, "COMMIT", "commit") != 0)
				goto fail;
			return 0;
		}
		if (exec(st, migrations[v], "migrate schema") != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(st, sql, "set schema version") != 0 ||
		    exec(st, "COMMIT", "commit migration") != 0)
			goto fail;
	}
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int set_wal(struct store *st)
{
	sqlite3_stmt *s;
	int ok = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) != SQLITE_OK) {
		set_db_err(st, "set WAL mode");
		return -1;
	}
	/* The pragma answers with the mode in force, which is not WAL on a
	 * file system without shared memory. */
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(s, 0);

		ok = m != NULL && strcmp((const char *)m, "wal") == 0;
		if (!ok)
			set_err(st, "cannot use WAL mode (journal mode is %s)",
			    m ? (const char *)m : "unknown");
	} else
		set_db_err(st, "set WAL mode");
	sqlite3_finalize(s);
	return ok ? 0 : -1;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	mode_t old;

	st->cache = hmap_new();
	int rc, i;

	/* The file holds credentials: only the server's user reads it.  The
	 * -wal and -shm files inherit the database file's mode. */
	old = umask(077);
	rc = sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		int e = st->db ? sqlite3_system_errno(st->db) : 0;

		snprintf(err, errlen, "%s: cannot open database: %s%s%s%s",
		    path, st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc),
		    e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
		sqlite3_close(st->db);
		hmap_free(st->cache);
		free(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* parleyd and parleyctl share the file; a writer waits for the other
	 * instead of failing at once. */
	sqlite3_busy_timeout(st->db, 5000);
	if (set_wal(st) != 0 ||
	    exec(st, "PRAGMA synchronous = NORMAL", "set synchronous") != 0 ||
	    exec(st, "PRAGMA foreign_keys = ON", "enable foreign keys") != 0 ||
	    migrate(st) != 0)
		goto fail;
	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
		    SQLITE_OK) {
			set_db_err(st, "prepare statement");
			goto fail;
		}
	}
	return st;
fail:
	snprintf(err, errlen, "%s: %s", path, st->errmsg);
	store_close(st);
	return NULL;
}

static void finalize_cached(void *ud, const char *sql, void *stmt)
{
	sqlite3_finalize(stmt);
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->cache != NULL) {
		hmap_each(st->cache, finalize_cached, NULL);
		hmap_free(st->cache);
	}
	sqlite3_close(st->db);
	free(st);
}

const char *store_errmsg(const struct store *st)
{
	return st->errmsg[0] ? st->errmsg : "no error";
}

static sqlite3_stmt *stmt_get(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->stmt[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

static int bind_text(struct store *st, sqlite3_stmt *s, int i, const char *v)
{
	if (sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) != SQLITE_OK) {
		set_db_err(st, "bind");
		return -1;
	}
	return 0;
}

/* Binds one hash's four columns starting at parameter first. */
static int bind_creds(struct store *st, sqlite3_stmt *s, int first,
    const struct scram_creds *c, enum scram_hash want)
{
	size_t klen = scram_key_len(want);

	if (c == NULL || c->hash != want) {
		set_err(st, "%s credentials missing or of the wrong hash",
		    want == SCRAM_SHA1 ? "SHA-1" : "SHA-256");
		return -1;
	}
	if (c->salt_len == 0 || c->salt_len > SCRAM_SALT_LEN ||
	    c->iterations == 0 || c->iterations > INT_MAX ||
	    klen == 0 || klen > SCRAM_KEY_MAX) {
		set_err(st, "malformed %s credentials",
		    want == SCRAM_SHA1 ? "SHA-1" : "SHA-256");
		return -1;
	}
	if (sqlite3_bind_blob(s, first, c->salt, (int)c->salt_len,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(s, first + 1, c->iterations) != SQLITE_OK ||
	    sqlite3_bind_blob(s, first + 2, c->stored_key, (int)klen,
	    SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_blob(s, first + 3, c->server_key, (int)klen,
	    SQLITE_STATIC) != SQLITE_OK) {
		set_db_err(st, "bind");
		return -1;
	}
	return 0;
}

/* Runs a statement that returns no rows; *changes gets the rows touched. */
static enum store_rc run_write(struct store *st, sqlite3_stmt *s,
    const char *what, int *changes)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		set_db_err(st, what);
		sqlite3_reset(s);
		return STORE_ERR;
	}
	*changes = sqlite3_changes(st->db);
	sqlite3_reset(s);
	return STORE_OK;
}

static enum store_rc user_write(struct store *st, enum stmt_id id,
    const char *localpart, const struct scram_creds *sha1,
    const struct scram_creds *sha256, const char *what)
{
	sqlite3_stmt *s = stmt_get(st, id);
	enum store_rc rc;
	int changes;

	if (bind_text(st, s, 1, localpart) != 0 ||
	    (id == S_USER_CREATE &&
	    sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL)) != SQLITE_OK) ||
	    bind_creds(st, s, 3, sha1, SCRAM_SHA1) != 0 ||
	    bind_creds(st, s, 7, sha256, SCRAM_SHA256) != 0) {
		sqlite3_clear_bindings(s);
		return STORE_ERR;
	}
	rc = run_write(st, s, what, &changes);
	/* The bound keys are the caller's memory: drop the references. */
	sqlite3_clear_bindings(s);
	if (rc != STORE_OK)
		return rc;
	if (changes == 0)
		return id == S_USER_CREATE ? STORE_EXISTS : STORE_NOT_FOUND;
	return STORE_OK;
}

enum store_rc store_user_create(struct store *st, const char *localpart,
    const struct scram_creds *sha1, const struct scram_creds *sha256)
{
	return user_write(st, S_USER_CREATE, localpart, sha1, sha256,
	    "create user");
}

enum store_rc store_user_set_creds(struct store *st, const char *localpart,
    const struct scram_creds *sha1, const struct scram_creds *sha256)
{
	return user_write(st, S_USER_SET_CREDS, localpart, sha1, sha256,
	    "set credentials");
}

enum store_rc store_user_delete(struct store *st, const char *localpart)
{
	sqlite3_stmt *s = stmt_get(st, S_USER_DELETE);
	enum store_rc rc;
	int changes;

	if (bind_text(st, s, 1, localpart) != 0)
		return STORE_ERR;
	rc = run_write(st, s, "delete user", &changes);
	if (rc != STORE_OK)
		return rc;
	return changes ? STORE_OK : STORE_NOT_FOUND;
}

/* Copies a blob column, checking its length against [min, max]. */
static int column_blob(sqlite3_stmt *s, int col, void *dst, size_t min,
    size_t max, size_t *len)
{
	int n;

	if (sqlite3_column_type(s, col) != SQLITE_BLOB)
		return -1;
	n = sqlite3_column_bytes(s, col);
	if (n < 0 || (size_t)n < min || (size_t)n > max)
		return -1;
	if (n > 0)
		memcpy(dst, sqlite3_column_blob(s, col), (size_t)n);
	*len = (size_t)n;
	return 0;
}

enum store_rc store_user_get_creds(struct store *st, const char *localpart,
    enum scram_hash h, struct scram_creds *out)
{
	sqlite3_stmt *s = stmt_get(st, S_USER_GET_CREDS);
	size_t klen = scram_key_len(h), n;
	sqlite3_int64 iter;
	int col = h == SCRAM_SHA1 ? 0 : 4, rc;
	enum store_rc ret = STORE_ERR;

	memset(out, 0, sizeof(*out));
	if (bind_text(st, s, 1, localpart) != 0)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = STORE_NOT_FOUND;
		goto done;
	}
	if (rc != SQLITE_ROW) {
		set_db_err(st, "read credentials");
		goto done;
	}
	/* An account without credentials of this hash cannot log in with
	 * it; to the caller that is the same as no account. */
	if (sqlite3_column_type(s, col) == SQLITE_NULL &&
	    sqlite3_column_type(s, col + 1) == SQLITE_NULL &&
	    sqlite3_column_type(s, col + 2) == SQLITE_NULL &&
	    sqlite3_column_type(s, col + 3) == SQLITE_NULL) {
		ret = STORE_NOT_FOUND;
		goto done;
	}
	out->hash = h;
	iter = sqlite3_column_int64(s, col + 1);
	if (sqlite3_column_type(s, col + 1) != SQLITE_INTEGER ||
	    iter <= 0 || iter > UINT_MAX ||
	    klen == 0 || klen > SCRAM_KEY_MAX ||
	    column_blob(s, col, out->salt, 1, SCRAM_SALT_LEN,
	    &out->salt_len) != 0 ||
	    column_blob(s, col + 2, out->stored_key, klen, klen, &n) != 0 ||
	    column_blob(s, col + 3, out->server_key, klen, klen, &n) != 0) {
		set_err(st, "stored %s credentials of '%s' are malformed",
		    h == SCRAM_SHA1 ? "SHA-1" : "SHA-256", localpart);
		wipe(out, sizeof(*out));
		goto done;
	}
	out->iterations = (unsigned)iter;
	ret = STORE_OK;
done:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

enum store_rc store_user_exists(struct store *st, const char *localpart)
{
	sqlite3_stmt *s = stmt_get(st, S_USER_EXISTS);
	enum store_rc ret;
	int rc;

	if (bind_text(st, s, 1, localpart) != 0)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		ret = STORE_OK;
	else if (rc == SQLITE_DONE)
		ret = STORE_NOT_FOUND;
	else {
		set_db_err(st, "look up user");
		ret = STORE_ERR;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return ret;
}

enum store_rc store_user_list(struct store *st,
    void (*fn)(void *ud, const char *localpart), void *ud)
{
	sqlite3_stmt *s = stmt_get(st, S_USER_LIST);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *lp = sqlite3_column_text(s, 0);

		if (lp != NULL)
			fn(ud, (const char *)lp);
	}
	if (rc != SQLITE_DONE) {
		set_db_err(st, "list users");
		sqlite3_reset(s);
		return STORE_ERR;
	}
	sqlite3_reset(s);
	return STORE_OK;
}

/* ---- shared with the other store/ files (store_int.h) ------------------- */

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	sqlite3_stmt *s = hmap_get(st->cache, sql);

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			set_db_err(st, "prepare statement");
			return NULL;
		}
		hmap_put(st->cache, sql, s);
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

void store_db_error(struct store *st, const char *what)
{
	set_db_err(st, what);
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

enum store_rc store_data_version(struct store *st, int64_t *v)
{
	int64_t n;
	enum store_rc rc = store_query_int(st, &n, "read data version",
	    "PRAGMA data_version", NULL);

	*v = n;
	return rc;
}

enum store_rc store_begin(struct store *st)
{
	return exec(st, "BEGIN IMMEDIATE", "begin") == 0 ? STORE_OK : STORE_ERR;
}

enum store_rc store_commit(struct store *st)
{
	uint64_t t0 = metrics_now_ns();
	int rc = exec(st, "COMMIT", "commit");

	metrics_observe(&metrics.store_write_time, metrics_now_ns() - t0);
	if (rc != 0) {
		exec(st, "ROLLBACK", "rollback");
		return STORE_ERR;
	}
	return STORE_OK;
}

void store_rollback(struct store *st)
{
	exec(st, "ROLLBACK", "rollback");
}

enum store_rc store_step_done(struct store *st, sqlite3_stmt *s,
    const char *what)
{
	/* Most of the store's writes come through here (COMMIT through
	 * store_commit): the places to time them, for
	 * parley_store_write_seconds. */
	uint64_t t0 = metrics_now_ns();
	int rc = sqlite3_step(s);

	metrics_observe(&metrics.store_write_time, metrics_now_ns() - t0);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		set_db_err(st, what);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* Binds the NULL-terminated text parameters and steps once. */
static int query_row(sqlite3_stmt *s, va_list ap)
{
	const char *arg;
	int i = 1;

	while ((arg = va_arg(ap, const char *)) != NULL)
		sqlite3_bind_text(s, i++, arg, -1, SQLITE_STATIC);
	return sqlite3_step(s);
}

enum store_rc store_query_int(struct store *st, int64_t *out,
    const char *what, const char *sql, ...)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	va_list ap;
	int rc;

	*out = 0;
	if (s == NULL)
		return STORE_ERR;
	va_start(ap, sql);
	rc = query_row(s, ap);
	va_end(ap);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_db_err(st, what);
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_query_blob(struct store *st, struct buf *out,
    const char *what, const char *sql, ...)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	va_list ap;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	va_start(ap, sql);
	rc = query_row(s, ap);
	va_end(ap);
	if (rc == SQLITE_ROW)
		buf_append(out, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	set_db_err(st, what);
	return STORE_ERR;
}
