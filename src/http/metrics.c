/* metrics.c - see metrics.h. */
#include "http/metrics.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "admin/metrics.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/http.h"

#define CONTENT_TYPE \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"
/* At most one "refused" log line this often: a scanner must not flood
 * the log. */
#define REFUSED_LOG_MS	10000u

struct metrics_page {
	const struct config	*cfg;
	metrics_gauges_fn	 gauges;
	void			*ud;
	int			 has_token;
	unsigned char		 token_hash[SHA256_DIGEST_LENGTH];
	uint64_t		 logged_ms;
	unsigned		 refused;	/* since the last log line */
};

/* 1 when the request carries "Authorization: Bearer TOKEN" with our
 * token.  Both sides are hashed first, so that the comparison takes the
 * same time whatever the length or the first wrong byte. */
static int token_ok(const struct metrics_page *p, struct http_req *r)
{
	const char *h = http_req_header(r, "Authorization");
	unsigned char got[SHA256_DIGEST_LENGTH];

	if (!p->has_token || h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	SHA256((const unsigned char *)h, strlen(h), got);
	return CRYPTO_memcmp(got, p->token_hash, sizeof(got)) == 0;
}

static void log_refused(struct metrics_page *p, struct http_req *r,
    const char *why)
{
	uint64_t now = clock_mono_ms();

	p->refused++;
	if (p->logged_ms != 0 && now - p->logged_ms < REFUSED_LOG_MS)
		return;
	log_warn("https: /metrics refused to %s: %s (%u refused since the "
	    "last such line)", http_req_peer(r), why, p->refused);
	p->logged_ms = now;
	p->refused = 0;
}

static void page_begin(struct http_req *r)
{
	struct metrics_page *p = http_req_route(r)->ud;
	struct metrics_gauges g;
	struct buf b = BUF_INIT;
	int local = p->cfg->metrics_access == METRICS_ACCESS_LOOPBACK &&
	    http_req_peer_loopback(r);

	if (strcmp(http_req_path(r), "/metrics") != 0) {
		http_reply_text(r, 404, "not found");
		return;
	}
	if (!local && !token_ok(p, r)) {
		if (p->has_token) {
			log_refused(p, r, http_req_header(r, "Authorization")
			    ? "wrong token" : "no token");
			http_reply_text(r, 401, "a bearer token is needed");
			http_reply_header(r, "WWW-Authenticate",
			    "Bearer realm=\"metrics\"");
		} else {
			log_refused(p, r, "not a loopback client");
			http_reply_text(r, 403, "only for clients on this "
			    "host");
		}
		return;
	}
	memset(&g, 0, sizeof(g));
	p->gauges(p->ud, &g);
	metrics_render(&metrics, &g, &b);
	http_reply_data(r, 200, CONTENT_TYPE, b.data, b.len);
	buf_free(&b);
}

struct metrics_page *metrics_page_new(struct http_server *h,
    const struct config *cfg, metrics_gauges_fn gauges, void *ud)
{
	struct metrics_page *p = xcalloc(1, sizeof(*p));
	struct http_route route = {
		.prefix = "/metrics",
		.methods = HTTP_GET | HTTP_HEAD,
		.begin = page_begin,
		.no_cors = 1,
	};

	p->cfg = cfg;
	p->gauges = gauges;
	p->ud = ud;
	if (cfg->metrics_token != NULL && *cfg->metrics_token != '\0') {
		p->has_token = 1;
		SHA256((const unsigned char *)cfg->metrics_token,
		    strlen(cfg->metrics_token), p->token_hash);
	}
	route.ud = p;
	http_server_route(h, &route);
	return p;
}

void metrics_page_free(struct metrics_page *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p->token_hash, sizeof(p->token_hash));
	free(p);
}
