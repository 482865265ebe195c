/*
 * backup.h - copies of the database for `parleyctl backup` and `restore`,
 * and the record of the backups made (for `parleyctl check`).
 *
 * A copy is made with SQLite's online backup API in one step, that is in
 * one read transaction of the source: in WAL mode that is a consistent
 * snapshot which parleyd's writes neither block nor disturb, and every
 * transaction committed before the copy began is in it.  The copy is a
 * standalone file (rollback journal, no -wal or -shm beside it), mode
 * 0600 since it holds the SCRAM keys.
 *
 * These calls open their own connections to the files named; they do not
 * use a struct store.  Errors come back as one line in err.
 */
#ifndef PARLEY_STORE_BACKUP_H
#define PARLEY_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

/* Copies the database at src to dst.  dst is written under a temporary
 * name beside it and renamed into place only when complete and checked;
 * an existing dst is refused (-1, *exists set) unless replace is set.
 * *bytes gets the size of the copy.  Returns 0 or -1. */
int	 store_copy_file(const char *src, const char *dst, int replace,
	    uint64_t *bytes, int *exists, char *err, size_t errlen);
/* Checks that path is a Parley database this program can use: a SQLite
 * file that passes PRAGMA integrity_check, with an accounts table and a
 * schema version from 1 to store_schema_version().  *version gets it.
 * Returns 0 or -1 with the reason. */
int	 store_verify_file(const char *path, int *version, char *err,
	    size_t errlen);

/* Records a finished backup (Unix seconds, the file, its size). */
enum store_rc store_backup_record(struct store *st, int64_t stamp,
	    const char *file, uint64_t bytes);
/* The newest recorded backup: *stamp, and its file appended to file
 * (when not NULL); STORE_NOT_FOUND when none was ever made. */
enum store_rc store_backup_last(struct store *st, int64_t *stamp,
	    struct buf *file);
/* How many accounts there are (check: is there anything to lose?). */
enum store_rc store_user_count(struct store *st, int64_t *n);

#endif
