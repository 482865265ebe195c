/* uploadpath.c - see uploadpath.h. */
#include "http/uploadpath.h"

#include <ctype.h>
#include <string.h>

#include "core/config.h"
#include "core/limits.h"
#include "core/utf8.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the character at s (n bytes left), or 0 when it is not
 * valid UTF-8 or is a C1 control. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned long cp = 0;
	size_t k = utf8_decode(s, n, &cp);

	if (k == 0 || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return k;
}

void upload_name_clean(const char *in, size_t len, char *out, size_t max)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t start = 0, n = 0;

	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '\\')
			start = i + 1;
	for (size_t i = start; i < len; ) {
		size_t k = utf8_seq(s + i, len - i);

		if (k == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			i += k ? k : 1;
			continue;
		}
		if (n + k > max)
			break;
		memcpy(out + n, s + i, k);
		n += k;
		i += k;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	start = 0;
	while (out[start] == ' ')
		start++;
	if (start > 0) {
		memmove(out, out + start, n - start + 1);
		n -= start;
	}
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		strcpy(out, max >= 4 ? "file" : "f");
}

void upload_name_encode(const char *name, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			buf_putc(out, (char)*p);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[*p >> 4]);
			buf_putc(out, hex[*p & 15]);
		}
	}
}

int upload_path_parse(const char *path, const char *prefix,
    unsigned char token[UPLOAD_TOKEN_LEN], char *name, size_t namecap)
{
	size_t plen = strlen(prefix), n = 0;
	const char *p;

	if (strncmp(path, prefix, plen) != 0)
		return -1;
	p = path + plen;
	for (size_t i = 0; i < UPLOAD_TOKEN_HEX; i++) {
		/* Lower-case only: one spelling per token. */
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return -1;
	}
	for (size_t i = 0; i < UPLOAD_TOKEN_LEN; i++)
		token[i] = (unsigned char)(hexval(p[2 * i]) << 4 |
		    hexval(p[2 * i + 1]));
	p += UPLOAD_TOKEN_HEX;
	if (*p != '/' || p[1] == '\0')
		return -1;
	for (p++; *p != '\0'; p++) {
		char c = *p;

		if (c == '/' || c == '?' || c == '#')
			return -1;
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			p += 2;
			if (c == '/' || c == '\0')
				return -1;
		}
		if (n + 1 >= namecap)
			return -1;
		name[n++] = c;
	}
	name[n] = '\0';
	return n > 0 ? 0 : -1;
}

int upload_type_parse(const char *ct, char *media, size_t mediacap)
{
	size_t len = strlen(ct), mlen;

	if (len == 0 || len > PARLEY_UPLOAD_TYPE_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (ct[i] < 0x20 || ct[i] >= 0x7f)
			return -1;
	mlen = strcspn(ct, ";");
	while (mlen > 0 && ct[mlen - 1] == ' ')
		mlen--;
	if (config_media_type_ok(ct, mlen, 0) != 0 || mlen >= mediacap)
		return -1;
	for (size_t i = 0; i < mlen; i++)
		media[i] = (char)tolower((unsigned char)ct[i]);
	media[mlen] = '\0';
	return 0;
}
