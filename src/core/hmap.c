/* hmap.c - see hmap.h. */
#include "core/hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/alloc.h"

struct hent {
	struct hent	*next;
	uint64_t	 hash;
	void		*val;
	char		 key[];
};

struct hmap {
	struct hent	**b;
	size_t		  nb;	/* power of two */
	size_t		  n;
};

static uint64_t seed;
static int seeded;

static uint64_t hash_str(const char *s)
{
	uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;

	if (!seeded) {
		if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
			seed = 0x5bd1e9955bd1e995ull;
		seeded = 1;
		h = seed ^ 0x9e3779b97f4a7c15ull;
	}
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

struct hmap *hmap_new(void)
{
	struct hmap *m = xcalloc(1, sizeof(*m));

	m->nb = 16;
	m->b = xcalloc(m->nb, sizeof(*m->b));
	return m;
}

void hmap_free(struct hmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nb; i++) {
		struct hent *e = m->b[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			free(e);
		}
	}
	free(m->b);
	free(m);
}

static struct hent **find(const struct hmap *m, const char *key, uint64_t h)
{
	struct hent **pp = &m->b[h & (m->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	struct hent **pp = find(m, key, hash_str(key));

	return *pp ? (*pp)->val : NULL;
}

static void grow(struct hmap *m)
{
	size_t nb = m->nb * 2;
	struct hent **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < m->nb; i++) {
		struct hent *e = m->b[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
	uint64_t h = hash_str(key);
	struct hent **pp = find(m, key, h), *e;
	size_t klen;

	if (*pp) {
		void *old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	klen = strlen(key);
	e = xmalloc(sizeof(*e) + klen + 1);
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->val = val;
	e->next = NULL;
	*pp = e;
	if (++m->n > m->nb)
		grow(m);
	return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
	struct hent **pp = find(m, key, hash_str(key)), *e = *pp;
	void *val;

	if (e == NULL)
		return NULL;
	*pp = e->next;
	val = e->val;
	free(e);
	m->n--;
	return val;
}

size_t hmap_count(const struct hmap *m)
{
	return m->n;
}

void hmap_each(const struct hmap *m,
    void (*fn)(void *ud, const char *key, void *val), void *ud)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct hent *e = m->b[i]; e; e = e->next)
			fn(ud, e->key, e->val);
}
