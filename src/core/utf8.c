/* utf8.c - see utf8.h. */
#include "core/utf8.h"

size_t utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned char c = s[0];
	unsigned long v;
	size_t len, k;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;	/* continuation, C0/C1 lead, F5..FF */
	}
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;	/* overlong, surrogate, out of range */
	*cp = v;
	return len;
}

int utf8_valid(const unsigned char *s, size_t n)
{
	unsigned long cp;
	size_t i = 0, len;

	while (i < n) {
		if ((len = utf8_decode(s + i, n - i, &cp)) == 0)
			return 0;
		i += len;
	}
	return 1;
}
