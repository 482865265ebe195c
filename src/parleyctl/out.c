/* out.c - see out.h. */
#include "parleyctl/out.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/isotime.h"
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
	char s[ISOTIME_MAX];

	if (t < 0) {
		buf_puts(b, json ? "null" : "-");
		return;
	}
	iso_time_str(t * 1000, 0, s, sizeof(s));
	buf_printf(b, json ? "\"%s\"" : "%s", s);
}

int out_parse_time(const char *s, int64_t *out)
{
	int64_t ms;

	if (iso_time_parse(s, 0, &ms) != 0)
		return -1;
	*out = ms / 1000;
	return 0;
}
