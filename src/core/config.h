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

struct listen_list {
	size_t	 n;
	char	*addr[CONFIG_MAX_LISTEN];	/* "host:port" or "[v6]:port" */
};

struct config {
	/* [server] */
	char		*domain;
	char		*data_dir;
	char		*database;	/* default <data_dir>/parley.db */
	enum log_level	 log_level;

	/* [c2s] */
	struct listen_list listen;	/* STARTTLS */
	struct listen_list tls_listen;	/* direct TLS, XEP-0368 */
	unsigned	 auth_timeout;	/* s, unauthenticated deadline */
	unsigned	 ping_interval;	/* s of silence before the server pings */
	unsigned	 ping_timeout;	/* s to answer before the session is dead */
	unsigned	 max_sessions_per_account;
	unsigned	 max_unauth_per_address;
	unsigned	 connect_rate;	/* new connections/s per address */
	size_t		 max_output_queue;

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

	/* derived by config_finish() */
	int		 cert_is_generated; /* no cert configured: make one */
};

void	config_defaults(struct config *c);
int	config_load(struct config *c, const char *path, char *err,
	    size_t errlen);
int	config_finish(struct config *c, char *err, size_t errlen);
void	config_free(struct config *c);

#endif
