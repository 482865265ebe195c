/* isotime.c - see isotime.h. */
#include "core/isotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Exactly n digits at *p, advancing past them; -1 if not. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

int iso_time_parse(const char *s, int flags, int64_t *out_ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int strict = flags & ISOTIME_STRICT;
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;
	time_t t;

	if ((y = digits(&p, 4)) < 1970 || *p != '-' || (p++,
	    (mo = digits(&p, 2)) < 1) || mo > 12 || *p != '-' || (p++,
	    (d = digits(&p, 2)) < 1) || d > mdays[mo - 1])
		return -1;
	if (*p == 'T' || (!strict && (*p == 't' || *p == ' '))) {
		p++;
		if ((h = digits(&p, 2)) < 0 || h > 23 || *p != ':' || (p++,
		    (mi = digits(&p, 2)) < 0) || mi > 59)
			return -1;
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0 || sec > 60)
				return -1;
			if (*p == '.') {
				int n = 0;

				for (p++; *p >= '0' && *p <= '9'; p++, n++)
					if (n < 3)
						ms = ms * 10 + (*p - '0');
				if (n == 0)
					return -1;
				for (; n < 3; n++)
					ms *= 10;
			}
		} else if (strict) {
			return -1;
		}
		if (*p == 'Z' || (!strict && *p == 'z')) {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p != ':' ||
			    (p++, (om = digits(&p, 2)) < 0) || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		} else if (strict) {
			return -1;
		}
	} else if (strict) {
		return -1;
	}
	if (*p != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1 || tm.tm_mday != d)
		return -1;	/* Feb 29 of a common year rolled over */
	*out_ms = ((int64_t)t - off) * 1000 + ms;
	return 0;
}

void iso_time_str(int64_t ms, int with_ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[24];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(base, sizeof(base), "1970-01-01T00:00:00");
	if (with_ms)
		snprintf(out, cap, "%s.%03dZ", base, (int)(ms % 1000));
	else
		snprintf(out, cap, "%sZ", base);
}
