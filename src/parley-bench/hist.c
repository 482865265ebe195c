/*
 * hist.c - a log-linear histogram (the HDR idea): every power of two is cut
 * into 2^HIST_SUB_BITS equal buckets, so any recorded value is known to
 * within 1/128 of itself, from nanoseconds to hours, in a fixed 58 KiB
 * table and O(1) per sample.  Sorting a sample would cost memory that
 * grows with the run; this does not.
 */
#include <stdlib.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

#define SUB	(1u << HIST_SUB_BITS)

static unsigned bucket_of(uint64_t v)
{
	unsigned msb;

	if (v < SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	return (msb - HIST_SUB_BITS + 1) * SUB +
	    (unsigned)((v >> (msb - HIST_SUB_BITS)) & (SUB - 1));
}

/* The middle of bucket i (its lowest value for the exact small ones). */
static uint64_t value_of(unsigned i)
{
	unsigned tier = i / SUB, sub = i % SUB, shift;
	uint64_t lo;

	if (tier == 0)
		return sub;
	shift = tier - 1;
	lo = ((uint64_t)(SUB + sub)) << shift;
	return lo + (((uint64_t)1 << shift) >> 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	if (h->b == NULL)
		h->b = xcalloc(HIST_BUCKETS, sizeof(*h->b));
	h->b[bucket_of(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	if (from->b == NULL)
		return;
	if (into->b == NULL)
		into->b = xcalloc(HIST_BUCKETS, sizeof(*into->b));
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->count == 0 || h->b == NULL)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	if (want >= h->count)
		return h->max;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t v = value_of(i);

			/* The bucket middle may overshoot the true max. */
			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

void hist_free(struct hist *h)
{
	free(h->b);
	h->b = NULL;
	h->count = h->max = h->sum = 0;
}
