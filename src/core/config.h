/*
 * config.h - the parsed configuration file (INI, read with libinih).
 *
 * config_defaults() fills the embedded defaults (docs/CONFIG.md lists every
 * key); config_load() overlays a file and refuses unknown sections and keys,
 * malformed values and values above the ceilings in limits.h;
 * config_finish() derives dependent paths.  Errors come back as one line,
 * "FILE:LINE: reason", for the admin.  The struct owns its strings;
 * config_free() releases them.
 */
#ifndef PARLEY_CORE_CONFIG_H
#define PARLEY_CORE_CONFIG_H

#include <stddef.h>

#include "core/log.h"

#define CONFIG_MAX_LISTEN 8
#define CONFIG_MAX_DOMAINS 32

struct listen_list {
	size_t	 n;
	char	*addr[CONFIG_MAX_LISTEN];	/* "host:port" or "[v6]:port" */
};

/* [policy] first_contact: who may write to an account without its
 * consent (im/consent.c).  AUTO is DOMAIN while in-band registration is
 * closed or by invitation, CONTACTS when anyone can make an account. */
enum first_contact {
	FC_AUTO = 0,
	FC_CONTACTS,	/* only roster contacts */
	FC_DOMAIN,	/* also every account of this server */
	FC_ANYONE,	/* nobody needs consent */
};
/* The names above, indexed by value, as written in the config file. */
extern const char *const first_contact_names[4];
/* The value named s, or -1. */
int	first_contact_parse(const char *s);
/* [archive] default, indexed like enum archive_default (store/archive.h). */
extern const char *const archive_default_names[4];
/* "90d" as text: the largest whole unit (d, h, m or s). */
void	config_duration_str(unsigned seconds, char *out, size_t cap);

/* [register] mode: who may create an account in-band. */
enum register_mode {
	REGISTER_CLOSED = 0,	/* only the admin (parleyctl) */
	REGISTER_INVITE,	/* with an invitation */
	REGISTER_OPEN,		/* anyone */
};

/* [metrics] access: who may read /metrics. */
enum metrics_access {
	METRICS_ACCESS_LOOPBACK = 0,	/* loopback clients, or the token */
	METRICS_ACCESS_TOKEN,		/* the token, from anywhere */
};

struct domain_list {
	size_t	 n;
	char	*v[CONFIG_MAX_DOMAINS];	/* normalised domains */
};

/* Media types, "type/subtype" or (in an allow list) a whole type written
 * "type/" and a star, stored lower-case, for [upload] allowed_types and
 * refused_types. */
#define CONFIG_MAX_TYPES 32
struct type_list {
	size_t	 n;
	char	*v[CONFIG_MAX_TYPES];
};

/*
 * Groups of accounts ([group.NAME] sections, xmpp/policy.h): what the
 * accounts of a group may do.  A key the section does not set follows
 * the global setting (the [limits] budgets, [c2s] idle_logoff and
 * max_session, and allow/allow/any/user for the others), never another
 * group.  Accounts are put in a group with parleyctl user group; those
 * in none follow [group.default] when it exists.
 */
#define CONFIG_MAX_GROUPS	64
#define CONFIG_GROUP_NAME_MAX	32

/* archive = user|off|always (issue 7's MAM decides with it). */
enum group_archive {
	ARCHIVE_USER = 0,	/* each user chooses (the default) */
	ARCHIVE_OFF,		/* never archived */
	ARCHIVE_ALWAYS,		/* always, whatever the user says */
};
extern const char *const group_archive_names[3];

/* Bits of config_group.set: which keys the section gave. */
enum {
	GK_UPLOAD = 1u << 0, GK_REMOTE = 1u << 1, GK_FEDERATE = 1u << 2,
	GK_ARCHIVE = 1u << 3, GK_MAX_SESSION = 1u << 4, GK_IDLE = 1u << 5,
	GK_MSG_RATE = 1u << 6, GK_MSG_BURST = 1u << 7,
	GK_PRES_RATE = 1u << 8, GK_PRES_BURST = 1u << 9,
	GK_IQ_RATE = 1u << 10, GK_IQ_BURST = 1u << 11,
	GK_BYTE_RATE = 1u << 12, GK_BYTE_BURST = 1u << 13,
	GK_NEW_RCPT = 1u << 14,
};

struct config_group {
	char		*name;		/* NAME of [group.NAME] */
	unsigned	 set;		/* GK_* given in the file */
	int		 upload;	/* 1 allow, 0 deny */
	int		 remote_contacts; /* 1 allow, 0 deny */
	struct domain_list federate;	/* meaningful with GK_FEDERATE */
	enum group_archive archive;
	unsigned	 max_session;	/* s; 0: no limit */
	unsigned	 idle_logoff;	/* s; 0: never */
	unsigned	 message_rate, message_burst;
	unsigned	 presence_rate, presence_burst;
	unsigned	 iq_rate, iq_burst;
	unsigned	 byte_rate, byte_burst;
	unsigned	 new_recipients_per_hour;
};

#define CONFIG_MAX_ADMINS	32

struct config {
	/* [server] */
	char		*domain;
	char		*data_dir;
	char		*database;	/* default <data_dir>/parley.db */
	enum log_level	 log_level;
	/* XEP-0133 admins: localparts of this server's accounts */
	struct domain_list admins;

	/* [c2s] */
	struct listen_list listen;	/* STARTTLS */
	struct listen_list tls_listen;	/* direct TLS, XEP-0368 */
	unsigned	 auth_timeout;	/* s, unauthenticated deadline */
	unsigned	 ping_interval;	/* s of silence before the server pings */
	unsigned	 ping_timeout;	/* s to answer before the session is dead */
	unsigned	 max_sessions_per_account;
	unsigned	 max_unauth_per_address;
	unsigned	 connect_rate;	/* new connections/s per address */
	size_t		 max_unauth_bytes; /* read before authenticating */
	size_t		 max_output_queue;
	unsigned	 idle_logoff;	/* s without user activity; 0: never */
	unsigned	 max_session;	/* s a session may last; 0: no limit */

	/* [tls] */
	char		*cert;		/* default <data_dir>/tls/cert.pem */
	char		*key;		/* default <data_dir>/tls/key.pem */
	int		 tls_min_version; /* 12 or 13 */
	char		*ciphers;	/* TLS 1.2 cipher list */

	/* [auth] */
	int		 allow_plain;
	unsigned	 scram_iterations;
	unsigned	 backoff_base_ms;
	unsigned	 backoff_max_ms;

	/* [limits] */
	size_t		 max_stanza_size;
	size_t		 max_header_size;
	unsigned	 max_depth;
	unsigned	 max_attributes;
	int		 rate_limits;
	unsigned	 max_roster_items;
	unsigned	 max_offline_messages;	/* 0: no offline storage */
	size_t		 max_offline_bytes;
	size_t		 max_vcard_size;
	size_t		 max_private_size;
	unsigned	 max_pep_nodes;
	unsigned	 max_pep_items;
	unsigned	 max_csi_held;
	unsigned	 max_blocklist_items;	/* XEP-0191, per account */
	/* per-account rate limits (xmpp/ratelimit.h): a second, and burst */
	unsigned	 message_rate, message_burst;
	unsigned	 presence_rate, presence_burst;
	unsigned	 iq_rate, iq_burst;
	unsigned	 byte_rate, byte_burst;
	unsigned	 new_recipients_per_hour;

	/* [policy] */
	enum first_contact first_contact;
	struct domain_list first_contact_domains; /* count as this server */
	unsigned	 max_held_messages; /* per stranger and recipient */
	size_t		 max_held_bytes;	/* the same, in bytes */
	unsigned	 max_first_contacts_per_hour; /* per sender */

	/* [register] */
	enum register_mode register_mode;
	unsigned	 reg_accounts_per_hour;	/* per address, open mode */
	unsigned	 reg_refused_per_hour;	/* per address */
	unsigned	 min_password_length;	/* chosen in-band */

	/* [http] (http/http.h) */
	struct listen_list http_listen;	/* HTTPS; empty: no uploads */
	char		*http_url;	/* public base URL; "" derives one */
	unsigned	 http_timeout;	/* s of idleness per connection */
	unsigned	 http_max_connections;
	unsigned	 http_max_per_address;
	size_t		 http_max_header_size;

	/* [upload] (XEP-0363, http/upload.h) */
	char		*upload_dir;	/* default <data_dir>/uploads */
	size_t		 upload_max_file_size;
	size_t		 upload_quota;	/* bytes kept per account */
	unsigned	 uploads_per_hour;
	struct type_list upload_allowed_types; /* empty: any not refused */
	struct type_list upload_refused_types;
	unsigned	 upload_expire_days;
	unsigned	 upload_expire_seconds;	/* tests only; 0: use days */
	unsigned	 upload_slot_lifetime;	/* s to use a slot's PUT URL */

	/* [scan] (scan/clamd.h) */
	int		 scan_enabled;
	char		*clamd_socket;
	int		 scan_fail_open;	/* publish when clamd fails */
	unsigned	 scan_timeout;

	/* [policy] p2p_transfers: 1 lets direct transfer offers through */
	int		 p2p_allow;

	/* [metrics] (http/metrics.h, admin/traffic.h) */
	int		 metrics_enabled;	/* the /metrics page */
	int		 metrics_access;	/* METRICS_ACCESS_* */
	char		*metrics_token;		/* "" : none */
	unsigned	 metrics_flush_interval; /* s between traffic flushes */
	/* [group.NAME] sections, in file order */
	struct config_group groups[CONFIG_MAX_GROUPS];
	size_t		 ngroups;
	/* [audit] retention: s an audit event is kept; 0: forever */
	unsigned	 audit_retention;
	/* [backup] max_age: s after the last backup when check warns */
	unsigned	 backup_max_age;
	/* [archive] (XEP-0313, im/mam.c; durations in seconds) */
	int		 archive_default;	/* enum archive_default */
	unsigned	 archive_retention;	/* 0: until the quota */
	unsigned	 archive_max_messages;	/* per account */
	unsigned	 archive_max_page;	/* RSM max is capped to it */
	struct domain_list archive_force_domains; /* org policy */
	unsigned	 archive_force_retention;
	int		 archive_disclose;	/* tell both sides */
	unsigned	 archive_expire_interval; /* s between sweeps */

	/* derived by config_finish() */
	int		 cert_is_generated; /* no cert configured: make one */
};

void	config_defaults(struct config *c);
int	config_load(struct config *c, const char *path, char *err,
	    size_t errlen);
int	config_finish(struct config *c, char *err, size_t errlen);
/* 0 if s[0..len) is a media type "type/subtype" (RFC 6838 names, no
 * parameters), or a whole type ("type/" and a star) when wild. */
int	config_media_type_ok(const char *s, size_t len, int wild);
void	config_free(struct config *c);
/* The group named name, or NULL. */
const struct config_group *config_group_find(const struct config *c,
	    const char *name);
/* 0 if name may name a group: 1 to CONFIG_GROUP_NAME_MAX letters,
 * digits, '-' or '_'. */
int	config_group_name_ok(const char *name, size_t len);
/* A duration: plain seconds, or a number with s, m, h or d ("90d"), up to
 * max seconds.  0 and *out set, or -1. */
int	config_parse_duration(const char *s, unsigned long long max,
	    unsigned long long *out);

#endif
