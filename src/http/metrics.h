/*
 * metrics.h - GET /metrics on the HTTPS listener: the server's aggregate
 * counters, gauges and histograms (admin/metrics.h) in the OpenMetrics
 * text format, for Prometheus.
 *
 * Who may read it ([metrics] access, docs/CONFIG.md):
 *   loopback  clients on this host (the TLS client's address, see
 *             http_req_peer_loopback), and any client whose request
 *             carries "Authorization: Bearer TOKEN" when [metrics] token
 *             is set;
 *   token     only requests with the token, from anywhere: behind a
 *             reverse proxy on the same host every client looks local.
 * A request without a valid token is answered 401 with
 * "WWW-Authenticate: Bearer" when a token would open the page, 403 when
 * nothing would (no token configured, client not local).  The token is
 * compared in constant time (SHA-256 of both, CRYPTO_memcmp) and never
 * logged.  With [metrics] enabled = off the route does not exist (404).
 *
 * The page names no account, address or JID: gauges come from the
 * gauges callback (server.c), which only counts.
 */
#ifndef PARLEY_HTTP_METRICS_H
#define PARLEY_HTTP_METRICS_H

#include "core/config.h"

struct http_server;
struct metrics_gauges;
struct metrics_page;

/* Fills g at the moment a page is made. */
typedef void (*metrics_gauges_fn)(void *ud, struct metrics_gauges *g);

/* Registers the route on h.  The caller frees the result after
 * http_server_free(). */
struct metrics_page *metrics_page_new(struct http_server *h,
	    const struct config *cfg, metrics_gauges_fn gauges, void *ud);
void	 metrics_page_free(struct metrics_page *p);

#endif
