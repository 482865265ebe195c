/*
 * http.h - the HTTPS listener: parleyd's own TLS (an SSL_CTX from
 * net/tls.c, same certificate and settings as the XMPP ports), HTTP/1.1
 * parsed by libmicrohttpd, requests sent to routes by path prefix, all
 * on the server's event loop.  Uploads and /metrics (http/metrics.h);
 * WebSocket is meant to be another route.
 *
 * Why libmicrohttpd and not libevent's evhttp: evhttp in libevent 2.1
 * (Debian 12's) reads a request's whole body into memory before any
 * server callback sees the request (the hook that would let a server
 * stream it, evhttp_set_newreqcb, arrived in 2.2).  libmicrohttpd hands
 * the body over piece by piece, so an upload goes to disk as it arrives
 * and memory does not grow with the file.  It speaks TLS only through
 * GnuTLS, so TLS stays ours: each connection's TLS is terminated by an
 * OpenSSL bufferevent (http/tlsrelay.c) and the plaintext reaches
 * libmicrohttpd over a socket pair.  libmicrohttpd runs in its "external
 * epoll" mode: its one epoll descriptor is an event on our loop, and it
 * never starts a thread.
 *
 * Limits (limits.h, [http] in docs/CONFIG.md): connections overall and
 * per address, idle time, bytes of request line and headers (431 past
 * them).  Bodies are the route's business: a route without a body
 * callback refuses any body with 413 before reading it.
 *
 * Every answer carries X-Content-Type-Options: nosniff, a sandboxing
 * Content-Security-Policy and, unless its route says no_cors,
 * Access-Control-Allow-Origin: * (browser clients upload with XHR); no
 * Server header names the software.
 * OPTIONS (CORS preflight) is answered here for every route.
 */
#ifndef PARLEY_HTTP_HTTP_H
#define PARLEY_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/config.h"

struct http_server;
struct http_req;

enum http_method {
	HTTP_GET = 1, HTTP_HEAD = 2, HTTP_PUT = 4, HTTP_OPTIONS = 8,
	HTTP_OTHER = 16,
};

struct http_route {
	const char	*prefix;	/* the path starts with it */
	unsigned	 methods;	/* HTTP_* answered; others get 405 */
	/*
	 * The request line and headers are in.  Answer now with
	 * http_reply_*() (the body, if any, is then discarded and the
	 * connection closed), or return without answering to take the
	 * body: body() for each piece as it arrives, then end().
	 */
	void	(*begin)(struct http_req *r);
	/* The next piece of the body.  An answer given here is sent once
	 * the body is in; later pieces are dropped. */
	void	(*body)(struct http_req *r, const char *data, size_t len);
	/* The body is in (or there was none).  Answer now, or call
	 * http_req_wait() and answer later from any loop callback. */
	void	(*end)(struct http_req *r);
	/* The request is over, answered or abandoned (the client went
	 * away): free what the route kept.  Once per begin(). */
	void	(*done)(struct http_req *r);
	void	*ud;
	/* Not for scripts of other web origins: answers carry no
	 * Access-Control-Allow-Origin, so a page in a browser on this host
	 * cannot read them (the metrics). */
	unsigned no_cors:1;
};

/* Starts the listeners of cfg->http_listen with tls, a context made for
 * HTTP alone (its ALPN and read-ahead are set here; the caller frees it
 * after http_server_free).  NULL with a one-line reason in err. */
struct http_server *http_server_new(struct event_base *base,
	    const struct config *cfg, SSL_CTX *tls, char *err, size_t errlen);
/* Adds a route (the table is searched in order; at most 8). */
void	 http_server_route(struct http_server *h, const struct http_route *r);
/* The port the i-th listener is bound to. */
int	 http_server_port(const struct http_server *h, size_t i);
/* Stops accepting (shutdown starts); requests in progress go on. */
void	 http_server_stop_listening(struct http_server *h);
/* Closes every connection.  Routes must have answered requests they
 * made wait, or they are dropped without an answer. */
void	 http_server_free(struct http_server *h);

/* ---- one request ------------------------------------------------------- */

enum http_method http_req_method(const struct http_req *r);
/* The path exactly as sent (no percent-decoding, no query). */
const char *http_req_path(const struct http_req *r);
/* A request header, or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* The client's address, for logs. */
const char *http_req_peer(const struct http_req *r);
/* 1 when the client connected from this host (127.0.0.0/8, ::1 or
 * ::ffff:127.0.0.0/104): the TLS client's address, not the socket pair's. */
int	 http_req_peer_loopback(const struct http_req *r);
const struct http_route *http_req_route(const struct http_req *r);
void	*http_req_data(const struct http_req *r);
void	 http_req_set_data(struct http_req *r, void *data);
/* From end(): the answer comes later (the connection waits). */
void	 http_req_wait(struct http_req *r);

/* Answers with text (text/plain, UTF-8) and status. */
void	 http_reply_text(struct http_req *r, unsigned status,
	    const char *text);
/* Answers with len bytes of data (copied) of content_type, not cached. */
void	 http_reply_data(struct http_req *r, unsigned status,
	    const char *content_type, const void *data, size_t len);
/* Answers 200 with size bytes of fd (taken over and closed). */
void	 http_reply_file(struct http_req *r, int fd, uint64_t size,
	    const char *content_type, const char *disposition);
/* Adds a header to the answer just given with http_reply_*(). */
void	 http_reply_header(struct http_req *r, const char *name,
	    const char *value);

#endif
