/*
 * blob.h - small XML documents kept per account under (kind, key):
 * private XML storage (XEP-0049) and vCards (XEP-0054).  The caller
 * bounds the size.
 */
#ifndef PARLEY_STORE_BLOB_H
#define PARLEY_STORE_BLOB_H

#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

/* Appends the document to out; STORE_NOT_FOUND if there is none. */
enum store_rc store_blob_get(struct store *st, const char *user,
	    const char *kind, const char *key, struct buf *out);
/* Replaces the document; len 0 deletes it. */
enum store_rc store_blob_put(struct store *st, const char *user,
	    const char *kind, const char *key, const char *xml, size_t len);

#endif
