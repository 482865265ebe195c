/*
 * isotime.h - ISO 8601 times (the XEP-0082 DateTime profile) read into
 * Unix time.  One parser for what clients send (MAM's start and end, in
 * the strict profile) and what an admin types (parleyctl --since, in the
 * lenient one).
 */
#ifndef PARLEY_CORE_ISOTIME_H
#define PARLEY_CORE_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

/* Strict: XEP-0082 DateTime, CCYY-MM-DDThh:mm:ss[.s+](Z|+hh:mm|-hh:mm).
 * Without it: also a date alone, hh:mm without seconds, 't', 'z' or a
 * space for 'T', and no zone (UTC). */
#define ISOTIME_STRICT	1

/* Parses s into milliseconds since 1970 (fractions past the millisecond
 * are dropped).  Years before 1970, days a month does not have, and
 * anything after the time are refused.  0, or -1 when malformed. */
int	iso_time_parse(const char *s, int flags, int64_t *out_ms);

/* Room for a printed time with milliseconds, and the NUL. */
#define ISOTIME_MAX	32
/* ms since 1970 printed as 2026-11-27T10:00:00Z (UTC), with .123 before
 * the Z when with_ms: the form XEP-0082 asks for and MAM, delays, notices
 * and parleyctl print. */
void	iso_time_str(int64_t ms, int with_ms, char *out, size_t cap);

#endif
