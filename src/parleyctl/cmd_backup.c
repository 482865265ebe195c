/*
 * cmd_backup.c - parleyctl backup [--force] FILE and parleyctl restore
 * FILE: a consistent copy of the database while parleyd runs, and the way
 * back from one (store/backup.h).
 *
 * backup copies the database named by the configuration to FILE (an
 * existing FILE only with --force), prints one line, and records the
 * backup in the database so that `parleyctl check` knows how old the last
 * one is.  Everything committed before the copy began is in it: a message
 * the server acknowledged before then is not lost.
 *
 * restore refuses while parleyd runs on the data directory (the lock of
 * core/datalock.h, which it then holds itself, so that parleyd cannot
 * start half way), checks that FILE is a Parley database this program can
 * use, copies the current database aside to
 * DATABASE.before-restore-YYYYMMDDTHHMMSSZ, and puts a copy of FILE in its
 * place.  Every failure is one line and a non-zero exit, with the current
 * database untouched.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/datalock.h"
#include "parleyctl/ctl.h"
#include "store/audit.h"
#include "store/backup.h"

/* FILE as an absolute path when it can be made one (for the record). */
static char *absolute(const char *path)
{
	char dir[PATH_MAX];
	struct buf b = BUF_INIT;

	if (path[0] == '/' || getcwd(dir, sizeof(dir)) == NULL)
		return xstrdup(path);
	buf_printf(&b, "%s/%s", dir, path);
	return buf_steal(&b);
}

int cmd_backup(struct ctl *c, int argc, char **argv)
{
	const char *file = NULL;
	char err[1024], *abs;
	uint64_t bytes = 0;
	int64_t now;
	int force = 0, exists;
	struct store *st;

	/* argv: "backup" [--force] FILE, in either order */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 && !force)
			force = 1;
		else if (argv[i][0] != '-' && file == NULL && argv[i][0])
			file = argv[i];
		else
			ctl_usage("backup");
	}
	if (file == NULL)
		ctl_usage("backup");
	/* Opening it first creates a missing database and brings an old
	 * one to this version: the copy is one this program restores. */
	st = ctl_store(c);
	if (store_copy_file(c->cfg.database, file, force, &bytes, &exists,
	    err, sizeof(err)) != 0) {
		complain("backup: %s", err);
		return exists ? RC_EXISTS : RC_ERR;
	}
	now = (int64_t)time(NULL);
	abs = absolute(file);
	if (store_backup_record(st, now, abs, bytes) != STORE_OK) {
		complain("backup written to %s, but not recorded (check will "
		    "not know of it): %s", shown(file), store_errmsg(st));
		free(abs);
		return RC_ERR;
	}
	if (store_audit_add(st, now, "admin", NULL, NULL, "backup") !=
	    STORE_OK)
		complain("cannot record the backup in the audit trail: %s",
		    store_errmsg(st));
	printf("backup: %s (%llu bytes)\n", shown(abs),
	    (unsigned long long)bytes);
	free(abs);
	return RC_OK;
}

/* mkdir -p with mode 0700; 0 or -1 (said why). */
static int make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; ; s++) {
		char ch = *s;

		if (ch != '/' && ch != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			complain("restore: cannot create %s: %s", shown(p),
			    strerror(errno));
			rc = -1;
			break;
		}
		*s = ch;
		if (ch == '\0')
			break;
	}
	free(p);
	return rc;
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Removes path when it is there; 0, or -1 (said why). */
static int remove_if(const char *path)
{
	if (unlink(path) != 0 && errno != ENOENT) {
		complain("restore: cannot remove %s: %s", shown(path),
		    strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_restore(struct ctl *c, int argc, char **argv)
{
	const char *db = c->cfg.database, *file;
	char err[1024], stamp[32];
	struct buf aside = BUF_INIT, tmp = BUF_INIT, side = BUF_INIT;
	uint64_t bytes = 0;
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	pid_t holder;
	int version, lock, exists, ret = RC_ERR, had;

	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0')
		ctl_usage("restore");
	file = argv[1];
	if (store_verify_file(file, &version, err, sizeof(err)) != 0) {
		complain("restore: %s", err);
		return RC_ERR;
	}
	if (make_dirs(c->cfg.data_dir) != 0)
		return RC_ERR;
	if ((lock = datalock_take(c->cfg.data_dir, 1, &holder, err,
	    sizeof(err))) < 0) {
		complain("restore refused: %s%s", err, holder > 0 ?
		    "; stop parleyd first" : "");
		return RC_ERR;
	}
	if (same_file(file, db)) {
		complain("restore: %s is the database itself", shown(file));
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	had = stat(db, &sb) == 0;
	if (had) {
		/* A copy, not a rename: the -wal beside the database holds
		 * its newest transactions, and the copy takes them along. */
		buf_printf(&aside, "%s.before-restore-%s", db, stamp);
		if (store_copy_file(db, buf_str(&aside), 0, &bytes, &exists,
		    err, sizeof(err)) != 0) {
			complain("restore: cannot keep the current database "
			    "(nothing was changed): %s", err);
			goto out;
		}
	}
	buf_printf(&tmp, "%s.restore-tmp", db);
	if (store_copy_file(file, buf_str(&tmp), 1, &bytes, &exists, err,
	    sizeof(err)) != 0) {
		complain("restore: %s", err);
		goto out;
	}
	/* The old database's -wal and -shm must not meet the new file. */
	buf_printf(&side, "%s-wal", db);
	if (remove_if(buf_str(&side)) != 0)
		goto out;
	buf_reset(&side);
	buf_printf(&side, "%s-shm", db);
	if (remove_if(buf_str(&side)) != 0)
		goto out;
	if (rename(buf_str(&tmp), db) != 0) {
		complain("restore: cannot move %s into place: %s",
		    buf_str(&tmp), strerror(errno));
		goto out;
	}
	printf("restored %s (schema version %d) into %s", shown(file),
	    version, db);
	if (had)
		printf("; the previous database is kept as %s",
		    buf_str(&aside));
	printf("\n");
	ret = RC_OK;
	/* Opening it brings an older schema up to date now, not at
	 * parleyd's start; the restore goes into the trail it brought. */
	{
		struct store *st = ctl_store(c);
		struct buf d = BUF_INIT;

		buf_printf(&d, "restore of a backup (schema version %d)",
		    version);
		if (store_audit_add(st, (int64_t)now, "admin", NULL, NULL,
		    buf_str(&d)) != STORE_OK)
			complain("cannot record the restore in the audit "
			    "trail: %s", store_errmsg(st));
		buf_free(&d);
	}
out:
	if (ret != RC_OK && tmp.len > 0)
		(void)unlink(buf_str(&tmp));
	close(lock);
	buf_free(&aside);
	buf_free(&tmp);
	buf_free(&side);
	return ret;
}
