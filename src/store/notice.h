/*
 * notice.h - notices the server owes one user, told at their next login:
 * "the administrator exported your message archive at T", and the like.
 * Written by whoever accessed the data (parleyctl, in its own process),
 * read and deleted by parleyd when the user next sends initial presence
 * (im/notice.c).  A notice is never dropped for quota: it is how access
 * stops being silent.  Rows go with their account.
 */
#ifndef PARLEY_STORE_NOTICE_H
#define PARLEY_STORE_NOTICE_H

#include <stdint.h>

#include "store/store.h"

/* kind: a short machine name ("archive-export", "audit-read", ...);
 * text: the sentence a person reads.  stamp: Unix seconds.
 * STORE_NOT_FOUND when there is no such account. */
enum store_rc store_notice_add(struct store *st, const char *user,
	    int64_t stamp, const char *kind, const char *text);
/* Calls fn for each notice of user, oldest first; id orders them. */
enum store_rc store_notice_list(struct store *st, const char *user,
	    void (*fn)(void *ud, int64_t id, int64_t stamp, const char *kind,
	    const char *text), void *ud);
/* Deletes the user's notices up to and including id. */
enum store_rc store_notice_delete_upto(struct store *st, const char *user,
	    int64_t id);

#endif
