/* base64.c - see base64.h. */
#include "core/base64.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

/*
 * OpenSSL takes int lengths; work in chunks well below INT_MAX.  Both are
 * whole quanta (3 bytes in, 4 characters out) so chunks join seamlessly.
 */
#define ENC_CHUNK	(3u * 16384u)
#define DEC_CHUNK	(4u * 16384u)

void base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;

	buf_reserve(out, 4 * ((len + 2) / 3));
	while (len > 0) {
		size_t n = len < ENC_CHUNK ? len : ENC_CHUNK;
		int w;

		/* buf_reserve keeps room for the NUL EVP_EncodeBlock adds. */
		buf_reserve(out, 4 * ((n + 2) / 3));
		w = EVP_EncodeBlock((unsigned char *)out->data + out->len, p,
		    (int)n);
		out->len += (size_t)w;
		p += n;
		len -= n;
	}
	/* buf_reserve does not terminate a fresh buffer: empty input. */
	out->data[out->len] = '\0';
}

/* Value of a Base64 alphabet character, or -1 (including for '='). */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * EVP_DecodeBlock is lenient (it skips surrounding whitespace and does not
 * look at trailing bits), so the whole input is checked here first: RFC 6120
 * 6.4.2 wants SASL data refused unless it is the one canonical encoding.
 */
static int b64_valid(const unsigned char *s, size_t len, size_t *padp)
{
	size_t pad = 0, i;
	int v;

	if (len % 4 != 0)
		return -1;
	if (len == 0) {
		*padp = 0;
		return 0;
	}
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=') {
		if (pad == 0)
			return -1;
		pad++;
	}
	for (i = 0; i < len - pad; i++)
		if (b64val(s[i]) < 0)
			return -1;
	/* The last data character must not carry bits beyond the data. */
	if (pad == 2) {
		v = b64val(s[len - 3]);
		if ((v & 0x0f) != 0)
			return -1;
	} else if (pad == 1) {
		v = b64val(s[len - 2]);
		if ((v & 0x03) != 0)
			return -1;
	}
	*padp = pad;
	return 0;
}

int base64_decode(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t pad, start = out->len;

	if (b64_valid(p, len, &pad) != 0)
		return -1;
	buf_reserve(out, len / 4 * 3);
	while (len > 0) {
		size_t n = len < DEC_CHUNK ? len : DEC_CHUNK;
		int w;

		buf_reserve(out, n / 4 * 3);
		w = EVP_DecodeBlock((unsigned char *)out->data + out->len, p,
		    (int)n);
		if (w < 0 || (size_t)w != n / 4 * 3) {
			out->len = start;
			out->data[out->len] = '\0';
			return -1;
		}
		out->len += (size_t)w;
		p += n;
		len -= n;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes of output. */
	out->len -= pad;
	out->data[out->len] = '\0';
	return 0;
}
