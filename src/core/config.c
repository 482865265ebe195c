/* config.c - see config.h. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <ini.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "xmpp/jid.h"

enum ktype {
	K_STR,		/* any string, empty allowed */
	K_STR_NONEMPTY,
	K_DOMAIN,
	K_LOGLEVEL,
	K_LISTEN,
	K_UINT,
	K_SIZE,
	K_BOOL,
	K_TLSVER,
};

struct key {
	const char	*section;
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	unsigned long long min, max;
};

#define OFF(f)	offsetof(struct config, f)

static const struct key keys[] = {
	{ "server", "domain", K_DOMAIN, OFF(domain), 0, 0 },
	{ "server", "data_dir", K_STR_NONEMPTY, OFF(data_dir), 0, 0 },
	{ "server", "database", K_STR, OFF(database), 0, 0 },
	{ "server", "log_level", K_LOGLEVEL, OFF(log_level), 0, 0 },

	{ "c2s", "listen", K_LISTEN, OFF(listen), 0, 0 },
	{ "c2s", "tls_listen", K_LISTEN, OFF(tls_listen), 0, 0 },
	{ "c2s", "auth_timeout", K_UINT, OFF(auth_timeout),
	    1, PARLEY_AUTH_TIMEOUT_CEILING },
	{ "c2s", "ping_interval", K_UINT, OFF(ping_interval), 1, 86400 },
	{ "c2s", "ping_timeout", K_UINT, OFF(ping_timeout), 1, 3600 },
	{ "c2s", "max_sessions_per_account", K_UINT,
	    OFF(max_sessions_per_account),
	    1, PARLEY_SESSIONS_PER_ACCOUNT_CEILING },
	{ "c2s", "max_unauth_per_address", K_UINT,
	    OFF(max_unauth_per_address), 1, PARLEY_UNAUTH_PER_ADDR_CEILING },
	{ "c2s", "connect_rate", K_UINT, OFF(connect_rate),
	    1, PARLEY_CONNECT_RATE_CEILING },
	{ "c2s", "max_output_queue", K_SIZE, OFF(max_output_queue),
	    65536, PARLEY_OUTQ_MAX_CEILING },

	{ "tls", "cert", K_STR, OFF(cert), 0, 0 },
	{ "tls", "key", K_STR, OFF(key), 0, 0 },
	{ "tls", "min_version", K_TLSVER, OFF(tls_min_version), 0, 0 },
	{ "tls", "ciphers", K_STR_NONEMPTY, OFF(ciphers), 0, 0 },

	{ "auth", "plain", K_BOOL, OFF(allow_plain), 0, 0 },
	{ "auth", "scram_iterations", K_UINT, OFF(scram_iterations),
	    PARLEY_SCRAM_ITER_FLOOR, PARLEY_SCRAM_ITER_CEILING },
	{ "auth", "backoff_base_ms", K_UINT, OFF(backoff_base_ms), 0, 60000 },
	{ "auth", "backoff_max_ms", K_UINT, OFF(backoff_max_ms), 0, 600000 },

	{ "limits", "max_stanza_size", K_SIZE, OFF(max_stanza_size),
	    PARLEY_STANZA_MAX_FLOOR, PARLEY_STANZA_MAX_CEILING },
	{ "limits", "max_header_size", K_SIZE, OFF(max_header_size),
	    512, PARLEY_HEADER_MAX_CEILING },
	{ "limits", "max_depth", K_UINT, OFF(max_depth),
	    4, PARLEY_DEPTH_MAX_CEILING },
	{ "limits", "max_attributes", K_UINT, OFF(max_attributes),
	    4, PARLEY_ATTRS_MAX_CEILING },
	{ "limits", "max_roster_items", K_UINT, OFF(max_roster_items),
	    1, PARLEY_ROSTER_MAX_CEILING },
	{ "limits", "max_offline_messages", K_UINT, OFF(max_offline_messages),
	    0, PARLEY_OFFLINE_MSGS_CEILING },
	{ "limits", "max_offline_bytes", K_SIZE, OFF(max_offline_bytes),
	    1024, PARLEY_OFFLINE_BYTES_CEILING },
	{ "limits", "max_vcard_size", K_SIZE, OFF(max_vcard_size),
	    1024, PARLEY_BLOB_MAX_CEILING },
	{ "limits", "max_private_size", K_SIZE, OFF(max_private_size),
	    1024, PARLEY_BLOB_MAX_CEILING },
	{ "limits", "max_pep_nodes", K_UINT, OFF(max_pep_nodes),
	    1, PARLEY_PEP_NODES_CEILING },
	{ "limits", "max_pep_items", K_UINT, OFF(max_pep_items),
	    1, PARLEY_PEP_ITEMS_CEILING },
	{ "limits", "max_csi_held", K_UINT, OFF(max_csi_held),
	    1, PARLEY_CSI_HELD_CEILING },
	{ "limits", "rate_limits", K_BOOL, OFF(rate_limits), 0, 0 },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct parse_ctx {
	struct config	*c;
	const char	*path;
	FILE		*fp;
	char		*line;		/* getline buffer */
	size_t		 linecap;
	int		 lineno;
	int		 failed;
	int		 read_errno;
	int		 seen[NKEYS];	/* line where each key was set, or 0 */
	char		*err;
	size_t		 errlen;
};

static void ctx_error(struct parse_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ctx_error(struct parse_ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	/* Only the first error is reported: later ones are often echoes. */
	if (x->failed)
		return;
	x->failed = 1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%d: %s", x->path, x->lineno, msg);
}

static const char *const section_names[] = {
	"server", "c2s", "tls", "auth", "limits",
};

static int section_known(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(section_names) /
	    sizeof(section_names[0]); i++)
		if (strlen(section_names[i]) == n &&
		    memcmp(section_names[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * Plain decimal only: no sign, no hex or octal prefix, no suffix, so that
 * "0x10" or "4k" is an error rather than a surprise.
 */
static int parse_decimal(const char *s, unsigned long long min,
    unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "on", "yes", "true", "1" };
	static const char *const no[] = { "off", "no", "false", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/*
 * One listen address: "host:port" with host an IPv4 literal, "localhost"
 * or "*", or "[v6]:port".  Names other than localhost are refused because
 * resolving them at start-up makes the bound address depend on DNS.
 */
static int check_listen_addr(const char *a, const char **why)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char sa[sizeof(struct in6_addr)];
	unsigned long long port;
	const char *colon;
	size_t hlen;

	if (a[0] == '[') {
		const char *rb = strchr(a, ']');

		if (rb == NULL) {
			*why = "missing ']' after the IPv6 address";
			return -1;
		}
		hlen = (size_t)(rb - a - 1);
		if (hlen == 0 || hlen >= sizeof(host)) {
			*why = "bad IPv6 address";
			return -1;
		}
		memcpy(host, a + 1, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET6, host, sa) != 1) {
			*why = "bad IPv6 address";
			return -1;
		}
		if (rb[1] != ':') {
			*why = "expected [address]:port";
			return -1;
		}
		colon = rb + 1;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL) {
			*why = "expected host:port";
			return -1;
		}
		hlen = (size_t)(colon - a);
		if (memchr(a, ':', hlen) != NULL) {
			*why = "an IPv6 address must be in brackets, "
			    "as in [::1]:5222";
			return -1;
		}
		if (hlen == 0 || hlen >= sizeof(host)) {
			*why = "bad host (use an IP address, localhost or *)";
			return -1;
		}
		memcpy(host, a, hlen);
		host[hlen] = '\0';
		if (strcmp(host, "*") != 0 && strcmp(host, "localhost") != 0 &&
		    inet_pton(AF_INET, host, sa) != 1) {
			*why = "bad host (use an IP address, localhost or *)";
			return -1;
		}
	}
	if (parse_decimal(colon + 1, 1, 65535, &port) != 0) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	return 0;
}

static void listen_clear(struct listen_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->addr[i]);
		l->addr[i] = NULL;
	}
	l->n = 0;
}

static int parse_listen(struct parse_ctx *x, const struct key *k,
    const char *value, struct listen_list *out)
{
	struct listen_list nl;
	const char *p = value, *why;

	memset(&nl, 0, sizeof(nl));
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + len;
		char *item;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e) {
			ctx_error(x, "[%s] %s: empty address in the list",
			    k->section, k->name);
			goto fail;
		}
		if (nl.n == CONFIG_MAX_LISTEN) {
			ctx_error(x, "[%s] %s: at most %d addresses",
			    k->section, k->name, CONFIG_MAX_LISTEN);
			goto fail;
		}
		item = xstrndup(s, (size_t)(e - s));
		nl.addr[nl.n++] = item;
		if (check_listen_addr(item, &why) != 0) {
			ctx_error(x, "[%s] %s: %s: %s", k->section, k->name,
			    item, why);
			goto fail;
		}
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0') {
			ctx_error(x, "[%s] %s: empty address in the list",
			    k->section, k->name);
			goto fail;
		}
	}
	listen_clear(out);
	*out = nl;
	return 0;
fail:
	listen_clear(&nl);
	return -1;
}

static int set_value(struct parse_ctx *x, const struct key *k,
    const char *value)
{
	char *base = (char *)x->c;
	unsigned long long v;
	struct jid j;
	int b;

	switch (k->type) {
	case K_STR_NONEMPTY:
		if (*value == '\0') {
			ctx_error(x, "[%s] %s: must not be empty",
			    k->section, k->name);
			return -1;
		}
		/* FALLTHROUGH */
	case K_STR: {
		char **sp = (char **)(base + k->off);

		free(*sp);
		*sp = xstrdup(value);
		return 0;
	}
	case K_DOMAIN: {
		char **sp = (char **)(base + k->off);

		if (jid_make(NULL, value, NULL, &j) != 0) {
			ctx_error(x, "[%s] %s: not a valid domain name",
			    k->section, k->name);
			return -1;
		}
		free(*sp);
		*sp = xstrdup(j.domain);
		jid_free(&j);
		return 0;
	}
	case K_LOGLEVEL:
		if (log_level_parse(value,
		    (enum log_level *)(base + k->off)) != 0) {
			ctx_error(x, "[%s] %s: must be debug, info, warn or "
			    "error", k->section, k->name);
			return -1;
		}
		return 0;
	case K_LISTEN:
		return parse_listen(x, k, value,
		    (struct listen_list *)(base + k->off));
	case K_UINT:
	case K_SIZE:
		if (parse_decimal(value, k->min, k->max, &v) != 0) {
			ctx_error(x, "[%s] %s: must be a number from %llu to "
			    "%llu", k->section, k->name, k->min, k->max);
			return -1;
		}
		if (k->type == K_UINT)
			*(unsigned *)(base + k->off) = (unsigned)v;
		else
			*(size_t *)(base + k->off) = (size_t)v;
		return 0;
	case K_BOOL:
		if (parse_bool(value, &b) != 0) {
			ctx_error(x, "[%s] %s: must be on or off (or yes/no, "
			    "true/false, 1/0)", k->section, k->name);
			return -1;
		}
		*(int *)(base + k->off) = b;
		return 0;
	case K_TLSVER:
		if (strcmp(value, "1.2") == 0)
			*(int *)(base + k->off) = 12;
		else if (strcmp(value, "1.3") == 0)
			*(int *)(base + k->off) = 13;
		else {
			ctx_error(x, "[%s] %s: must be 1.2 or 1.3",
			    k->section, k->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

static int handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct parse_ctx *x = user;
	size_t i;

	if (x->failed)
		return 0;
	if (*section == '\0') {
		ctx_error(x, "%s: key outside any [section]", name);
		return 0;
	}
	if (!section_known(section, strlen(section))) {
		ctx_error(x, "[%s]: unknown section", section);
		return 0;
	}
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			break;
	if (i == NKEYS) {
		ctx_error(x, "[%s] %s: unknown key", section, name);
		return 0;
	}
	if (x->seen[i]) {
		ctx_error(x, "[%s] %s: duplicate key (first set on line %d)",
		    section, name, x->seen[i]);
		return 0;
	}
	x->seen[i] = x->lineno;
	return set_value(x, &keys[i], value) == 0;
}

/*
 * libinih's handler gets no line number, so lines are fed through this
 * reader, which counts them.  It also strips leading blanks, which turns
 * off inih's multi-line continuation (an indented line would otherwise be
 * appended to the previous value), refuses lines that would not fit inih's
 * fixed line buffer (inih would silently split them), and checks section
 * names, so that an empty misspelt section is reported too.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *x = stream;
	ssize_t n;
	char *p;
	size_t len;

	if (x->failed)
		return NULL;
	errno = 0;
	n = getline(&x->line, &x->linecap, x->fp);
	if (n < 0) {
		if (ferror(x->fp))
			x->read_errno = errno ? errno : EIO;
		return NULL;
	}
	x->lineno++;
	p = x->line;
	if (x->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	len = strlen(p);
	if ((size_t)(p - x->line) + len != (size_t)n) {
		ctx_error(x, "NUL byte in line");
		return NULL;
	}
	if (num < 3 || len >= (size_t)num) {
		ctx_error(x, "line longer than %d bytes", num - 2);
		return NULL;
	}
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb != NULL && !section_known(p + 1, (size_t)(rb - p - 1))) {
			ctx_error(x, "[%.*s]: unknown section",
			    (int)(rb - p - 1), p + 1);
			return NULL;
		}
	}
	memcpy(str, p, len + 1);
	return str;
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->domain = xstrdup("localhost");
	c->data_dir = xstrdup("./var");
	c->database = xstrdup("");
	c->log_level = LOG_INFO;

	c->listen.n = 1;
	c->listen.addr[0] = xstrdup("127.0.0.1:5222");
	c->tls_listen.n = 1;
	c->tls_listen.addr[0] = xstrdup("127.0.0.1:5223");
	c->auth_timeout = PARLEY_AUTH_TIMEOUT_DEFAULT;
	c->ping_interval = 240;
	c->ping_timeout = 60;
	c->max_sessions_per_account = PARLEY_SESSIONS_PER_ACCOUNT_DEFAULT;
	c->max_unauth_per_address = PARLEY_UNAUTH_PER_ADDR_DEFAULT;
	c->connect_rate = PARLEY_CONNECT_RATE_DEFAULT;
	c->max_output_queue = PARLEY_OUTQ_MAX_DEFAULT;

	c->cert = xstrdup("");
	c->key = xstrdup("");
	c->tls_min_version = 12;
	c->ciphers = xstrdup("ECDHE+AESGCM:ECDHE+CHACHA20");

	c->allow_plain = 0;
	c->scram_iterations = PARLEY_SCRAM_ITER_DEFAULT;
	c->backoff_base_ms = 200;
	c->backoff_max_ms = 8000;

	c->max_stanza_size = PARLEY_STANZA_MAX_DEFAULT;
	c->max_header_size = PARLEY_HEADER_MAX_DEFAULT;
	c->max_depth = PARLEY_DEPTH_MAX_DEFAULT;
	c->max_attributes = PARLEY_ATTRS_MAX_DEFAULT;
	c->max_roster_items = PARLEY_ROSTER_MAX_DEFAULT;
	c->max_offline_messages = PARLEY_OFFLINE_MSGS_DEFAULT;
	c->max_offline_bytes = PARLEY_OFFLINE_BYTES_DEFAULT;
	c->max_vcard_size = PARLEY_VCARD_MAX_DEFAULT;
	c->max_private_size = PARLEY_PRIVATE_MAX_DEFAULT;
	c->max_pep_nodes = PARLEY_PEP_NODES_DEFAULT;
	c->max_pep_items = PARLEY_PEP_ITEMS_DEFAULT;
	c->max_csi_held = PARLEY_CSI_HELD_DEFAULT;
	c->rate_limits = 1;

	c->cert_is_generated = 0;
}

static size_t key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return i;
	abort();
}

/* Rules that tie two keys together, checked once the whole file is in. */
static void check_cross(struct parse_ctx *x)
{
	size_t icert = key_index("tls", "cert"), ikey = key_index("tls", "key");
	size_t ibase = key_index("auth", "backoff_base_ms");
	size_t imax = key_index("auth", "backoff_max_ms");
	struct config *c = x->c;
	int line;

	if ((*c->cert == '\0') != (*c->key == '\0')) {
		x->lineno = x->seen[icert] ? x->seen[icert] : x->seen[ikey];
		ctx_error(x, "[tls] %s is set but %s is not (set both, or "
		    "neither to use a generated certificate)",
		    *c->cert ? "cert" : "key", *c->cert ? "key" : "cert");
		return;
	}
	if (c->backoff_max_ms < c->backoff_base_ms) {
		line = x->seen[imax] > x->seen[ibase] ? x->seen[imax] :
		    x->seen[ibase];
		x->lineno = line;
		ctx_error(x, "[auth] backoff_max_ms: must be at least "
		    "backoff_base_ms (%u)", c->backoff_base_ms);
	}
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct parse_ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.path = path;
	x.err = err;
	x.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if ((x.fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(reader, &x, handler, &x);
	free(x.line);
	fclose(x.fp);
	if (x.failed)
		return -1;
	if (x.read_errno) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(x.read_errno));
		return -1;
	}
	if (rc > 0) {
		x.lineno = rc;
		ctx_error(&x, "syntax error (expected [section] or "
		    "key = value)");
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot parse (error %d)", path, rc);
		return -1;
	}
	check_cross(&x);
	return x.failed ? -1 : 0;
}

/* dir + "/" + leaf, without doubling a trailing slash of dir. */
static char *join_path(const char *dir, const char *leaf)
{
	size_t n = strlen(dir);
	char *p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	p = xmalloc(n + 1 + strlen(leaf) + 1);
	memcpy(p, dir, n);
	if (n == 1 && dir[0] == '/')
		strcpy(p + 1, leaf);
	else {
		p[n] = '/';
		strcpy(p + n + 1, leaf);
	}
	return p;
}

int config_finish(struct config *c, char *err, size_t errlen)
{
	if (c->data_dir == NULL || *c->data_dir == '\0') {
		snprintf(err, errlen, "[server] data_dir: must not be empty");
		return -1;
	}
	if (c->database == NULL || *c->database == '\0') {
		free(c->database);
		c->database = join_path(c->data_dir, "parley.db");
	}
	if (c->cert == NULL)
		c->cert = xstrdup("");
	if (c->key == NULL)
		c->key = xstrdup("");
	if ((*c->cert == '\0') != (*c->key == '\0')) {
		snprintf(err, errlen, "[tls] cert and key must be both set "
		    "or both empty");
		return -1;
	}
	if (*c->cert == '\0') {
		free(c->cert);
		free(c->key);
		c->cert = join_path(c->data_dir, "tls/cert.pem");
		c->key = join_path(c->data_dir, "tls/key.pem");
		c->cert_is_generated = 1;
	}
	return 0;
}

void config_free(struct config *c)
{
	free(c->domain);
	free(c->data_dir);
	free(c->database);
	free(c->cert);
	free(c->key);
	free(c->ciphers);
	listen_clear(&c->listen);
	listen_clear(&c->tls_listen);
	c->domain = c->data_dir = c->database = NULL;
	c->cert = c->key = c->ciphers = NULL;
}
