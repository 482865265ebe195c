/* config.c - see config.h. */
#include "core/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <ini.h>

#include "core/alloc.h"
#include "core/buf.h"
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
	K_ENUM,		/* one of names[], stored as its index (int) */
	K_DOMAINS,	/* comma-separated domain names */
	K_TYPES,	/* comma-separated media types (struct type_list) */
	K_DURATION,	/* seconds, or with s/m/h/d; "off" is 0 when min is 0 */
	K_JIDS,		/* comma-separated bare JIDs (struct domain_list) */
};

struct key {
	const char	*section;
	const char	*name;
	enum ktype	 type;
	size_t		 off;
	unsigned long long min, max;
	const char *const *names;	/* K_ENUM: NULL-terminated */
	unsigned	 bit;		/* group keys: their GK_* bit */
};

const char *const first_contact_names[4] = {
	"auto", "contacts", "domain", "anyone",
};
static const char *const first_contact_list[] = {
	"auto", "contacts", "domain", "anyone", NULL,
};
static const char *const p2p_list[] = {
	"refuse", "allow", NULL,
};
static const char *const metrics_access_list[] = {
	"loopback", "token", NULL,
};
const char *const archive_default_names[4] = {
	"never", "always", "roster", NULL,
};
static const char *const register_mode_list[] = {
	"closed", "invite", "open", NULL,
};
static const char *const allow_deny_list[] = {
	"deny", "allow", NULL,
};
const char *const group_archive_names[3] = {
	"user", "off", "always",
};
static const char *const archive_list[] = {
	"user", "off", "always", NULL,
};

int first_contact_parse(const char *s)
{
	for (int i = 0; first_contact_list[i] != NULL; i++)
		if (strcmp(s, first_contact_list[i]) == 0)
			return i;
	return -1;
}

#define OFF(f)	offsetof(struct config, f)

static const struct key keys[] = {
	{ "server", "domain", K_DOMAIN, OFF(domain), 0, 0 },
	{ "server", "data_dir", K_STR_NONEMPTY, OFF(data_dir), 0, 0 },
	{ "server", "database", K_STR, OFF(database), 0, 0 },
	{ "server", "log_level", K_LOGLEVEL, OFF(log_level), 0, 0 },
	{ "server", "admins", K_JIDS, OFF(admins), 0, 0 },

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
	{ "c2s", "max_unauth_bytes", K_SIZE, OFF(max_unauth_bytes),
	    PARLEY_UNAUTH_BYTES_FLOOR, PARLEY_UNAUTH_BYTES_CEILING },
	{ "c2s", "idle_logoff", K_DURATION, OFF(idle_logoff),
	    0, PARLEY_DURATION_CEILING },
	{ "c2s", "max_session", K_DURATION, OFF(max_session),
	    0, PARLEY_DURATION_CEILING },

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
	{ "limits", "max_blocklist_items", K_UINT, OFF(max_blocklist_items),
	    1, PARLEY_BLOCKLIST_MAX_CEILING },
	{ "limits", "rate_limits", K_BOOL, OFF(rate_limits), 0, 0 },
	{ "limits", "message_rate", K_UINT, OFF(message_rate),
	    1, PARLEY_STANZA_RATE_CEILING },
	{ "limits", "message_burst", K_UINT, OFF(message_burst),
	    1, PARLEY_STANZA_BURST_CEILING },
	{ "limits", "presence_rate", K_UINT, OFF(presence_rate),
	    1, PARLEY_STANZA_RATE_CEILING },
	{ "limits", "presence_burst", K_UINT, OFF(presence_burst),
	    1, PARLEY_STANZA_BURST_CEILING },
	{ "limits", "iq_rate", K_UINT, OFF(iq_rate),
	    1, PARLEY_STANZA_RATE_CEILING },
	{ "limits", "iq_burst", K_UINT, OFF(iq_burst),
	    1, PARLEY_STANZA_BURST_CEILING },
	{ "limits", "byte_rate", K_UINT, OFF(byte_rate),
	    1, PARLEY_BYTE_RATE_CEILING },
	{ "limits", "byte_burst", K_UINT, OFF(byte_burst),
	    1, PARLEY_BYTE_BURST_CEILING },
	{ "limits", "new_recipients_per_hour", K_UINT,
	    OFF(new_recipients_per_hour), 1, PARLEY_NEW_RCPT_HOUR_CEILING },

	{ "policy", "first_contact", K_ENUM, OFF(first_contact), 0, 0,
	    first_contact_list },
	{ "policy", "first_contact_domains", K_DOMAINS,
	    OFF(first_contact_domains), 0, 0 },
	{ "policy", "max_held_messages", K_UINT, OFF(max_held_messages),
	    1, PARLEY_HELD_MSGS_CEILING },
	{ "policy", "max_held_bytes", K_SIZE, OFF(max_held_bytes),
	    PARLEY_HELD_BYTES_FLOOR, PARLEY_HELD_BYTES_CEILING },
	{ "policy", "max_first_contacts_per_hour", K_UINT,
	    OFF(max_first_contacts_per_hour),
	    1, PARLEY_FIRST_CONTACTS_HOUR_CEILING },

	{ "register", "mode", K_ENUM, OFF(register_mode), 0, 0,
	    register_mode_list },
	{ "register", "accounts_per_address_hour", K_UINT,
	    OFF(reg_accounts_per_hour), 1, PARLEY_REG_HOUR_CEILING },
	{ "register", "refused_per_address_hour", K_UINT,
	    OFF(reg_refused_per_hour), 1, PARLEY_REG_HOUR_CEILING },
	{ "register", "min_password_length", K_UINT, OFF(min_password_length),
	    1, PARLEY_PASSWORD_MAX },

	{ "http", "listen", K_LISTEN, OFF(http_listen), 0, 0 },
	{ "http", "url", K_STR, OFF(http_url), 0, 0 },
	{ "http", "timeout", K_UINT, OFF(http_timeout),
	    1, PARLEY_HTTP_TIMEOUT_CEILING },
	{ "http", "max_connections", K_UINT, OFF(http_max_connections),
	    1, PARLEY_HTTP_CONNS_CEILING },
	{ "http", "max_connections_per_address", K_UINT,
	    OFF(http_max_per_address), 1, PARLEY_HTTP_CONNS_CEILING },
	{ "http", "max_header_size", K_SIZE, OFF(http_max_header_size),
	    1024, PARLEY_HTTP_HEADER_MAX_CEILING },

	{ "upload", "dir", K_STR, OFF(upload_dir), 0, 0 },
	{ "upload", "max_file_size", K_SIZE, OFF(upload_max_file_size),
	    PARLEY_UPLOAD_FILE_MAX_FLOOR, PARLEY_UPLOAD_FILE_MAX_CEILING },
	{ "upload", "quota", K_SIZE, OFF(upload_quota),
	    PARLEY_UPLOAD_FILE_MAX_FLOOR, PARLEY_UPLOAD_QUOTA_CEILING },
	{ "upload", "per_hour", K_UINT, OFF(uploads_per_hour),
	    1, PARLEY_UPLOADS_HOUR_CEILING },
	{ "upload", "allowed_types", K_TYPES, OFF(upload_allowed_types), 0, 0 },
	{ "upload", "refused_types", K_TYPES, OFF(upload_refused_types), 0, 0 },
	{ "upload", "expire_days", K_UINT, OFF(upload_expire_days),
	    1, PARLEY_UPLOAD_EXPIRE_DAYS_CEILING },
	{ "upload", "expire_seconds", K_UINT, OFF(upload_expire_seconds),
	    0, 86400 },
	{ "upload", "slot_lifetime", K_UINT, OFF(upload_slot_lifetime),
	    1, PARLEY_UPLOAD_SLOT_S_CEILING },

	{ "scan", "enabled", K_BOOL, OFF(scan_enabled), 0, 0 },
	{ "scan", "clamd_socket", K_STR_NONEMPTY, OFF(clamd_socket), 0, 0 },
	{ "scan", "fail_open", K_BOOL, OFF(scan_fail_open), 0, 0 },
	{ "scan", "timeout", K_UINT, OFF(scan_timeout),
	    1, PARLEY_SCAN_TIMEOUT_CEILING },

	{ "policy", "p2p_transfers", K_ENUM, OFF(p2p_allow), 0, 0, p2p_list },

	{ "metrics", "enabled", K_BOOL, OFF(metrics_enabled), 0, 0 },
	{ "metrics", "access", K_ENUM, OFF(metrics_access), 0, 0,
	    metrics_access_list },
	{ "metrics", "token", K_STR, OFF(metrics_token), 0, 0 },
	{ "metrics", "flush_interval", K_UINT, OFF(metrics_flush_interval),
	    1, PARLEY_METRICS_FLUSH_CEILING },
	{ "audit", "retention", K_DURATION, OFF(audit_retention),
	    0, PARLEY_AUDIT_RETENTION_CEILING },
	{ "backup", "max_age", K_DURATION, OFF(backup_max_age),
	    3600, PARLEY_BACKUP_MAX_AGE_CEILING },
	{ "archive", "default", K_ENUM, OFF(archive_default), 0, 0,
	    archive_default_names },
	{ "archive", "retention", K_DURATION, OFF(archive_retention),
	    0, PARLEY_ARCHIVE_RETENTION_CEILING },
	{ "archive", "max_messages", K_UINT, OFF(archive_max_messages),
	    1, PARLEY_ARCHIVE_MSGS_CEILING },
	{ "archive", "max_page", K_UINT, OFF(archive_max_page),
	    1, PARLEY_ARCHIVE_PAGE_CEILING },
	{ "archive", "force_domains", K_DOMAINS, OFF(archive_force_domains),
	    0, 0 },
	{ "archive", "force_retention", K_DURATION,
	    OFF(archive_force_retention), 1, PARLEY_ARCHIVE_RETENTION_CEILING },
	{ "archive", "disclose", K_BOOL, OFF(archive_disclose), 0, 0 },
	{ "archive", "expire_interval", K_UINT, OFF(archive_expire_interval),
	    1, 86400 },
};

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

#define GOFF(f)	offsetof(struct config_group, f)

/* The keys of a [group.NAME] section; offsets into struct config_group.
 * The ranges are those of the global keys they stand in for. */
static const struct key group_keys[] = {
	{ "group", "upload", K_ENUM, GOFF(upload), 0, 0, allow_deny_list,
	    GK_UPLOAD },
	{ "group", "remote_contacts", K_ENUM, GOFF(remote_contacts), 0, 0,
	    allow_deny_list, GK_REMOTE },
	{ "group", "federate", K_DOMAINS, GOFF(federate), 0, 0, NULL,
	    GK_FEDERATE },
	{ "group", "archive", K_ENUM, GOFF(archive), 0, 0, archive_list,
	    GK_ARCHIVE },
	{ "group", "max_session", K_DURATION, GOFF(max_session),
	    0, PARLEY_DURATION_CEILING, NULL, GK_MAX_SESSION },
	{ "group", "idle_logoff", K_DURATION, GOFF(idle_logoff),
	    0, PARLEY_DURATION_CEILING, NULL, GK_IDLE },
	{ "group", "message_rate", K_UINT, GOFF(message_rate),
	    1, PARLEY_STANZA_RATE_CEILING, NULL, GK_MSG_RATE },
	{ "group", "message_burst", K_UINT, GOFF(message_burst),
	    1, PARLEY_STANZA_BURST_CEILING, NULL, GK_MSG_BURST },
	{ "group", "presence_rate", K_UINT, GOFF(presence_rate),
	    1, PARLEY_STANZA_RATE_CEILING, NULL, GK_PRES_RATE },
	{ "group", "presence_burst", K_UINT, GOFF(presence_burst),
	    1, PARLEY_STANZA_BURST_CEILING, NULL, GK_PRES_BURST },
	{ "group", "iq_rate", K_UINT, GOFF(iq_rate),
	    1, PARLEY_STANZA_RATE_CEILING, NULL, GK_IQ_RATE },
	{ "group", "iq_burst", K_UINT, GOFF(iq_burst),
	    1, PARLEY_STANZA_BURST_CEILING, NULL, GK_IQ_BURST },
	{ "group", "byte_rate", K_UINT, GOFF(byte_rate),
	    1, PARLEY_BYTE_RATE_CEILING, NULL, GK_BYTE_RATE },
	{ "group", "byte_burst", K_UINT, GOFF(byte_burst),
	    1, PARLEY_BYTE_BURST_CEILING, NULL, GK_BYTE_BURST },
	{ "group", "new_recipients_per_hour", K_UINT,
	    GOFF(new_recipients_per_hour), 1, PARLEY_NEW_RCPT_HOUR_CEILING,
	    NULL, GK_NEW_RCPT },
};

#define NGROUPKEYS	(sizeof(group_keys) / sizeof(group_keys[0]))
#define GROUP_PREFIX	"group."

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
	int		 gline[CONFIG_MAX_GROUPS]; /* each group's section */
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
	"server", "c2s", "tls", "auth", "limits", "policy", "register",
	"http", "upload", "scan", "metrics", "audit", "backup", "archive",
};

int config_group_name_ok(const char *name, size_t len)
{
	if (len == 0 || len > CONFIG_GROUP_NAME_MAX)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return -1;
	return 0;
}

/* "group.NAME" with a valid NAME: the length of NAME, else 0. */
static size_t group_section(const char *s, size_t n)
{
	size_t p = strlen(GROUP_PREFIX);

	if (n <= p || memcmp(s, GROUP_PREFIX, p) != 0 ||
	    config_group_name_ok(s + p, n - p) != 0)
		return 0;
	return n - p;
}

const struct config_group *config_group_find(const struct config *c,
    const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

static int section_known(const char *s, size_t n)
{
	if (group_section(s, n) != 0)
		return 1;
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

int config_parse_duration(const char *s, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0, unit = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > max)
			return -1;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	default: return -1;
	}
	if (*p != '\0' || v > max / unit)
		return -1;
	*out = v * unit;
	return 0;
}

void config_duration_str(unsigned seconds, char *out, size_t cap)
{
	if (seconds == 0)
		snprintf(out, cap, "0");
	else if (seconds % 86400 == 0)
		snprintf(out, cap, "%ud", seconds / 86400);
	else if (seconds % 3600 == 0)
		snprintf(out, cap, "%uh", seconds / 3600);
	else if (seconds % 60 == 0)
		snprintf(out, cap, "%um", seconds / 60);
	else
		snprintf(out, cap, "%us", seconds);
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

/*
 * Splits a comma-separated value into items with the spaces around them
 * trimmed, refusing empty items and more than max; take() checks and keeps
 * each one (returns -1 after reporting why).  one/many name an item in the
 * errors ("address", "addresses").  An empty value is an empty list.
 */
static int split_list(struct parse_ctx *x, const struct key *k,
    const char *value, const char *one, const char *many, size_t max,
    int (*take)(struct parse_ctx *, const struct key *, const char *,
    size_t, void *), void *ud)
{
	const char *p = value;
	size_t n = 0;

	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + len;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e) {
			ctx_error(x, "[%s] %s: empty %s in the list",
			    k->section, k->name, one);
			return -1;
		}
		if (n == max) {
			ctx_error(x, "[%s] %s: at most %zu %s",
			    k->section, k->name, max, many);
			return -1;
		}
		if (take(x, k, s, (size_t)(e - s), ud) != 0)
			return -1;
		n++;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0') {
			ctx_error(x, "[%s] %s: empty %s in the list",
			    k->section, k->name, one);
			return -1;
		}
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

static int take_listen(struct parse_ctx *x, const struct key *k,
    const char *s, size_t n, void *ud)
{
	struct listen_list *l = ud;
	const char *why;
	char *item = xstrndup(s, n);

	l->addr[l->n++] = item;
	if (check_listen_addr(item, &why) != 0) {
		ctx_error(x, "[%s] %s: %s: %s", k->section, k->name, item,
		    why);
		return -1;
	}
	return 0;
}

static int parse_listen(struct parse_ctx *x, const struct key *k,
    const char *value, struct listen_list *out)
{
	struct listen_list nl;

	memset(&nl, 0, sizeof(nl));
	if (split_list(x, k, value, "address", "addresses", CONFIG_MAX_LISTEN,
	    take_listen, &nl) != 0) {
		listen_clear(&nl);
		return -1;
	}
	listen_clear(out);
	*out = nl;
	return 0;
}

/* "a, b or c" for an error message. */
static const char *enum_list(const char *const *names, char *out,
    size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = 0; names[i] != NULL; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] ? ", " : " or ";
		size_t n = strlen(sep) + strlen(names[i]);

		if (off + n + 1 > cap)
			break;
		off += (size_t)snprintf(out + off, cap - off, "%s%s", sep,
		    names[i]);
	}
	return out;
}

static void domains_clear(struct domain_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
		l->v[i] = NULL;
	}
	l->n = 0;
}

/* "a.example, b.example": each a valid domainpart, stored normalised.
 * An empty value is an empty list. */
static int take_domain(struct parse_ctx *x, const struct key *k,
    const char *s, size_t n, void *ud)
{
	struct domain_list *l = ud;
	char *item = xstrndup(s, n);
	struct jid j;

	if (jid_make(NULL, item, NULL, &j) != 0) {
		ctx_error(x, "[%s] %s: %s: not a valid domain name",
		    k->section, k->name, item);
		free(item);
		return -1;
	}
	free(item);
	l->v[l->n++] = xstrdup(j.domain);
	jid_free(&j);
	return 0;
}

static int parse_domains(struct parse_ctx *x, const struct key *k,
    const char *value, struct domain_list *out)
{
	struct domain_list nl;

	memset(&nl, 0, sizeof(nl));
	if (split_list(x, k, value, "domain", "domains", CONFIG_MAX_DOMAINS,
	    take_domain, &nl) != 0) {
		domains_clear(&nl);
		return -1;
	}
	domains_clear(out);
	*out = nl;
	return 0;
}

static void types_clear(struct type_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
		l->v[i] = NULL;
	}
	l->n = 0;
}

/* RFC 6838 4.2 restricted-name characters. */
static int mime_name_char(char c)
{
	return isalnum((unsigned char)c) || strchr("!#$&-^_.+", c) != NULL;
}

/*
 * One media type, "type/subtype" without parameters, or "type/" and a
 * star when wild is set; 0 if valid.  Checked here so that the upload
 * code only ever compares well-formed, lower-case names.
 */
int config_media_type_ok(const char *s, size_t len, int wild)
{
	size_t i = 0, start;

	if (len == 0 || len > PARLEY_UPLOAD_TYPE_MAX)
		return -1;
	while (i < len && mime_name_char(s[i]))
		i++;
	if (i == 0 || i >= len || s[i] != '/')
		return -1;
	start = ++i;
	if (wild && i + 1 == len && s[i] == '*')
		return 0;
	while (i < len && mime_name_char(s[i]))
		i++;
	return i == len && i > start ? 0 : -1;
}

/* "image/png, audio/mpeg": each a media type, stored lower-case; a
 * whole type ("image/" and a star) is allowed in the list.  An empty
 * value is an empty list. */
static int take_type(struct parse_ctx *x, const struct key *k,
    const char *s, size_t n, void *ud)
{
	struct type_list *l = ud;
	char *item;

	if (config_media_type_ok(s, n, 1) != 0) {
		ctx_error(x, "[%s] %s: %.*s: not a media type like "
		    "image/png or image/*", k->section, k->name,
		    (int)(n > 64 ? 64 : n), s);
		return -1;
	}
	item = xstrndup(s, n);
	for (char *c = item; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	l->v[l->n++] = item;
	return 0;
}

static int parse_types(struct parse_ctx *x, const struct key *k,
    const char *value, struct type_list *out)
{
	struct type_list nl;

	memset(&nl, 0, sizeof(nl));
	if (split_list(x, k, value, "type", "types", CONFIG_MAX_TYPES,
	    take_type, &nl) != 0) {
		types_clear(&nl);
		return -1;
	}
	types_clear(out);
	*out = nl;
	return 0;
}

/* Bare JIDs "alice@example.org": normalised, without a resource. */
static int take_jid(struct parse_ctx *x, const struct key *k,
    const char *s, size_t n, void *ud)
{
	struct domain_list *l = ud;
	char *item = xstrndup(s, n);
	struct jid j;
	struct buf b = BUF_INIT;

	if (jid_parse(item, &j) != 0 || j.local == NULL ||
	    j.resource != NULL) {
		if (j.domain != NULL)
			jid_free(&j);
		ctx_error(x, "[%s] %s: %.64s: not a bare JID like "
		    "alice@%s", k->section, k->name, item, x->c->domain);
		free(item);
		return -1;
	}
	free(item);
	jid_bare_str(&j, &b);
	jid_free(&j);
	l->v[l->n++] = buf_steal(&b);
	return 0;
}

static int parse_jids(struct parse_ctx *x, const struct key *k,
    const char *value, struct domain_list *out)
{
	struct domain_list nl;

	memset(&nl, 0, sizeof(nl));
	if (split_list(x, k, value, "JID", "JIDs", CONFIG_MAX_ADMINS,
	    take_jid, &nl) != 0) {
		domains_clear(&nl);
		return -1;
	}
	domains_clear(out);
	*out = nl;
	return 0;
}

static int set_value_at(struct parse_ctx *x, const struct key *k,
    const char *value, char *base)
{
	unsigned long long v;
	struct jid j;
	char list[128];
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
	case K_ENUM:
		for (int i = 0; k->names[i] != NULL; i++)
			if (strcmp(value, k->names[i]) == 0) {
				*(int *)(base + k->off) = i;
				return 0;
			}
		ctx_error(x, "[%s] %s: must be %s", k->section, k->name,
		    enum_list(k->names, list, sizeof(list)));
		return -1;
	case K_DOMAINS:
		return parse_domains(x, k, value,
		    (struct domain_list *)(base + k->off));
	case K_TYPES:
		return parse_types(x, k, value,
		    (struct type_list *)(base + k->off));
	case K_DURATION:
		/* "off" only where 0 is allowed: it means "never". */
		if (k->min == 0 && strcasecmp(value, "off") == 0) {
			*(unsigned *)(base + k->off) = 0;
			return 0;
		}
		if (config_parse_duration(value, k->max, &v) != 0 ||
		    v < k->min) {
			ctx_error(x, "[%s] %s: must be a duration from %llus to "
			    "%llud (a number with s, m, h or d)%s", k->section,
			    k->name, k->min, k->max / 86400,
			    k->min == 0 ? ", or off" : "");
			return -1;
		}
		*(unsigned *)(base + k->off) = (unsigned)v;
		return 0;
	case K_JIDS:
		return parse_jids(x, k, value,
		    (struct domain_list *)(base + k->off));
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

static int set_value(struct parse_ctx *x, const struct key *k,
    const char *value)
{
	return set_value_at(x, k, value, (char *)x->c);
}

/* A key of [group.NAME] (the group exists: reader() made it). */
static int group_key(struct parse_ctx *x, const char *section,
    const char *name, const char *value)
{
	const char *gname = section + strlen(GROUP_PREFIX);
	struct config_group *g = NULL;
	struct key k;
	size_t i;

	for (i = 0; i < x->c->ngroups; i++)
		if (strcmp(x->c->groups[i].name, gname) == 0)
			g = &x->c->groups[i];
	if (g == NULL) {
		ctx_error(x, "[%s]: unknown section", section);
		return 0;
	}
	for (i = 0; i < NGROUPKEYS; i++)
		if (strcmp(group_keys[i].name, name) == 0)
			break;
	if (i == NGROUPKEYS) {
		ctx_error(x, "[%s] %s: unknown key", section, name);
		return 0;
	}
	if (g->set & group_keys[i].bit) {
		ctx_error(x, "[%s] %s: duplicate key", section, name);
		return 0;
	}
	g->set |= group_keys[i].bit;
	/* Errors name the section as written. */
	k = group_keys[i];
	k.section = section;
	return set_value_at(x, &k, value, (char *)g) == 0;
}

/* reader() saw [group.NAME]: the group exists from here on, keys or not. */
static void group_open(struct parse_ctx *x, const char *name, size_t n)
{
	struct config_group *g;

	for (size_t i = 0; i < x->c->ngroups; i++)
		if (strlen(x->c->groups[i].name) == n &&
		    memcmp(x->c->groups[i].name, name, n) == 0)
			return;
	if (x->c->ngroups == CONFIG_MAX_GROUPS) {
		ctx_error(x, "at most %d [group.NAME] sections",
		    CONFIG_MAX_GROUPS);
		return;
	}
	x->gline[x->c->ngroups] = x->lineno;
	g = &x->c->groups[x->c->ngroups++];
	memset(g, 0, sizeof(*g));
	g->name = xstrndup(name, n);
	g->upload = 1;
	g->remote_contacts = 1;
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
	if (group_section(section, strlen(section)) != 0)
		return group_key(x, section, name, value);
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

		size_t gn;

		if (rb != NULL && !section_known(p + 1, (size_t)(rb - p - 1))) {
			if (rb - p - 1 > (ptrdiff_t)strlen(GROUP_PREFIX) &&
			    strncmp(p + 1, GROUP_PREFIX,
			    strlen(GROUP_PREFIX)) == 0)
				ctx_error(x, "[%.*s]: a group name is 1 to %d "
				    "letters, digits, '-' or '_'",
				    (int)(rb - p - 1), p + 1,
				    CONFIG_GROUP_NAME_MAX);
			else
				ctx_error(x, "[%.*s]: unknown section",
				    (int)(rb - p - 1), p + 1);
			return NULL;
		}
		if (rb != NULL && (gn = group_section(p + 1,
		    (size_t)(rb - p - 1))) != 0)
			group_open(x, rb - gn, gn);
		if (x->failed)
			return NULL;
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
	c->max_unauth_bytes = PARLEY_UNAUTH_BYTES_DEFAULT;
	c->idle_logoff = PARLEY_IDLE_LOGOFF_DEFAULT;
	c->max_session = 0;

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
	c->max_blocklist_items = PARLEY_BLOCKLIST_MAX_DEFAULT;
	c->rate_limits = 1;
	c->message_rate = PARLEY_MSG_RATE_DEFAULT;
	c->message_burst = PARLEY_MSG_BURST_DEFAULT;
	c->presence_rate = PARLEY_PRES_RATE_DEFAULT;
	c->presence_burst = PARLEY_PRES_BURST_DEFAULT;
	c->iq_rate = PARLEY_IQ_RATE_DEFAULT;
	c->iq_burst = PARLEY_IQ_BURST_DEFAULT;
	c->byte_rate = PARLEY_BYTE_RATE_DEFAULT;
	c->byte_burst = PARLEY_BYTE_BURST_DEFAULT;
	c->new_recipients_per_hour = PARLEY_NEW_RCPT_HOUR_DEFAULT;

	c->first_contact = FC_AUTO;
	c->max_held_messages = PARLEY_HELD_MSGS_DEFAULT;
	c->max_held_bytes = PARLEY_HELD_BYTES_DEFAULT;
	c->max_first_contacts_per_hour = PARLEY_FIRST_CONTACTS_HOUR_DEFAULT;
	c->register_mode = REGISTER_CLOSED;
	c->reg_accounts_per_hour = PARLEY_REG_ACCOUNTS_HOUR_DEFAULT;
	c->reg_refused_per_hour = PARLEY_REG_REFUSED_HOUR_DEFAULT;
	c->min_password_length = PARLEY_PASSWORD_MIN_DEFAULT;

	c->http_listen.n = 1;
	c->http_listen.addr[0] = xstrdup("127.0.0.1:5281");
	c->http_url = xstrdup("");
	c->http_timeout = PARLEY_HTTP_TIMEOUT_DEFAULT;
	c->http_max_connections = PARLEY_HTTP_CONNS_DEFAULT;
	c->http_max_per_address = PARLEY_HTTP_CONNS_ADDR_DEFAULT;
	c->http_max_header_size = PARLEY_HTTP_HEADER_MAX_DEFAULT;
	c->upload_dir = xstrdup("");
	c->upload_max_file_size = PARLEY_UPLOAD_FILE_MAX_DEFAULT;
	c->upload_quota = PARLEY_UPLOAD_QUOTA_DEFAULT;
	c->uploads_per_hour = PARLEY_UPLOADS_HOUR_DEFAULT;
	/* What a browser runs or renders as active content when it opens
	 * the download URL, and programs by their declared type. */
	{
		static const char *const refused[] = {
			"text/html", "application/xhtml+xml", "image/svg+xml",
			"text/javascript", "application/javascript",
			"application/x-msdownload",
			"application/x-msdos-program",
			"application/vnd.microsoft.portable-executable",
			"application/x-executable", "application/x-sh",
		};

		for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]);
		    i++)
			c->upload_refused_types.v[c->upload_refused_types.n++] =
			    xstrdup(refused[i]);
	}
	c->upload_expire_days = PARLEY_UPLOAD_EXPIRE_DAYS_DEFAULT;
	c->upload_slot_lifetime = PARLEY_UPLOAD_SLOT_S_DEFAULT;
	c->scan_enabled = 1;
	c->clamd_socket = xstrdup("/run/clamav/clamd.ctl");
	c->scan_fail_open = 0;
	c->scan_timeout = PARLEY_SCAN_TIMEOUT_DEFAULT;
	c->p2p_allow = 0;
	c->metrics_enabled = 1;
	c->metrics_access = METRICS_ACCESS_LOOPBACK;
	c->metrics_token = xstrdup("");
	c->metrics_flush_interval = PARLEY_METRICS_FLUSH_DEFAULT;
	c->audit_retention = PARLEY_AUDIT_RETENTION_DEFAULT;
	c->backup_max_age = PARLEY_BACKUP_MAX_AGE_DEFAULT;

	c->archive_default = 0;		/* never: archiving is opt-in */
	c->archive_retention = PARLEY_ARCHIVE_RETENTION_DEFAULT;
	c->archive_max_messages = PARLEY_ARCHIVE_MSGS_DEFAULT;
	c->archive_max_page = PARLEY_ARCHIVE_PAGE_DEFAULT;
	c->archive_force_retention = PARLEY_ARCHIVE_FORCE_RETENTION_DEFAULT;
	c->archive_disclose = 1;
	c->archive_expire_interval = 3600;

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
		return;
	}
	/* The base of every upload URL goes into stanzas and HTTP
	 * answers as is: https, and nothing that would need escaping. */
	if (*c->http_url != '\0') {
		size_t iu = key_index("http", "url");
		const char *u = c->http_url;
		int bad = strncmp(u, "https://", 8) != 0 || u[8] == '\0';

		for (; *u && !bad; u++)
			bad = *u <= ' ' || *u >= 0x7f || strchr("\"'<>\\^`{|}",
			    *u) != NULL;
		if (!bad && c->http_url[strlen(c->http_url) - 1] == '/')
			c->http_url[strlen(c->http_url) - 1] = '\0';
		if (bad) {
			x->lineno = x->seen[iu];
			ctx_error(x, "[http] url: must be an https:// URL "
			    "(printable ASCII, no quotes or spaces)");
			return;
		}
	}
	/* The metrics token goes in an Authorization header as is
	 * (RFC 6750 b64token characters), and is long enough not to be
	 * guessed over HTTP. */
	if (*c->metrics_token != '\0' || c->metrics_access ==
	    METRICS_ACCESS_TOKEN) {
		size_t it = key_index("metrics", "token");
		size_t ia = key_index("metrics", "access");
		const char *t = c->metrics_token;
		int bad = strlen(t) < PARLEY_METRICS_TOKEN_MIN;

		for (; *t && !bad; t++)
			bad = !isalnum((unsigned char)*t) &&
			    strchr("-._~+/=", *t) == NULL;
		if (bad) {
			x->lineno = x->seen[it] ? x->seen[it] : x->seen[ia];
			ctx_error(x, "[metrics] token: must be at least %d "
			    "characters of A-Z a-z 0-9 - . _ ~ + / =%s",
			    PARLEY_METRICS_TOKEN_MIN, *c->metrics_token ? "" :
			    " (access = token needs one)");
			return;
		}
	}
	/* A stanza larger than the byte bucket could never be sent. */
	if (c->rate_limits && c->byte_burst < c->max_stanza_size) {
		size_t ib = key_index("limits", "byte_burst");
		size_t is = key_index("limits", "max_stanza_size");

		x->lineno = x->seen[ib] > x->seen[is] ? x->seen[ib] :
		    x->seen[is];
		ctx_error(x, "[limits] byte_burst: must be at least "
		    "max_stanza_size (%zu)", c->max_stanza_size);
		return;
	}
	for (size_t i = 0; i < c->ngroups; i++) {
		const struct config_group *g = &c->groups[i];

		if (c->rate_limits && (g->set & GK_BYTE_BURST) &&
		    g->byte_burst < c->max_stanza_size) {
			x->lineno = x->gline[i];
			ctx_error(x, "[group.%s] byte_burst: must be at least "
			    "max_stanza_size (%zu)", g->name,
			    c->max_stanza_size);
			return;
		}
	}
	/* Admins are accounts of this server (no federation). */
	for (size_t i = 0; i < c->admins.n; i++) {
		const char *at = strchr(c->admins.v[i], '@');

		if (at == NULL || strcmp(at + 1, c->domain) != 0) {
			x->lineno = x->seen[key_index("server", "admins")];
			ctx_error(x, "[server] admins: %s: not an account of "
			    "%s", c->admins.v[i], c->domain);
			return;
		}
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
	if (c->upload_dir == NULL || *c->upload_dir == '\0') {
		free(c->upload_dir);
		c->upload_dir = join_path(c->data_dir, "uploads");
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
	domains_clear(&c->first_contact_domains);
	domains_clear(&c->archive_force_domains);
	listen_clear(&c->http_listen);
	types_clear(&c->upload_allowed_types);
	types_clear(&c->upload_refused_types);
	domains_clear(&c->admins);
	for (size_t i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		c->groups[i].name = NULL;
		domains_clear(&c->groups[i].federate);
	}
	c->ngroups = 0;
	free(c->http_url);
	free(c->upload_dir);
	free(c->clamd_socket);
	if (c->metrics_token != NULL) {
		explicit_bzero(c->metrics_token, strlen(c->metrics_token));
		free(c->metrics_token);
		c->metrics_token = NULL;
	}
	c->http_url = c->upload_dir = c->clamd_socket = NULL;
	c->domain = c->data_dir = c->database = NULL;
	c->cert = c->key = c->ciphers = NULL;
}
