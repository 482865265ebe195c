/*
 * fuzz_isotime.c - libFuzzer target for ISO 8601 times (core/isotime.c),
 * which MAM reads from clients (start, end).
 *
 * Properties: the strict profile accepts a subset of the lenient one,
 * with the same value; what either accepts lies after 1970 and before
 * the year 10000 (offsets included); a refused input leaves the output
 * untouched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/isotime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 9999-12-31T23:59:59.999Z plus the largest offset, in ms. */
#define MAX_MS	((int64_t)253402300799999 + 24 * 3600 * 1000)
#define MIN_MS	((int64_t)-24 * 3600 * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[64];
	int64_t strict = -7, lenient = -7;
	int rs, rl;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rs = iso_time_parse(s, ISOTIME_STRICT, &strict);
	rl = iso_time_parse(s, 0, &lenient);
	if (rs == 0 && (rl != 0 || strict != lenient))
		abort();
	if (rs != 0 && strict != -7)
		abort();
	if (rl != 0 && lenient != -7)
		abort();
	if (rl == 0 && (lenient < MIN_MS || lenient > MAX_MS))
		abort();
	return 0;
}
