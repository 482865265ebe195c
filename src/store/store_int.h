/*
 * store_int.h - what the files of store/ share; nothing outside store/
 * includes this (no sqlite3 type leaves the module).
 *
 * Each feature's storage lives in its own file (roster.c, offline.c, ...)
 * and prepares its statements through store_stmt(), which caches one
 * prepared statement per SQL text for the life of the store.
 */
#ifndef PARLEY_STORE_STORE_INT_H
#define PARLEY_STORE_STORE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "store/store.h"

/* The prepared statement for sql (a string literal: its text is the cache
 * key), reset and unbound; NULL on error (store_errmsg says why). */
sqlite3_stmt	*store_stmt(struct store *st, const char *sql);
/* Records sqlite's last error, prefixed by what, as the store's error. */
void		 store_db_error(struct store *st, const char *what);
sqlite3		*store_db(struct store *st);
/* Steps a statement that returns no rows, resets it, records errors. */
enum store_rc	 store_step_done(struct store *st, sqlite3_stmt *s,
		    const char *what);
/* Runs sql (text parameters ?1, ?2, ... from the NULL-terminated list)
 * and reads the first column of the first row into *out (0 when no row).
 * what names the operation in the error message. */
enum store_rc	 store_query_int(struct store *st, int64_t *out,
		    const char *what, const char *sql, ...);
/* The same for one blob or text column: appends it to out; returns
 * STORE_NOT_FOUND when there is no row. */
enum store_rc	 store_query_blob(struct store *st, struct buf *out,
		    const char *what, const char *sql, ...);
/* BEGIN IMMEDIATE / COMMIT (rolls back if the commit fails) / ROLLBACK. */
enum store_rc	 store_begin(struct store *st);
enum store_rc	 store_commit(struct store *st);
void		 store_rollback(struct store *st);

#endif
