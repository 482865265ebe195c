/*
 * store.h - persistent state behind one message-shaped interface.
 *
 * The default back-end is SQLite (WAL mode, busy timeout so that parleyctl
 * and parleyd can share the file).  No sqlite3 type or statement leaves
 * store/.  Calls are synchronous and short; each returns a STORE_* code.
 * The schema is versioned (PRAGMA user_version) and migrated on open.
 *
 * Accounts are identified by their normalised localpart (jid.h) on the
 * server's single domain.
 */
#ifndef PARLEY_STORE_STORE_H
#define PARLEY_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "xmpp/scram.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND,
	STORE_EXISTS,
	STORE_FULL,	/* a quota would be exceeded; nothing written */
	STORE_ERR,
};

struct store;

/* Opens (creating if needed) the database at path.  On failure returns
 * NULL and writes a one-line reason to err. */
struct store *store_open(const char *path, char *err, size_t errlen);
void	 store_close(struct store *st);
/* The last error as text (for logs). */
const char *store_errmsg(const struct store *st);

/* Creates an account with both SCRAM credentials; STORE_EXISTS if taken. */
enum store_rc store_user_create(struct store *st, const char *localpart,
	    const struct scram_creds *sha1, const struct scram_creds *sha256);
/* Replaces both credentials; STORE_NOT_FOUND if no such account. */
enum store_rc store_user_set_creds(struct store *st, const char *localpart,
	    const struct scram_creds *sha1, const struct scram_creds *sha256);
enum store_rc store_user_delete(struct store *st, const char *localpart);
/* Reads the credentials for one hash. */
enum store_rc store_user_get_creds(struct store *st, const char *localpart,
	    enum scram_hash h, struct scram_creds *out);
enum store_rc store_user_exists(struct store *st, const char *localpart);
/* Calls fn for each account, in localpart order. */
enum store_rc store_user_list(struct store *st,
	    void (*fn)(void *ud, const char *localpart), void *ud);

/* The schema version this program writes (PRAGMA user_version after the
 * last migration): a database with a larger one is from a newer Parley. */
int	 store_schema_version(void);

/* A number that changes whenever another process (parleyctl) commits to
 * the database, and only then: what parleyd caches from the store is
 * stale when it moved. */
enum store_rc store_data_version(struct store *st, int64_t *v);

#endif
