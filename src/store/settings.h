/*
 * settings.h - per-account settings the admin (parleyctl) or the user
 * sets, by key ("first_contact", ...), as text.  An account without a row
 * for a key follows the server's configuration.  Rows go with their
 * account.
 */
#ifndef PARLEY_STORE_SETTINGS_H
#define PARLEY_STORE_SETTINGS_H

#include "core/buf.h"
#include "store/store.h"

/* Appends the value to out; STORE_NOT_FOUND when the account has none. */
enum store_rc store_setting_get(struct store *st, const char *user,
	    const char *key, struct buf *out);
/* Sets the value, or removes it when value is NULL; STORE_NOT_FOUND when
 * there is no such account. */
enum store_rc store_setting_set(struct store *st, const char *user,
	    const char *key, const char *value);
/* Calls fn for each account that has a value for key. */
enum store_rc store_setting_list(struct store *st, const char *key,
	    void (*fn)(void *ud, const char *user, const char *value),
	    void *ud);

#endif
