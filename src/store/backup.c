/* backup.c - see backup.h. */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/store_int.h"

/* How long a copy waits, in total, for a moment when the source can be
 * read (SQLITE_BUSY or SQLITE_LOCKED: a checkpoint or a recovery holds
 * it): each wait is BACKUP_RETRY_MS. */
#define BACKUP_RETRY_MS		50
#define BACKUP_RETRIES		600
/* The busy handler's own wait on each connection. */
#define BACKUP_BUSY_MS		5000

static void db_err(char *err, size_t errlen, const char *path,
    const char *what, sqlite3 *db, int rc)
{
	snprintf(err, errlen, "%s: %s: %s", path, what,
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int open_db(const char *path, int flags, sqlite3 **db, char *err,
    size_t errlen)
{
	int rc = sqlite3_open_v2(path, db, flags, NULL);

	if (rc != SQLITE_OK) {
		db_err(err, errlen, path, "cannot open", *db, rc);
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, BACKUP_BUSY_MS);
	return 0;
}

/* The single text value of a one-row PRAGMA, into out. */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return sqlite3_errcode(db);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* SQLite's messages about a damaged file may quote its bytes: the reason
 * must stay one printable line. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) |
	    O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The directory of path (for its fsync), malloc'd. */
static char *dir_of(const char *path)
{
	char *p = xstrdup(path), *d = xstrdup(dirname(p));

	free(p);
	return d;
}

static int copy_file(const char *src, const char *dst, int replace,
    uint64_t *bytes, int *exists, char *err, size_t errlen);

int store_copy_file(const char *src, const char *dst, int replace,
    uint64_t *bytes, int *exists, char *err, size_t errlen)
{
	int rc = copy_file(src, dst, replace, bytes, exists, err, errlen);

	if (rc != 0)
		printable(err);
	return rc;
}

static int copy_file(const char *src, const char *dst, int replace,
    uint64_t *bytes, int *exists, char *err, size_t errlen)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *b;
	char *tmp, *dir, ok[64];
	struct stat sb;
	int rc, tries = 0, ret = -1;
	mode_t old;

	*exists = 0;
	if (!replace && lstat(dst, &sb) == 0) {
		*exists = 1;
		snprintf(err, errlen, "%s: exists (use --force to replace it)",
		    dst);
		return -1;
	}
	tmp = xmalloc(strlen(dst) + 32);
	sprintf(tmp, "%s.tmp-%ld", dst, (long)getpid());
	/* A leftover of this very pid is ours; anything else at the name
	 * would be opened as a database by SQLite, so it must go. */
	(void)unlink(tmp);
	/* Read-write so that a WAL source's -shm can be used as SQLite
	 * wants; a file we may only read is read as such. */
	if (access(src, W_OK) != 0 && access(src, R_OK) == 0) {
		if (open_db(src, SQLITE_OPEN_READONLY, &from, err,
		    errlen) != 0)
			goto out;
	} else if (open_db(src, SQLITE_OPEN_READWRITE, &from, err,
	    errlen) != 0) {
		goto out;
	}
	old = umask(077);
	rc = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &to,
	    err, errlen);
	umask(old);
	if (rc != 0)
		goto out;
	if ((b = sqlite3_backup_init(to, "main", from, "main")) == NULL) {
		db_err(err, errlen, dst, "cannot start the copy", to, 0);
		goto out;
	}
	/* All pages in one step: one read transaction, one snapshot. */
	while ((rc = sqlite3_backup_step(b, -1)) != SQLITE_DONE) {
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (++tries > BACKUP_RETRIES)
			break;
		sqlite3_sleep(BACKUP_RETRY_MS);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: copying: %s%s", src,
		    sqlite3_errstr(rc), tries > BACKUP_RETRIES ?
		    " (the database stayed busy)" : "");
		goto out;
	}
	/* A file of its own: no -wal beside it to lose on the way. */
	if (pragma_text(to, "PRAGMA journal_mode = DELETE", ok,
	    sizeof(ok)) != SQLITE_OK || strcmp(ok, "delete") != 0) {
		db_err(err, errlen, dst, "cannot leave WAL mode", to, 0);
		goto out;
	}
	if (pragma_text(to, "PRAGMA integrity_check", ok, sizeof(ok)) !=
	    SQLITE_OK || strcmp(ok, "ok") != 0) {
		snprintf(err, errlen, "%s: the copy fails its integrity "
		    "check: %s", dst, ok);
		goto out;
	}
	if (sqlite3_close(to) != SQLITE_OK) {
		db_err(err, errlen, dst, "cannot close the copy", to, 0);
		goto out;
	}
	to = NULL;
	if (fsync_path(tmp, 0) != 0) {
		snprintf(err, errlen, "%s: cannot sync: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (replace) {
		if (rename(tmp, dst) != 0) {
			snprintf(err, errlen, "%s: cannot rename into place: "
			    "%s", dst, strerror(errno));
			goto out;
		}
	} else {
		/* link() does not replace: a file that appeared meanwhile
		 * is kept. */
		if (link(tmp, dst) != 0) {
			*exists = errno == EEXIST;
			snprintf(err, errlen, "%s: %s", dst, errno == EEXIST ?
			    "exists (use --force to replace it)" :
			    strerror(errno));
			goto out;
		}
		(void)unlink(tmp);
	}
	dir = dir_of(dst);
	(void)fsync_path(dir, 1);
	free(dir);
	if (stat(dst, &sb) == 0)
		*bytes = (uint64_t)sb.st_size;
	ret = 0;
out:
	if (to != NULL)
		sqlite3_close(to);
	if (from != NULL)
		sqlite3_close(from);
	if (ret != 0)
		(void)unlink(tmp);
	free(tmp);
	return ret;
}

static int verify(const char *path, int *version, char *err,
    size_t errlen);

int store_verify_file(const char *path, int *version, char *err,
    size_t errlen)
{
	int rc = verify(path, version, err, errlen);

	if (rc != 0)
		printable(err);
	return rc;
}

static int verify(const char *path, int *version, char *err,
    size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char res[256], v[32];
	struct stat sb;
	int rc, ret = -1, n;

	if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (open_db(path, SQLITE_OPEN_READONLY, &db, err, errlen) != 0)
		return -1;
	rc = pragma_text(db, "PRAGMA integrity_check", res, sizeof(res));
	if ((rc & 0xff) == SQLITE_NOTADB) {
		snprintf(err, errlen, "%s: not a Parley database (not even "
		    "SQLite)", path);
		goto out;
	}
	if (rc != SQLITE_OK) {
		db_err(err, errlen, path, "cannot check", db, rc);
		goto out;
	}
	if (strcmp(res, "ok") != 0) {
		snprintf(err, errlen, "%s: damaged, fails the integrity "
		    "check: %s", path, res);
		goto out;
	}
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'users'", -1, &s, NULL) != SQLITE_OK) {
		db_err(err, errlen, path, "cannot read", db, 0);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "%s: not a Parley database (a SQLite "
		    "file without Parley's accounts table)", path);
		goto out;
	}
	if (pragma_text(db, "PRAGMA user_version", v, sizeof(v)) !=
	    SQLITE_OK) {
		db_err(err, errlen, path, "cannot read", db, 0);
		goto out;
	}
	n = atoi(v);
	if (n < 1) {
		snprintf(err, errlen, "%s: not a Parley database (schema "
		    "version %d)", path, n);
		goto out;
	}
	if (n > store_schema_version()) {
		snprintf(err, errlen, "%s: made by a newer Parley (schema "
		    "version %d; this one knows up to %d)", path, n,
		    store_schema_version());
		goto out;
	}
	*version = n;
	ret = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return ret;
}

enum store_rc store_backup_record(struct store *st, int64_t stamp,
    const char *file, uint64_t bytes)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO backups (stamp, file, "
	    "bytes) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, stamp);
	sqlite3_bind_text(s, 2, file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)bytes);
	return store_step_done(st, s, "record the backup");
}

enum store_rc store_backup_last(struct store *st, int64_t *stamp,
    struct buf *file)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT stamp, file FROM backups "
	    "ORDER BY stamp DESC, id DESC LIMIT 1");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*stamp = sqlite3_column_int64(s, 0);
		if (file != NULL)
			buf_puts(file, (const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	if (rc != SQLITE_ROW) {
		store_db_error(st, "read the last backup");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_user_count(struct store *st, int64_t *n)
{
	return store_query_int(st, n, "count accounts",
	    "SELECT count(*) FROM users", NULL);
}
