/* conn.c - see conn.h.
 *
 * Sockets are driven with plain libevent events and OpenSSL directly, not
 * with bufferevents: the TLS bufferevent kept two evbuffers and its own
 * state per connection and turned the write event on and off for every
 * burst (two epoll_ctl calls each time).  Here reading decrypts into one
 * buffer shared by all connections and hands the bytes straight to the
 * owner; output is queued per connection only until the end of the loop
 * turn and written with one SSL_write, and a write event exists in epoll
 * only while the kernel refuses bytes.  An idle connection holds its
 * struct, two events and the SSL object: nothing else.
 */
#include "net/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <openssl/err.h>

#include "admin/metrics.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "net/tls.h"

/* Bytes read from one connection per callback before others get a turn;
 * the xml layer bounds what a stanza may hold, this bounds a burst. */
#define CONN_READ_BUDGET	(64 * 1024)
/* Seconds a connection may go without the kernel taking any of its queued
 * output; also how long a closing connection may take to drain. */
#define CONN_WRITE_TIMEOUT_S	5
/* One TLS record's plaintext, the most one SSL_read returns. */
#define CONN_RBUF		(16 * 1024)

struct conn {
	struct event_base	*base;
	evutil_socket_t		 fd;
	SSL			*ssl;
	struct event		*rev;		/* persistent read */
	struct event		*wev;		/* added only when blocked */
	const struct conn_ops	*ops;
	void			*ud;
	size_t			 max_outq;
	struct buf		 out;		/* queued output, freed empty */
	size_t			 out_off;	/* bytes of out already sent */
	SSL_CTX			*starttls_ctx;	/* upgrade after the flush */
	const char		*why;		/* close reason */
	struct conn		*dirty_prev, *dirty_next;
	unsigned		 closing:1;	/* no more reads or writes */
	unsigned		 finalizing:1;	/* on_close scheduled */
	unsigned		 paused:1;
	unsigned		 handshaking:1;	/* SSL_accept not done */
	unsigned		 dirty:1;	/* on the flush list */
	unsigned		 read_wants_write:1;
	unsigned		 tls_failed:1;	/* no close_notify after this */
};

/*
 * Connections with output queued this turn.  parleyd runs one event loop
 * in one thread, so the list and the read buffer are process-wide.
 */
static struct {
	struct event	*ev;
	struct conn	*head;
} flusher;
static char rbuf[CONN_RBUF];

static void read_cb(evutil_socket_t fd, short what, void *arg);
static void write_cb(evutil_socket_t fd, short what, void *arg);
static void flush(struct conn *c);

static void dirty_unlink(struct conn *c)
{
	if (!c->dirty)
		return;
	if (c->dirty_prev != NULL)
		c->dirty_prev->dirty_next = c->dirty_next;
	else
		flusher.head = c->dirty_next;
	if (c->dirty_next != NULL)
		c->dirty_next->dirty_prev = c->dirty_prev;
	c->dirty_prev = c->dirty_next = NULL;
	c->dirty = 0;
}

static void flush_all_cb(evutil_socket_t fd, short what, void *arg)
{
	while (flusher.head != NULL) {
		struct conn *c = flusher.head;

		dirty_unlink(c);
		flush(c);
	}
}

/* Everything queued during this loop turn leaves in one write per
 * connection, after the turn's other callbacks have run. */
static void mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	if (flusher.ev == NULL)
		flusher.ev = event_new(c->base, -1, 0, flush_all_cb, NULL);
	if (flusher.head == NULL)
		event_active(flusher.ev, EV_TIMEOUT, 1);
	c->dirty = 1;
	c->dirty_prev = NULL;
	c->dirty_next = flusher.head;
	if (flusher.head != NULL)
		flusher.head->dirty_prev = c;
	flusher.head = c;
}

static void out_free(struct conn *c)
{
	buf_free(&c->out);
	c->out_off = 0;
}

static size_t out_len(const struct conn *c)
{
	return c->out.len - c->out_off;
}

static void finalize_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->ops->on_close(c->ud, c->why ? c->why : "closed");
	dirty_unlink(c);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->ssl != NULL) {
		/* A polite close_notify, never waited for. */
		if (!c->tls_failed && !c->handshaking)
			(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	evutil_closesocket(c->fd);
	out_free(c);
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
	dirty_unlink(c);
	if (c->rev != NULL)
		event_del(c->rev);
	if (c->wev != NULL)
		event_del(c->wev);
	if (event_base_once(c->base, -1, EV_TIMEOUT, finalize_cb, c,
	    &now) != 0)
		log_error("conn: cannot schedule a close");
}

/* The reason an SSL call failed, for the close log line. */
static const char *tls_why(struct conn *c, int ret, const char *eof_why)
{
	static char msg[160];
	int err = SSL_get_error(c->ssl, ret);
	unsigned long e;

	if (err == SSL_ERROR_ZERO_RETURN)
		return "closed by peer";
	c->tls_failed = 1;
	e = ERR_get_error();
	ERR_clear_error();
	if (e != 0) {
		ERR_error_string_n(e, msg, sizeof(msg));
		return msg;
	}
	return eof_why;
}

static void want_write(struct conn *c)
{
	struct timeval tv = { CONN_WRITE_TIMEOUT_S, 0 };

	event_add(c->wev, &tv);
}

static void handshake(struct conn *c)
{
	int r = SSL_accept(c->ssl);

	if (r == 1) {
		c->handshaking = 0;
		event_del(c->wev);
		c->ops->on_tls(c->ud);
		if (c->closing)
			return;
		/* Output the owner queued meanwhile, and application data
		 * that came in the same flight as the client's Finished. */
		if (out_len(c) > 0)
			mark_dirty(c);
		if (!c->paused)
			event_active(c->rev, EV_READ, 1);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		event_del(c->wev);
		return;
	case SSL_ERROR_WANT_WRITE:
		want_write(c);
		return;
	default:
		finalize(c, tls_why(c, r, "closed during TLS handshake"));
	}
}

static int start_tls(struct conn *c, SSL_CTX *ctx)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		log_error("TLS: SSL_new: %s", tls_last_error());
		return -1;
	}
	/* Queued output is written from the front as the kernel takes it. */
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	c->handshaking = 1;
	event_add(c->rev, NULL);
	handshake(c);
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
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE, write_cb, c);
	if (c->rev == NULL || c->wev == NULL) {
		finalize(c, "out of memory");
		return c;
	}
	event_add(c->rev, NULL);
	if (tls != NULL && start_tls(c, tls) != 0)
		finalize(c, "TLS set-up failed");
	return c;
}

/* Reads plaintext (before STARTTLS) into rbuf: >0 bytes, 0 for "nothing
 * now", -1 when the connection has ended (finalized). */
static ssize_t read_plain(struct conn *c)
{
	ssize_t n = recv(c->fd, rbuf, sizeof(rbuf), 0);

	if (n > 0)
		return n;
	if (n == 0) {
		finalize(c, "closed by peer");
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	finalize(c, "connection error");
	return -1;
}

static ssize_t read_tls(struct conn *c)
{
	int n = SSL_read(c->ssl, rbuf, sizeof(rbuf));

	if (n > 0)
		return n;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_WANT_WRITE:
		/* A post-handshake message needs an answer written first. */
		c->read_wants_write = 1;
		want_write(c);
		return 0;
	default:
		finalize(c, tls_why(c, n, "closed by peer"));
		return -1;
	}
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t budget = CONN_READ_BUDGET;

	if (c->handshaking) {
		handshake(c);
		return;
	}
	while (!c->closing && !c->paused && c->starttls_ctx == NULL) {
		ssize_t n = c->ssl ? read_tls(c) : read_plain(c);

		if (n <= 0)
			return;
		metrics.bytes_in += (uint64_t)n;
		c->ops->on_read(c->ud, rbuf, (size_t)n);
		/* epoll is level-triggered: when the last read did not fill
		 * the buffer the socket is most likely drained, and asking
		 * again would only cost a recv(2) that says EAGAIN.  Bytes
		 * OpenSSL holds already are the exception. */
		if (c->ssl != NULL ? !SSL_has_pending(c->ssl) :
		    (size_t)n < sizeof(rbuf))
			return;
		if ((size_t)n >= budget) {
			/* Fairness: continue on a later turn.  Bytes that
			 * OpenSSL already holds would not wake epoll. */
			if (!c->closing && !c->paused &&
			    c->starttls_ctx == NULL)
				event_active(c->rev, EV_READ, 1);
			return;
		}
		budget -= (size_t)n;
	}
}

/* Writes queued output until done or the kernel refuses more. */
static void flush(struct conn *c)
{
	while (out_len(c) > 0 && !c->finalizing) {
		const char *p = c->out.data + c->out_off;
		size_t len = out_len(c);
		ssize_t n;

		if (c->ssl != NULL) {
			int r;

			if (c->handshaking)
				return;		/* sent when TLS is up */
			r = SSL_write(c->ssl, p, len > INT32_MAX ?
			    INT32_MAX : (int)len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ) {
					want_write(c);
					return;
				}
				finalize(c, tls_why(c, r, "connection error"));
				return;
			}
			n = r;
		} else {
			n = send(c->fd, p, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR) {
					want_write(c);
					return;
				}
				finalize(c, "connection error");
				return;
			}
		}
		c->out_off += (size_t)n;
	}
	if (c->finalizing)
		return;
	/* Drained: an idle connection holds no output memory. */
	out_free(c);
	event_del(c->wev);
	if (c->starttls_ctx != NULL) {
		SSL_CTX *ctx = c->starttls_ctx;

		/* The <proceed/> is out; plaintext after it is refused by
		 * the handshake itself. */
		c->starttls_ctx = NULL;
		if (start_tls(c, ctx) != 0)
			finalize(c, "TLS set-up failed");
		return;
	}
	if (c->closing)
		finalize(c, NULL);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (what & EV_TIMEOUT) {
		finalize(c, "write timeout");
		return;
	}
	if (c->handshaking) {
		handshake(c);
		return;
	}
	if (c->read_wants_write) {
		c->read_wants_write = 0;
		read_cb(fd, EV_READ, c);
		if (c->finalizing)
			return;
	}
	flush(c);
}

int conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->closing)
		return -1;
	if (out_len(c) + len > c->max_outq) {
		/* A reader this slow would hold unbounded memory. */
		finalize(c, "output queue limit reached (peer too slow)");
		return -1;
	}
	if (c->out_off > 0 && c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	buf_append(&c->out, data, len);
	metrics.bytes_out += len;
	mark_dirty(c);
	return 0;
}

void conn_starttls(struct conn *c, SSL_CTX *tls)
{
	if (c->closing)
		return;
	c->starttls_ctx = tls;
	/* Reading resumes inside TLS; flush() starts it once the <proceed/>
	 * has left.  Until then the socket is not watched, so that plaintext
	 * sent meanwhile waits for the handshake, which refuses it. */
	event_del(c->rev);
	mark_dirty(c);
}

void conn_close(struct conn *c, const char *why)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->why = why;
	event_del(c->rev);
	if (out_len(c) == 0)
		finalize(c, NULL);
	/* else the flush finalizes once drained, or the write timeout */
}

void conn_pause(struct conn *c, int paused)
{
	c->paused = paused ? 1 : 0;
	if (c->closing || c->starttls_ctx != NULL)
		return;
	if (paused) {
		event_del(c->rev);
	} else {
		event_add(c->rev, NULL);
		/* Bytes OpenSSL already decrypted would not wake epoll. */
		if (c->ssl != NULL && !c->handshaking && SSL_has_pending(c->ssl))
			event_active(c->rev, EV_READ, 1);
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
	return out_len(c);
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
