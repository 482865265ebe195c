/* jid.c - see jid.h. */
#include "xmpp/jid.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/utf8.h"

#define LABEL_MAX	63

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF.  Control characters (C0, DEL, C1) are refused too, since no JID
 * part may hold them and they would let a peer forge log lines or confuse
 * clients.  Sets *ascii when every byte is below 0x80.
 */
static int utf8_ok(const unsigned char *s, size_t n, int *ascii)
{
	size_t i = 0, len;
	unsigned long cp;

	*ascii = 1;
	while (i < n) {
		if ((len = utf8_decode(s + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;	/* C0, DEL, C1 */
		if (cp >= 0x80)
			*ascii = 0;
		i += len;
	}
	return 1;
}

static char *prep_local(const char *s, size_t n)
{
	char *p;
	size_t i;
	int ascii;

	if (n == 0 || n > PARLEY_JID_PART_MAX)
		return NULL;
	if (!utf8_ok((const unsigned char *)s, n, &ascii))
		return NULL;
	for (i = 0; i < n; i++)
		if (strchr("\"&'/:<>@ ", s[i]) != NULL)
			return NULL;
	p = xstrndup(s, n);
	/* Only ASCII is folded: full PRECIS case mapping is out of scope. */
	for (i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] - 'A' + 'a');
	return p;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Dotted quad, each octet 0..255 without leading zeros (no octal doubt). */
static int ipv4_ok(const char *s)
{
	int octets = 0;

	for (;;) {
		unsigned v = 0;
		int digits = 0;

		while (is_digit(*s)) {
			if (digits == 3)
				return 0;
			if (digits == 1 && v == 0)
				return 0;
			v = v * 10 + (unsigned)(*s - '0');
			digits++;
			s++;
		}
		if (digits == 0 || v > 255)
			return 0;
		octets++;
		if (*s == '\0')
			return octets == 4;
		if (*s != '.' || octets == 4)
			return 0;
		s++;
	}
}

static int labels_ok(const char *name)
{
	const char *s, *label = name;
	int only_digits = 1;

	for (s = name;; s++) {
		if (*s == '.' || *s == '\0') {
			size_t ll = (size_t)(s - label);

			if (ll == 0 || ll > LABEL_MAX)
				return 0;
			if (label[0] == '-' || s[-1] == '-')
				return 0;
			if (*s == '\0')
				break;
			label = s + 1;
			continue;
		}
		if (!is_digit(*s))
			only_digits = 0;
		if (!(*s >= 'a' && *s <= 'z') && !is_digit(*s) && *s != '-')
			return 0;
	}
	/*
	 * A name of digits and dots only would read as an address to many
	 * resolvers, so it must be a well-formed IPv4 literal.
	 */
	return !only_digits || ipv4_ok(name);
}

static char *prep_domain(const char *s, size_t n)
{
	char *p;
	size_t i;
	int ascii;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > PARLEY_JID_PART_MAX)
		return NULL;
	if (!utf8_ok((const unsigned char *)s, n, &ascii) || !ascii)
		return NULL;
	p = xstrndup(s, n);
	for (i = 0; i < n; i++)
		if (p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] - 'A' + 'a');
	if (p[0] == '[') {
		char addr[INET6_ADDRSTRLEN];
		unsigned char bin[16];

		/* Shortest form, so that equal addresses compare equal. */
		if (n < 3 || p[n - 1] != ']' || n - 2 >= sizeof(addr))
			goto bad;
		memcpy(addr, p + 1, n - 2);
		addr[n - 2] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1 ||
		    inet_ntop(AF_INET6, bin, addr, sizeof(addr)) == NULL)
			goto bad;
		free(p);
		n = strlen(addr);
		p = xmalloc(n + 3);
		p[0] = '[';
		memcpy(p + 1, addr, n);
		p[n + 1] = ']';
		p[n + 2] = '\0';
		return p;
	}
	if (!labels_ok(p))
		goto bad;
	return p;
bad:
	free(p);
	return NULL;
}

static char *prep_resource(const char *s, size_t n)
{
	int ascii;

	if (n == 0 || n > PARLEY_JID_PART_MAX)
		return NULL;
	if (!utf8_ok((const unsigned char *)s, n, &ascii))
		return NULL;
	return xstrndup(s, n);
}

static void jid_zero(struct jid *j)
{
	j->local = NULL;
	j->domain = NULL;
	j->resource = NULL;
}

int jid_parse(const char *s, struct jid *out)
{
	const char *slash, *at, *dom;
	size_t barelen;

	jid_zero(out);
	slash = strchr(s, '/');
	barelen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	at = memchr(s, '@', barelen);
	if (at != NULL) {
		if ((out->local = prep_local(s, (size_t)(at - s))) == NULL)
			goto bad;
		dom = at + 1;
	} else
		dom = s;
	out->domain = prep_domain(dom, barelen - (size_t)(dom - s));
	if (out->domain == NULL)
		goto bad;
	if (slash != NULL &&
	    (out->resource = prep_resource(slash + 1, strlen(slash + 1))) ==
	    NULL)
		goto bad;
	return 0;
bad:
	jid_free(out);
	return -1;
}

int jid_make(const char *local, const char *domain, const char *resource,
    struct jid *out)
{
	jid_zero(out);
	if (domain == NULL)
		return -1;
	if (local != NULL &&
	    (out->local = prep_local(local, strlen(local))) == NULL)
		goto bad;
	if ((out->domain = prep_domain(domain, strlen(domain))) == NULL)
		goto bad;
	if (resource != NULL &&
	    (out->resource = prep_resource(resource, strlen(resource))) == NULL)
		goto bad;
	return 0;
bad:
	jid_free(out);
	return -1;
}

void jid_free(struct jid *j)
{
	if (j == NULL)
		return;
	free(j->local);
	free(j->domain);
	free(j->resource);
	jid_zero(j);
}

void jid_copy(struct jid *dst, const struct jid *src)
{
	dst->local = src->local != NULL ? xstrdup(src->local) : NULL;
	dst->domain = src->domain != NULL ? xstrdup(src->domain) : NULL;
	dst->resource = src->resource != NULL ? xstrdup(src->resource) : NULL;
}

char *jid_localpart_prep(const char *s)
{
	return prep_local(s, strlen(s));
}

void jid_bare_str(const struct jid *j, struct buf *out)
{
	if (j->local != NULL) {
		buf_puts(out, j->local);
		buf_putc(out, '@');
	}
	buf_puts(out, j->domain);
}

void jid_full_str(const struct jid *j, struct buf *out)
{
	jid_bare_str(j, out);
	if (j->resource != NULL) {
		buf_putc(out, '/');
		buf_puts(out, j->resource);
	}
}

/* Both absent, or both present and equal. */
static int part_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

int jid_bare_eq(const struct jid *a, const struct jid *b)
{
	return part_eq(a->local, b->local) && part_eq(a->domain, b->domain);
}

int jid_full_eq(const struct jid *a, const struct jid *b)
{
	return jid_bare_eq(a, b) && part_eq(a->resource, b->resource);
}
