/* server.c - see server.h. */
#include "xmpp/server.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/metrics.h"
#include "admin/traffic.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/datalock.h"
#include "core/log.h"
#include "http/http.h"
#include "http/metrics.h"
#include "im/im.h"
#include "http/upload.h"
#include "net/addrlimit.h"
#include "net/conn.h"
#include "net/reglimit.h"
#include "net/listener.h"
#include "net/tls.h"
#include "store/audit.h"
#include "store/store.h"
#include "store/traffic.h"
#include "xmpp/audit.h"
#include "xmpp/authfail.h"
#include "xmpp/ratelimit.h"
#include "xmpp/errors.h"
#include "xmpp/policy.h"
#include "xmpp/router.h"
#include "xmpp/session.h"

/* Seconds between sweeps of idle per-address entries. */
#define GC_INTERVAL_S	10
/* Seconds sessions get to flush their goodbye before the loop exits. */
#define SHUTDOWN_GRACE_S 2

/* Creates each missing directory of path with mode. */
static int mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: bad path", path);
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s",
				    tmp, strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static void refuse(struct server *srv, evutil_socket_t fd, int direct_tls,
    const char *addr, const char *why)
{
	static uint64_t last_log_ms;
	static unsigned suppressed;
	uint64_t now = clock_mono_ms();
	struct buf b = BUF_INIT;

	/* One line per second at most: a flood must not flood the log. */
	if (now - last_log_ms >= 1000) {
		log_warn("refusing a connection from %s: %s (%u more refused "
		    "since the last line)", addr, why, suppressed);
		last_log_ms = now;
		suppressed = 0;
	} else {
		suppressed++;
	}
	if (!direct_tls) {
		/* Plain text before STARTTLS is fine for a refusal: it
		 * carries nothing but the reason. */
		buf_printf(&b, "<?xml version='1.0'?><stream:stream xmlns='"
		    "jabber:client' xmlns:stream='" XML_NS_STREAM "' from='");
		buf_put_xml_escaped(&b, srv->cfg->domain,
		    strlen(srv->cfg->domain));
		buf_puts(&b, "' version='1.0'>");
		stream_error_xml(SE_POLICY_VIOLATION, why, &b);
		buf_puts(&b, "</stream:stream>");
		(void)!write(fd, b.data, b.len);
		buf_free(&b);
	}
	evutil_closesocket(fd);
}

static void accept_common(struct server *srv, evutil_socket_t fd,
    const char *addr, int direct_tls)
{
	const char *why;

	if (srv->stopping) {
		evutil_closesocket(fd);
		return;
	}
	if ((why = addrlimit_admit(srv->addrlimit, addr)) != NULL) {
		metrics.rate_limited[ML_CONNECTIONS]++;
		refuse(srv, fd, direct_tls, addr, why);
		return;
	}
	metrics.connections++;
	session_new(srv, fd, addr, direct_tls);
}

static void accept_starttls(void *ud, evutil_socket_t fd, const char *addr)
{
	accept_common(ud, fd, addr, 0);
}

static void accept_tls(void *ud, evutil_socket_t fd, const char *addr)
{
	accept_common(ud, fd, addr, 1);
}

static void gc_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	addrlimit_gc(srv->addrlimit);
	if (srv->ratelimit != NULL)
		ratelimit_gc(srv->ratelimit);
	/* Hibernated parsers and drained buffers leave free pages inside
	 * the heap; hand them back so that idle sessions cost what they
	 * hold, not what they once held. */
	malloc_trim(0);
}

/* Writes the traffic counted since the last flush to the store. */
static void flush_traffic(struct server *srv)
{
	if (traffic_flush(srv->traffic, srv->store, clock_wall_s()) !=
	    STORE_OK)
		log_error("traffic counts: %s (kept for the next try)",
		    store_errmsg(srv->store));
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	flush_traffic(arg);
}

/* The gauges of /metrics: counts only, never who. */
static void gauges_cb(void *ud, struct metrics_gauges *g)
{
	struct server *srv = ud;
	int64_t offline, held;

	for (struct session *s = srv->sessions; s != NULL; s = s->all_next) {
		if (s->authed)
			g->sessions_auth++;
		else
			g->sessions_unauth++;
		g->output_queue_bytes += (int64_t)conn_outq(s->conn);
	}
	if (store_queue_counts(srv->store, &offline, &held) == STORE_OK) {
		g->offline_messages = offline;
		g->held_messages = held;
	} else {
		log_error("metrics: %s", store_errmsg(srv->store));
		g->offline_messages = g->held_messages = -1;
	}
	g->uploads_scanning = srv->upload != NULL ?
	    (int64_t)upload_scanning(srv->upload) : 0;
	g->traffic_pending = (int64_t)traffic_pending(srv->traffic);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	event_base_loopexit(srv->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct timeval tv = { SHUTDOWN_GRACE_S, 0 };
	struct session *s, *next;

	if (srv->stopping) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->stopping = 1;
	log_info("shutting down (signal %d), %zu connections", (int)sig,
	    srv->nsessions);
	for (size_t i = 0; i < srv->nlisteners; i++) {
		listener_free(srv->listeners[i]);
		srv->listeners[i] = NULL;
	}
	srv->nlisteners = 0;
	http_server_stop_listening(srv->http);
	for (s = srv->sessions; s != NULL; s = next) {
		next = s->all_next;
		session_stream_error(s, SE_SYSTEM_SHUTDOWN,
		    "the server is shutting down");
	}
	/* Exit as soon as every connection is gone, or after the grace. */
	evtimer_add(srv->ev_stop, &tv);
}

int server_init(struct server *srv, const struct config *cfg, char *err,
    size_t errlen)
{
	pid_t holder;

	memset(srv, 0, sizeof(*srv));
	srv->lock_fd = -1;
	srv->cfg = cfg;
	srv->xml_limits.stanza_max = cfg->max_stanza_size;
	srv->xml_limits.header_max = cfg->max_header_size;
	srv->xml_limits.depth_max = cfg->max_depth;
	srv->xml_limits.attrs_max = cfg->max_attributes;

	if (mkdir_p(cfg->data_dir, 0700, err, errlen) != 0)
		return -1;
	/* One parleyd per data directory, and none while it is restored. */
	srv->lock_fd = datalock_take(cfg->data_dir, 1, &holder, err, errlen);
	if (srv->lock_fd < 0)
		return -1;
	if (cfg->cert_is_generated) {
		char dir[4096];
		const char *slash = strrchr(cfg->cert, '/');

		if (slash != NULL && (size_t)(slash - cfg->cert) < sizeof(dir)) {
			memcpy(dir, cfg->cert, (size_t)(slash - cfg->cert));
			dir[slash - cfg->cert] = '\0';
			if (dir[0] && mkdir_p(dir, 0700, err, errlen) != 0)
				return -1;
		}
		if (tls_ensure_selfsigned(cfg->cert, cfg->key, cfg->domain,
		    err, errlen) != 0)
			return -1;
	}
	srv->tls = tls_ctx_new(cfg->cert, cfg->key, cfg->tls_min_version,
	    cfg->ciphers, err, errlen);
	if (srv->tls == NULL)
		return -1;
	if ((srv->store = store_open(cfg->database, err, errlen)) == NULL)
		return -1;
	if ((srv->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	srv->router = router_new(srv);
	srv->audit = audit_svc_new(srv);
	srv->addrlimit = addrlimit_new(cfg->max_unauth_per_address,
	    cfg->connect_rate);
	srv->authfail = authfail_new(cfg->backoff_base_ms, cfg->backoff_max_ms);
	if (cfg->rate_limits)
		srv->reglimit = reglimit_new(cfg->reg_accounts_per_hour,
		    cfg->reg_refused_per_hour);
	if (cfg->rate_limits) {
		struct rl_params rp = {
			.rate = { cfg->message_rate, cfg->presence_rate,
			    cfg->iq_rate, cfg->byte_rate },
			.burst = { cfg->message_burst, cfg->presence_burst,
			    cfg->iq_burst, cfg->byte_burst },
			.new_rcpt_per_hour = cfg->new_recipients_per_hour,
		};

		srv->ratelimit = ratelimit_new(&rp, NULL);
	} else {
		log_warn("[limits] rate_limits = off: accounts are not rate "
		    "limited (benchmarks only)");
	}
	srv->policy = policy_new(srv);

	for (size_t i = 0; i < cfg->listen.n; i++) {
		struct listener *l = listener_new(srv->base, cfg->listen.addr[i],
		    accept_starttls, srv, err, errlen);
		if (l == NULL)
			return -1;
		srv->listeners[srv->nlisteners++] = l;
		log_info("listening on %s (STARTTLS)", cfg->listen.addr[i]);
	}
	for (size_t i = 0; i < cfg->tls_listen.n; i++) {
		struct listener *l = listener_new(srv->base,
		    cfg->tls_listen.addr[i], accept_tls, srv, err, errlen);
		if (l == NULL)
			return -1;
		srv->listeners[srv->nlisteners++] = l;
		log_info("listening on %s (direct TLS)", cfg->tls_listen.addr[i]);
	}
	if (srv->nlisteners == 0) {
		snprintf(err, errlen, "no listener configured ([c2s] listen "
		    "and tls_listen are both empty)");
		return -1;
	}
	/* HTTPS (file uploads): the same certificate and TLS settings, in
	 * a context of its own (its ALPN is http/1.1). */
	if (cfg->http_listen.n > 0) {
		srv->http_tls = tls_ctx_new(cfg->cert, cfg->key,
		    cfg->tls_min_version, cfg->ciphers, err, errlen);
		if (srv->http_tls == NULL)
			return -1;
		srv->http = http_server_new(srv->base, cfg, srv->http_tls, err,
		    errlen);
		if (srv->http == NULL)
			return -1;
		srv->upload = upload_svc_new(srv, srv->http, err, errlen);
		if (srv->upload == NULL)
			return -1;
		if (cfg->metrics_enabled)
			srv->metrics_page = metrics_page_new(srv->http, cfg,
			    gauges_cb, srv);
	}
	srv->traffic = traffic_new();
	srv->ev_flush = event_new(srv->base, -1, EV_PERSIST, flush_cb, srv);
	{
		struct timeval tv = { (time_t)cfg->metrics_flush_interval, 0 };
		event_add(srv->ev_flush, &tv);
	}
	srv->ev_term = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
	srv->ev_int = evsignal_new(srv->base, SIGINT, signal_cb, srv);
	evsignal_add(srv->ev_term, NULL);
	evsignal_add(srv->ev_int, NULL);
	srv->ev_gc = event_new(srv->base, -1, EV_PERSIST, gc_cb, srv);
	{
		struct timeval tv = { GC_INTERVAL_S, 0 };
		event_add(srv->ev_gc, &tv);
	}
	srv->ev_stop = evtimer_new(srv->base, stop_cb, srv);
	/* Archive retention sweep; disclosure of policy changes. */
	im_archive_start(srv);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void check_done(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (srv->stopping && srv->nsessions == 0)
		event_base_loopexit(srv->base, NULL);
}

int server_run(struct server *srv)
{
	struct event *poll = event_new(srv->base, -1, EV_PERSIST, check_done,
	    srv);
	struct timeval tv = { 0, 50000 };

	/* While stopping, leave as soon as the last goodbye is out. */
	event_add(poll, &tv);
	log_info("parleyd serving %s", srv->cfg->domain);
	event_base_dispatch(srv->base);
	event_free(poll);
	/* What was counted since the last flush is not lost. */
	flush_traffic(srv);
	log_info("stopped");
	return 0;
}

void server_free(struct server *srv)
{
	for (size_t i = 0; i < srv->nlisteners; i++)
		listener_free(srv->listeners[i]);
	if (srv->ev_term)
		event_free(srv->ev_term);
	if (srv->ev_int)
		event_free(srv->ev_int);
	if (srv->ev_gc)
		event_free(srv->ev_gc);
	if (srv->ev_stop)
		event_free(srv->ev_stop);
	if (srv->ev_flush)
		event_free(srv->ev_flush);
	im_archive_stop(srv);
	/* HTTP first: its requests' cleanup uses the upload service. */
	http_server_free(srv->http);
	upload_svc_free(srv->upload);
	metrics_page_free(srv->metrics_page);
	traffic_free(srv->traffic);
	SSL_CTX_free(srv->http_tls);
	authfail_free(srv->authfail);
	reglimit_free(srv->reglimit);
	policy_free(srv->policy);
	ratelimit_free(srv->ratelimit);
	addrlimit_free(srv->addrlimit);
	router_free(srv->router);
	/* Before the store: it writes the counts still in memory. */
	audit_svc_free(srv->audit);
	if (srv->base)
		event_base_free(srv->base);
	if (srv->store)
		store_close(srv->store);
	SSL_CTX_free(srv->tls);
	if (srv->lock_fd >= 0)
		close(srv->lock_fd);
}

void server_audit(struct server *srv, const char *kind, const char *account,
    const char *addr, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (store_audit_add(srv->store, clock_wall_s(), kind, account, addr,
	    fmt != NULL ? detail : NULL) != STORE_OK)
		log_error("audit %s: %s", kind, store_errmsg(srv->store));
}
