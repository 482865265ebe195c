/*
 * server.h - the running server: one event loop that owns the listeners,
 * the sessions, the router and the shared services (store, TLS, limits).
 *
 * Single-threaded: everything here runs on srv->base.  Later, one loop per
 * core would mean one struct server per loop sharing the store and a
 * cross-loop router queue; nothing in im/ reaches past the router API.
 */
#ifndef PARLEY_XMPP_SERVER_H
#define PARLEY_XMPP_SERVER_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/config.h"
#include "xml/xml.h"

struct store;
struct router;
struct addrlimit;
struct authfail;
struct reglimit;
struct ratelimit;
struct listener;
struct session;
struct http_server;
struct upload_svc;
struct traffic;
struct metrics_page;
struct policy;
struct audit_svc;

struct server {
	const struct config	*cfg;
	struct event_base	*base;
	struct store		*store;
	SSL_CTX			*tls;
	struct router		*router;
	struct addrlimit	*addrlimit;
	struct authfail		*authfail;
	struct reglimit		*reglimit;	/* NULL: rate limits off */
	struct ratelimit	*ratelimit;	/* NULL: rate_limits = off */
	/* HTTPS ([http] listen; NULL when empty) and XEP-0363 on it. */
	struct http_server	*http;
	SSL_CTX			*http_tls;
	struct upload_svc	*upload;
	/* Per-account traffic for parleyctl top, flushed by ev_flush; and
	 * /metrics ([metrics] enabled, on the HTTPS listener; or NULL). */
	struct traffic		*traffic;
	struct metrics_page	*metrics_page;
	struct event		*ev_flush;
	/* Groups of accounts, idle logoff (xmpp/policy.h). */
	struct policy		*policy;
	/* Coalesced audit events and the retention job (xmpp/audit.h). */
	struct audit_svc	*audit;
	/* <data_dir>/parleyd.lock, held while running (core/datalock.h). */
	int			 lock_fd;
	struct xml_limits	 xml_limits;
	struct listener		*listeners[2 * CONFIG_MAX_LISTEN];
	size_t			 nlisteners;
	struct session		*sessions;	/* every live session */
	size_t			 nsessions;
	uint64_t		 next_id;
	struct event		*ev_term, *ev_int, *ev_gc, *ev_stop;
	int			 stopping;
};

/* Sets everything up (data folder, certificate, store, listeners).
 * Returns 0, or -1 with a one-line reason in err. */
int	 server_init(struct server *srv, const struct config *cfg, char *err,
	    size_t errlen);
/* Runs until SIGTERM/SIGINT; then closes every session cleanly. */
int	 server_run(struct server *srv);
void	 server_free(struct server *srv);
/* Records one event in the admin's audit trail (store/audit.h): kind,
 * account (or NULL), the client's address (or NULL), and a detail made
 * from fmt (or NULL).  The detail names limits, policies and reasons,
 * never a message body or a secret.  A store error is logged, never
 * fatal: the event that is being audited goes on. */
void	 server_audit(struct server *srv, const char *kind,
	    const char *account, const char *addr, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif
