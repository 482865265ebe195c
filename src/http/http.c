/* http.c - see http.h. */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/log.h"
#include "http/tlsrelay.h"
#include "net/listener.h"

#define MAX_ROUTES	8
/* libmicrohttpd hangs up on a request line it cannot parse at all; the
 * client is told why all the same. */
#define SILENT_400	"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\n" \
	"\r\nbad request\n"

struct relay_slot {
	struct tlsrelay		*t;
	struct relay_slot	*next, *prev;
};

struct http_server {
	struct event_base	*base;
	SSL_CTX			*tls;
	const struct config	*cfg;
	struct MHD_Daemon	*mhd;
	struct event		*ev_mhd;	/* MHD's epoll fd readable */
	struct event		*ev_timer;	/* MHD's next deadline */
	struct event		*ev_kick;	/* run MHD from the loop */
	struct listener		*listeners[CONFIG_MAX_LISTEN];
	size_t			 nlisteners;
	struct http_route	 routes[MAX_ROUTES];
	size_t			 nroutes;
	struct relay_slot	*relays;	/* live connections */
	unsigned		 nrelays;
	struct http_req		*waiting;	/* requests made to wait */
};

struct http_req {
	struct http_server	*h;
	struct MHD_Connection	*c;
	const struct http_route	*route;
	enum http_method	 method;
	char			*path;
	char			 peer[INET6_ADDRSTRLEN];
	void			*data;
	struct MHD_Response	*reply;		/* given, not yet queued */
	unsigned		 status;
	unsigned		 begun:1;	/* begin() was called */
	unsigned		 ended:1;	/* end() was called */
	unsigned		 waiting:1;	/* http_req_wait() */
	unsigned		 suspended:1;
	unsigned		 loopback:1;	/* the client is on this host */
	struct http_req		*wnext, *wprev;	/* h->waiting */
};

/* ---- running libmicrohttpd on our loop ---------------------------------- */

static void run_mhd(struct http_server *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->mhd);
	/* MHD keeps connections with work pending ready without any new
	 * epoll event: its timeout says when to look again (0: now). */
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		struct timeval tv = {
			(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000
		};

		evtimer_add(h->ev_timer, &tv);
	} else {
		evtimer_del(h->ev_timer);
	}
}

static void mhd_cb(evutil_socket_t fd, short what, void *arg)
{
	run_mhd(arg);
}

/* Work done outside MHD (a new connection, a resumed request) is picked
 * up from the loop, never from inside an MHD callback. */
static void kick(struct http_server *h)
{
	event_active(h->ev_kick, EV_TIMEOUT, 0);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256], esc[300];
	va_list cp;

	va_copy(cp, ap);
	vsnprintf(msg, sizeof(msg), fmt, cp);
	va_end(cp);
	/* Mostly clients' mistakes, which are answered with 4xx anyway;
	 * a flood of them must not flood the log. */
	log_debug("https: %s", log_escape(esc, sizeof(esc), msg,
	    strcspn(msg, "\n")));
}

/* The path as sent: decoding is the route's business, so that what it
 * checks is what came over the wire. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/* ---- answers ------------------------------------------------------------ */

static void common_headers(struct MHD_Response *resp, int cors)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; sandbox");
	if (cors)
		MHD_add_response_header(resp, "Access-Control-Allow-Origin",
		    "*");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

static void set_reply(struct http_req *r, unsigned status,
    struct MHD_Response *resp)
{
	if (r->reply != NULL) {
		/* The first answer stands. */
		MHD_destroy_response(resp);
		return;
	}
	common_headers(resp, r->route == NULL || !r->route->no_cors);
	r->reply = resp;
	r->status = status;
	if (r->suspended) {
		r->suspended = 0;
		MHD_resume_connection(r->c);
		kick(r->h);
	}
}

void http_reply_text(struct http_req *r, unsigned status, const char *text)
{
	size_t n = strlen(text);
	char *body = xmalloc(n + 2);
	struct MHD_Response *resp;

	memcpy(body, text, n);
	body[n] = '\n';
	body[n + 1] = '\0';
	/* 204 and 304 carry no body at all (RFC 9110 15.3.5). */
	if (status == 204 || status == 304)
		n = 0;
	else
		n++;
	resp = MHD_create_response_from_buffer(n, body,
	    MHD_RESPMEM_MUST_FREE);
	if (n > 0)
		MHD_add_response_header(resp, "Content-Type",
		    "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	set_reply(r, status, resp);
}

void http_reply_data(struct http_req *r, unsigned status,
    const char *content_type, const void *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len,
	    (void *)data, MHD_RESPMEM_MUST_COPY);

	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	set_reply(r, status, resp);
}

void http_reply_file(struct http_req *r, int fd, uint64_t size,
    const char *content_type, const char *disposition)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);

	if (resp == NULL) {
		close(fd);
		http_reply_text(r, 500, "cannot send the file");
		return;
	}
	MHD_add_response_header(resp, "Content-Type", content_type);
	if (disposition != NULL)
		MHD_add_response_header(resp, "Content-Disposition",
		    disposition);
	MHD_add_response_header(resp, "Cache-Control", "private");
	set_reply(r, 200, resp);
}

void http_reply_header(struct http_req *r, const char *name,
    const char *value)
{
	if (r->reply != NULL)
		MHD_add_response_header(r->reply, name, value);
}

static enum MHD_Result queue_reply(struct http_req *r)
{
	enum MHD_Result rc = MHD_queue_response(r->c, r->status, r->reply);

	MHD_destroy_response(r->reply);
	r->reply = NULL;
	return rc;
}

/* ---- requests ----------------------------------------------------------- */

enum http_method http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

const char *http_req_peer(const struct http_req *r)
{
	return r->peer;
}

int http_req_peer_loopback(const struct http_req *r)
{
	return r->loopback;
}

const struct http_route *http_req_route(const struct http_req *r)
{
	return r->route;
}

void *http_req_data(const struct http_req *r)
{
	return r->data;
}

void http_req_set_data(struct http_req *r, void *data)
{
	r->data = data;
}

void http_req_wait(struct http_req *r)
{
	struct http_server *h = r->h;

	if (r->waiting)
		return;
	r->waiting = 1;
	r->wnext = h->waiting;
	if (h->waiting != NULL)
		h->waiting->wprev = r;
	h->waiting = r;
}

static void unwait(struct http_req *r)
{
	struct http_server *h = r->h;

	if (!r->waiting)
		return;
	if (r->wprev != NULL)
		r->wprev->wnext = r->wnext;
	else
		h->waiting = r->wnext;
	if (r->wnext != NULL)
		r->wnext->wprev = r->wprev;
	r->wnext = r->wprev = NULL;
	r->waiting = 0;
}

static enum http_method parse_method(const char *m)
{
	if (strcmp(m, "GET") == 0)
		return HTTP_GET;
	if (strcmp(m, "HEAD") == 0)
		return HTTP_HEAD;
	if (strcmp(m, "PUT") == 0)
		return HTTP_PUT;
	if (strcmp(m, "OPTIONS") == 0)
		return HTTP_OPTIONS;
	return HTTP_OTHER;
}

static const struct http_route *find_route(const struct http_server *h,
    const char *path)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strncmp(path, h->routes[i].prefix,
		    strlen(h->routes[i].prefix)) == 0)
			return &h->routes[i];
	return NULL;
}

static void allow_list(unsigned methods, char *out, size_t len)
{
	static const struct { unsigned m; const char *name; } names[] = {
		{ HTTP_GET, "GET" }, { HTTP_HEAD, "HEAD" },
		{ HTTP_PUT, "PUT" }, { HTTP_OPTIONS, "OPTIONS" },
	};
	size_t off = 0;

	out[0] = '\0';
	methods |= HTTP_OPTIONS;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((methods & names[i].m) && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s%s",
			    off ? ", " : "", names[i].name);
}

/* The request line and headers are in: route it, or answer here. */
static void begin(struct http_req *r)
{
	const char *cl = http_req_header(r, "Content-Length");
	const char *te = http_req_header(r, "Transfer-Encoding");
	int has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;
	char allow[64];

	r->route = find_route(r->h, r->path);
	if (r->route == NULL) {
		http_reply_text(r, 404, "not found");
		return;
	}
	allow_list(r->route->methods, allow, sizeof(allow));
	if (r->method == HTTP_OPTIONS) {
		/* CORS preflight: what browser clients may send. */
		http_reply_text(r, 204, "");
		http_reply_header(r, "Access-Control-Allow-Methods", allow);
		http_reply_header(r, "Access-Control-Allow-Headers",
		    "Content-Type");
		http_reply_header(r, "Access-Control-Max-Age", "86400");
		return;
	}
	if (!(r->route->methods & r->method)) {
		http_reply_text(r, 405, "method not allowed here");
		http_reply_header(r, "Allow", allow);
		return;
	}
	if (has_body && r->route->body == NULL) {
		http_reply_text(r, 413, "this request takes no body");
		return;
	}
	r->begun = 1;
	r->route->begin(r);
}

static struct http_req *req_new(struct http_server *h,
    struct MHD_Connection *c, const char *url, const char *method)
{
	struct http_req *r = xcalloc(1, sizeof(*r));
	const union MHD_ConnectionInfo *ci;

	r->h = h;
	r->c = c;
	r->method = parse_method(method);
	r->path = xstrdup(url);
	/* The TLS client's own address: relay_ready() gave it to MHD with
	 * the socket pair, which has none of its own. */
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET) {
			const struct in_addr *a =
			    &((const struct sockaddr_in *)sa)->sin_addr;

			inet_ntop(AF_INET, a, r->peer, sizeof(r->peer));
			r->loopback = (ntohl(a->s_addr) >> 24) == 127;
		} else if (sa->sa_family == AF_INET6) {
			const struct in6_addr *a =
			    &((const struct sockaddr_in6 *)sa)->sin6_addr;

			inet_ntop(AF_INET6, a, r->peer, sizeof(r->peer));
			r->loopback = IN6_IS_ADDR_LOOPBACK(a) ||
			    (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
		}
	}
	if (r->peer[0] == '\0')
		strcpy(r->peer, "unknown");
	return r;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *h = cls;
	struct http_req *r = *con_cls;

	if (r == NULL) {
		r = req_new(h, c, url, method);
		*con_cls = r;
		begin(r);
		return r->reply != NULL ? queue_reply(r) : MHD_YES;
	}
	if (*upload_data_size > 0) {
		/* After an answer the rest of the body is dropped. */
		if (r->reply == NULL && r->begun)
			r->route->body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->reply == NULL && r->begun && !r->ended) {
		r->ended = 1;
		if (r->route->end != NULL)
			r->route->end(r);
		if (r->reply == NULL && r->waiting) {
			r->suspended = 1;
			MHD_suspend_connection(c);
			return MHD_YES;
		}
	}
	if (r->reply == NULL) {
		if (r->waiting && !r->suspended) {
			/* Resumed without an answer: should not happen. */
			r->suspended = 1;
			MHD_suspend_connection(c);
			return MHD_YES;
		}
		http_reply_text(r, 500, "no answer");
	}
	unwait(r);
	return queue_reply(r);
}

static void completed_cb(void *cls, struct MHD_Connection *c,
    void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	if (r == NULL)
		return;
	*con_cls = NULL;
	unwait(r);
	if (r->begun && r->route->done != NULL)
		r->route->done(r);
	if (r->reply != NULL)
		MHD_destroy_response(r->reply);
	free(r->path);
	free(r);
}

/* ---- connections -------------------------------------------------------- */

static int relay_ready(void *ud, int fd, const struct sockaddr *peer,
    socklen_t len)
{
	struct http_server *h = ud;

	/* MHD closes fd itself when it refuses it (per-address limit). */
	if (MHD_add_connection(h->mhd, fd, peer, len) != MHD_YES)
		return -1;
	kick(h);
	return 0;
}

static void relay_gone(void *ud, struct tlsrelay *t)
{
	struct http_server *h = ud;

	for (struct relay_slot *s = h->relays; s != NULL; s = s->next) {
		if (s->t != t)
			continue;
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			h->relays = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		free(s);
		h->nrelays--;
		return;
	}
}

static void accept_cb(void *ud, evutil_socket_t fd, const char *addr)
{
	struct http_server *h = ud;
	struct relay_slot *s;
	struct tlsrelay *t;

	if (h->nrelays >= h->cfg->http_max_connections) {
		evutil_closesocket(fd);
		return;
	}
	t = tlsrelay_new(h->base, h->tls, fd, h->cfg->http_timeout,
	    SILENT_400, relay_ready, relay_gone, h);
	if (t == NULL)
		return;
	s = xcalloc(1, sizeof(*s));
	s->t = t;
	s->next = h->relays;
	if (h->relays != NULL)
		h->relays->prev = s;
	h->relays = s;
	h->nrelays++;
}

/* ---- the server --------------------------------------------------------- */

static int alpn_http(SSL *ssl, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg)
{
	static const unsigned char want[] = "\x08http/1.1";
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, want, sizeof(want) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

struct http_server *http_server_new(struct event_base *base,
    const struct config *cfg, SSL_CTX *tls, char *err, size_t errlen)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	const union MHD_DaemonInfo *di;

	h->base = base;
	h->cfg = cfg;
	h->tls = tls;
	SSL_CTX_set_alpn_select_cb(tls, alpn_http, NULL);
	/* With read-ahead, OpenSSL may hold a whole record the socket no
	 * longer signals; the relay stops and restarts reading (back
	 * pressure) and must find every byte there again. */
	SSL_CTX_set_read_ahead(tls, 0);
	h->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    access_cb, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(cfg->http_max_header_size + PARLEY_HTTP_IO_BUF),
	    MHD_OPTION_CONNECTION_LIMIT, cfg->http_max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->http_max_per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->http_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, h,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server "
		    "(libmicrohttpd)");
		free(h);
		return NULL;
	}
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL) {
		snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
		MHD_stop_daemon(h->mhd);
		free(h);
		return NULL;
	}
	h->ev_mhd = event_new(base, di->epoll_fd, EV_READ | EV_PERSIST,
	    mhd_cb, h);
	h->ev_timer = evtimer_new(base, mhd_cb, h);
	h->ev_kick = evtimer_new(base, mhd_cb, h);
	event_add(h->ev_mhd, NULL);
	for (size_t i = 0; i < cfg->http_listen.n; i++) {
		struct listener *l = listener_new(base,
		    cfg->http_listen.addr[i], accept_cb, h, err, errlen);

		if (l == NULL) {
			http_server_free(h);
			return NULL;
		}
		h->listeners[h->nlisteners++] = l;
		log_info("listening on %s (HTTPS)", cfg->http_listen.addr[i]);
	}
	return h;
}

void http_server_route(struct http_server *h, const struct http_route *r)
{
	if (h->nroutes == MAX_ROUTES)
		fatal("http: more than %d routes", MAX_ROUTES);
	h->routes[h->nroutes++] = *r;
}

int http_server_port(const struct http_server *h, size_t i)
{
	return i < h->nlisteners ? listener_port(h->listeners[i]) : -1;
}

void http_server_stop_listening(struct http_server *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nlisteners; i++)
		listener_free(h->listeners[i]);
	h->nlisteners = 0;
}

void http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	http_server_stop_listening(h);
	/* MHD must not be stopped with suspended connections: whatever a
	 * route left waiting is resumed with an answer first. */
	while (h->waiting != NULL) {
		struct http_req *r = h->waiting;

		unwait(r);
		if (r->reply == NULL)
			http_reply_text(r, 503, "the server is shutting down");
	}
	if (h->mhd != NULL) {
		MHD_run(h->mhd);
		MHD_stop_daemon(h->mhd);
	}
	while (h->relays != NULL) {
		struct relay_slot *s = h->relays;

		h->relays = s->next;
		tlsrelay_free(s->t);
		free(s);
	}
	if (h->ev_mhd != NULL)
		event_free(h->ev_mhd);
	if (h->ev_timer != NULL)
		event_free(h->ev_timer);
	if (h->ev_kick != NULL)
		event_free(h->ev_kick);
	free(h);
}
