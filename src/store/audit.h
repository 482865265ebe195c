/*
 * audit.h - the admin's audit trail: one row per event worth an admin's
 * attention (a login, a failed login, a block, a report, a rate-limit
 * hit, a policy refusal, an upload, a quarantine, an admin action).
 * Metadata only: kind, account, client address, and a detail that names
 * things (a limit, a policy, a reason) but never carries a message body
 * or a password.  The address is stored here and shown only by
 * `parleyctl audit`.
 */
#ifndef PARLEY_STORE_AUDIT_H
#define PARLEY_STORE_AUDIT_H

#include <stdint.h>

#include "store/store.h"

struct audit_row {
	int64_t		 id;
	int64_t		 stamp;		/* Unix seconds */
	const char	*kind;
	const char	*account;	/* NULL: none (an unknown name) */
	const char	*addr;		/* NULL: not from a client */
	const char	*detail;	/* NULL: nothing more */
};

/* Appends one event; stamp in Unix seconds. */
enum store_rc store_audit_add(struct store *st, int64_t stamp,
	    const char *kind, const char *account, const char *addr,
	    const char *detail);
/* The same, and *id gets the new row's id. */
enum store_rc store_audit_add_id(struct store *st, int64_t stamp,
	    const char *kind, const char *account, const char *addr,
	    const char *detail, int64_t *id);
/* Replaces the detail of event id (a coalesced event's count grows). */
enum store_rc store_audit_set_detail(struct store *st, int64_t id,
	    const char *detail);
/* Calls fn for each event at or after since (Unix seconds), of account
 * when not NULL, oldest first.  The row's strings live for the call. */
enum store_rc store_audit_list(struct store *st, const char *account,
	    int64_t since, void (*fn)(void *ud, const struct audit_row *r),
	    void *ud);
/* Deletes events older than before (Unix seconds); *n gets the count
 * when not NULL. */
enum store_rc store_audit_prune(struct store *st, int64_t before,
	    int64_t *n);

#endif
