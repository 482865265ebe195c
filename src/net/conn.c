/* conn.c - see conn.h. */
#include "net/conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/tls.h"

/* Bytes read from the socket per callback round before others get a turn;
 * the xml layer bounds what a stanza may hold, this bounds a burst. */
#define CONN_READ_HIGHWATER	(64 * 1024)
/* Seconds a closing connection may take to drain its output. */
#define CONN_CLOSE_FLUSH_S	5

struct conn {
	struct event_base	*base;
	struct bufferevent	*bev;
	evutil_socket_t		 fd;
	SSL			*ssl;		/* owned by bev once set */
	SSL_CTX			*starttls_ctx;	/* pending upgrade */
	const struct conn_ops	*ops;
	void			*ud;
	size_t			 max_outq;
	const char		*why;		/* close reason */
	unsigned		 closing:1;	/* no more reads or writes */
	unsigned		 finalizing:1;	/* on_close scheduled */
	unsigned		 paused:1;
	unsigned		 upgraded:1;	/* bev owns the fd */
};

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

static void finalize_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->ops->on_close(c->ud, c->why ? c->why : "closed");
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (!c->upgraded)
		evutil_closesocket(c->fd);
	free(c);
}

/* Never free inside a callback: the owner hears of the close on a fresh
 * loop turn, when no stack frame above still uses the connection. */
static void finalize(struct conn *c, const char *why)
{
	static const struct timeval now = { 0, 0 };

	if (c->finalizing)
		return;
	c->finalizing = 1;
	c->closing = 1;
	if (c->why == NULL)
		c->why = why;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_base_once(c->base, -1, EV_TIMEOUT, finalize_cb, c, &now);
}

static void setup_bev(struct conn *c)
{
	struct timeval tv = { CONN_CLOSE_FLUSH_S, 0 };

	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONN_READ_HIGHWATER);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	bufferevent_enable(c->bev, c->paused ? EV_WRITE : EV_READ | EV_WRITE);
}

static int start_tls(struct conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL) {
		log_error("TLS: SSL_new: %s", tls_last_error());
		return -1;
	}
	/* CLOSE_ON_FREE: the TLS bufferevent owns both SSL and socket. */
	c->bev = bufferevent_openssl_socket_new(c->base, c->fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	c->upgraded = 1;
	setup_bev(c);
	return 0;
}

struct conn *conn_new(struct event_base *base, evutil_socket_t fd,
    SSL_CTX *tls, const struct conn_ops *ops, void *ud, size_t max_outq)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int on = 1;

	c->base = base;
	c->fd = fd;
	c->ops = ops;
	c->ud = ud;
	c->max_outq = max_outq;
	evutil_make_socket_nonblocking(fd);
	/* Dead peers are found by XMPP pings; keepalive is a backstop for
	 * connections that never authenticate far enough to be pinged. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (tls != NULL) {
		if (start_tls(c, tls) != 0) {
			c->why = "TLS set-up failed";
			finalize(c, NULL);
		}
		return c;
	}
	c->bev = bufferevent_socket_new(base, fd, 0);
	if (c->bev == NULL) {
		finalize(c, "out of sockets");
		return c;
	}
	setup_bev(c);
	return c;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;

	while (!c->closing && !c->paused && c->starttls_ctx == NULL &&
	    evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		size_t n = v.iov_len;

		c->ops->on_read(c->ud, v.iov_base, n);
		if (c->bev != bev)	/* cannot happen: upgrades wait */
			return;
		evbuffer_drain(in, n);
	}
	/* Bytes that arrived in the same read as <starttls/> were sent in
	 * plaintext after the client asked for TLS: a classic injection
	 * (CVE-2011-0411 style).  Never carry them into the TLS session. */
	if (c->starttls_ctx != NULL && evbuffer_get_length(in) > 0 &&
	    !c->closing)
		finalize(c, "plaintext sent after STARTTLS");
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	SSL_CTX *ctx;

	if (c->closing) {
		finalize(c, NULL);
		return;
	}
	if (c->starttls_ctx == NULL)
		return;
	ctx = c->starttls_ctx;
	c->starttls_ctx = NULL;
	/* The plain bufferevent does not own the socket; freeing it leaves
	 * the fd to the TLS one. */
	bufferevent_free(c->bev);
	c->bev = NULL;
	if (start_tls(c, ctx) != 0)
		finalize(c, "TLS set-up failed");
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		if (!c->closing)
			c->ops->on_tls(c->ud);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		finalize(c, "write timeout");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		finalize(c, "closed by peer");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		static char msg[160];

		if (e != 0) {
			ERR_error_string_n(e, msg, sizeof(msg));
			finalize(c, msg);
		} else {
			finalize(c, "connection error");
		}
	}
}

int conn_write(struct conn *c, const void *data, size_t len)
{
	struct evbuffer *out;

	if (c->closing || c->bev == NULL)
		return -1;
	out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) + len > c->max_outq) {
		/* A reader this slow would hold unbounded memory. */
		finalize(c, "output queue limit reached (peer too slow)");
		return -1;
	}
	if (evbuffer_add(out, data, len) != 0)
		return -1;
	return 0;
}

void conn_starttls(struct conn *c, SSL_CTX *tls)
{
	if (c->closing)
		return;
	c->starttls_ctx = tls;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		write_cb(c->bev, c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->why = why;
	if (c->bev == NULL) {
		finalize(c, NULL);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		finalize(c, NULL);
	/* else write_cb finalizes once drained, or the write timeout does */
}

void conn_pause(struct conn *c, int paused)
{
	c->paused = paused ? 1 : 0;
	if (c->closing || c->bev == NULL || c->starttls_ctx != NULL)
		return;
	if (paused) {
		bufferevent_disable(c->bev, EV_READ);
	} else {
		bufferevent_enable(c->bev, EV_READ);
		/* Input that arrived while paused is still buffered. */
		if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			bufferevent_trigger(c->bev, EV_READ,
			    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	}
}

int conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL;
}

int conn_is_closing(const struct conn *c)
{
	return c->closing;
}

size_t conn_outq(const struct conn *c)
{
	return c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
}

const char *conn_tls_desc(const struct conn *c)
{
	static char desc[96];

	if (c->ssl == NULL)
		return "-";
	snprintf(desc, sizeof(desc), "%s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	return desc;
}
