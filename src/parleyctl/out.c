/* out.c - see out.h. */
#include "parleyctl/out.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/utf8.h"

void out_plain(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (s == NULL || *s == '\0') {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > 0x20 && c < 0x7f && c != '"' && c != '\\') {
			buf_putc(b, (char)c);
		} else if (c == ' ') {
			buf_putc(b, ' ');
		} else {
			buf_puts(b, "\\x");
			buf_putc(b, hex[c >> 4]);
			buf_putc(b, hex[c & 15]);
		}
	}
}

void out_json(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "null");
	else
		out_json_n(b, s, strlen(s));
}

void out_json_n(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = n;

	buf_putc(b, '"');
	while (left > 0) {
		unsigned long cp;
		size_t k = utf8_decode(p, left, &cp);

		if (k == 0) {
			cp = 0xfffd;
			k = 1;
		}
		p += k;
		left -= k;
		if (cp == '"' || cp == '\\')
			buf_printf(b, "\\%c", (char)cp);
		else if (cp >= 0x20 && cp < 0x7f)
			buf_putc(b, (char)cp);
		else if (cp < 0x10000)
			buf_printf(b, "\\u%04lx", cp);
		else	/* a surrogate pair */
			buf_printf(b, "\\u%04lx\\u%04lx",
			    0xd800 + ((cp - 0x10000) >> 10),
			    0xdc00 + ((cp - 0x10000) & 0x3ff));
	}
	buf_putc(b, '"');
}

void out_time(struct buf *b, int64_t t, int json)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];

	if (t < 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		buf_puts(b, json ? "null" : "-");
		return;
	}
	buf_printf(b, json ? "\"%s\"" : "%s", s);
}

/* Exactly n digits at *p, advancing it; -1 if not. */
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

int out_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	const char *p = s;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
	time_t t;

	if ((y = digits(&p, 4)) < 1970 || *p++ != '-' ||
	    (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > mdays[mo - 1])
		return -1;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' ||
		    (mi = digits(&p, 2)) < 0 || mi > 59)
			return -1;
		if (*p == ':') {
			p++;
			if ((sec = digits(&p, 2)) < 0 || sec > 60)
				return -1;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;

			if ((oh = digits(&p, 2)) < 0 || oh > 23 ||
			    *p++ != ':' || (om = digits(&p, 2)) < 0 ||
			    om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
		}
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
	*out = (int64_t)t - off;
	return 0;
}
