/*
 * hmap.h - a string-keyed hash map with chaining.
 *
 * Keys are copied into the map; values are borrowed pointers the map never
 * frees.  The hash is seeded once per process from OpenSSL's RNG so that
 * peers cannot aim keys at one bucket.  Not thread-safe: one owner, one loop.
 */
#ifndef PARLEY_CORE_HMAP_H
#define PARLEY_CORE_HMAP_H

#include <stddef.h>

struct hmap;

struct hmap *hmap_new(void);
/* Frees the map and its keys, not the values. */
void	 hmap_free(struct hmap *m);
void	*hmap_get(const struct hmap *m, const char *key);
/* Sets key to val (replacing); returns the previous value or NULL. */
void	*hmap_put(struct hmap *m, const char *key, void *val);
/* Removes key; returns its value or NULL. */
void	*hmap_del(struct hmap *m, const char *key);
size_t	 hmap_count(const struct hmap *m);
/* Calls fn for each entry; fn must not change the map. */
void	 hmap_each(const struct hmap *m,
	    void (*fn)(void *ud, const char *key, void *val), void *ud);

#endif
