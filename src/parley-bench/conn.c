/*
 * conn.c - one XMPP client connection, non-blocking, on a worker's event
 * base: TCP connect (from a chosen loopback source address), STARTTLS or
 * direct TLS (XEP-0368), SASL, resource binding, then the scenario.
 *
 * The socket is driven directly with OpenSSL rather than through
 * bufferevents: reads go into one buffer per thread and only an
 * incomplete stanza is copied into the connection, and writes are
 * batched per callback (conn_send only appends; the worker flushes every
 * dirty connection once when the callback ends), so that a window of
 * messages leaves in one TLS record and one syscall.  An idle session
 * holds no buffers at all (SSL_MODE_RELEASE_BUFFERS, freed in/out).
 *
 * Every step of a login has a deadline (--timeout); the worker checks
 * them, so no connection can hang the run.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

#define READ_CHUNK	16384
#define IN_MAX		(1u << 20)	/* an unfinished stanza past this is
					 * a broken server, not load */
#define OUT_KEEP	65536		/* output buffer kept between writes */
#define CLOSE_WAIT_MS	3000		/* for the server's </stream:stream> */

#define NS_TLS	"urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL	"urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND	"urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESS	"urn:ietf:params:xml:ns:xmpp-session"

static const char *const state_names[] = {
	"idle", "connecting", "waiting for STARTTLS", "starting TLS",
	"in the TLS handshake", "waiting for SASL mechanisms",
	"authenticating", "waiting for bind", "binding",
	"establishing the session", "ready", "closing",
};

static void rev_cb(evutil_socket_t fd, short what, void *arg);
static void wev_cb(evutil_socket_t fd, short what, void *arg);

static uint64_t now_ms(void)
{
	return now_ns() / 1000000u;
}

static void want_write(struct conn *c)
{
	if (!c->wev_on) {
		event_add(&c->wev, NULL);
		c->wev_on = 1;
	}
}

/* The OpenSSL error queue as one short string (and clears it). */
static const char *tls_err(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "%s", errno ? strerror(errno) :
		    "connection closed");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

void conn_prepare(struct conn *c, long idx, long user)
{
	c->idx = idx;
	c->user = user;
	c->state = CS_IDLE;
	c->fd = -1;
	c->avail = 0;
	c->roster_got = 0;
	c->inflight = 0;
	free(c->jid);
	c->jid = NULL;
}

/* Closes everything and tells the scenario. */
static void conn_finish(struct conn *c, int failed)
{
	struct worker *w = c->w;

	if (c->state == CS_IDLE)
		return;
	if (c->counted) {
		c->counted = 0;
		w->connecting--;
	}
	if (c->rev_on)
		event_del(&c->rev);
	if (c->wev_on)
		event_del(&c->wev);
	c->rev_on = c->wev_on = 0;
	if (c->ssl != NULL) {
		/* close_notify, best effort: never after a fatal error,
		 * which OpenSSL forbids. */
		if (!failed)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	buf_free(&c->out);
	c->out_off = 0;
	sasl_free(c->sasl);
	c->sasl = NULL;
	c->state = CS_IDLE;
	c->deadline_ms = 0;
	c->read_wants_write = c->write_wants_read = 0;
	atomic_fetch_sub_explicit(&w->st.live, 1, memory_order_relaxed);
	if (failed) {
		STAT_ADD(w, failed, 1);
		if (c->was_ready)
			STAT_ADD(w, dropped, 1);
	}
	if (w->ops->closed != NULL)
		w->ops->closed(c, failed);
}

void conn_abort(struct conn *c, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (c->state == CS_IDLE)
		return;
	if (fmt == NULL) {
		conn_finish(c, 0);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	worker_error(c->w, msg);
	conn_finish(c, 1);
}

static void send_header(struct conn *c)
{
	conn_sendf(c, "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' "
	    "xmlns:stream='http://etherx.jabber.org/streams' to='%s' "
	    "version='1.0'>", opt.domain);
}

void conn_start(struct conn *c)
{
	static _Atomic unsigned src_rr;
	struct worker *w = c->w;
	int fd, one = 1;

	c->gen++;
	c->t_start = now_ns();
	c->deadline_ms = c->t_start / 1000000u +
	    (uint64_t)(opt.timeout * 1000.0);
	c->was_ready = 0;
	c->counted = 1;
	w->connecting++;
	atomic_fetch_add_explicit(&w->st.live, 1, memory_order_relaxed);
	c->state = CS_CONNECTING;
	fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_abort(c, "socket: %s", strerror(errno));
		return;
	}
	c->fd = fd;
	/* Latency is measured per stanza: never wait to coalesce. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt.nsources > 0) {
		unsigned i = atomic_fetch_add(&src_rr, 1) %
		    (unsigned)opt.nsources;
		const struct sockaddr_storage *src = &opt.sources[i];

		/* Let connect() pick the port for the whole 4-tuple, so
		 * each source address has the full ephemeral range. */
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
#endif
		if (bind(fd, (const struct sockaddr *)src,
		    src->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
		    sizeof(struct sockaddr_in6)) < 0) {
			conn_abort(c, "bind to source address: %s",
			    strerror(errno));
			return;
		}
	}
	event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST, rev_cb, c);
	event_assign(&c->wev, w->base, fd, EV_WRITE, wev_cb, c);
	if (connect(fd, (const struct sockaddr *)&opt.addr, opt.addrlen) < 0 &&
	    errno != EINPROGRESS) {
		conn_abort(c, "connect to %s port %d: %s", opt.host, opt.port,
		    strerror(errno));
		return;
	}
	want_write(c);
}

void conn_send(struct conn *c, const char *p, size_t n)
{
	if (c->state == CS_IDLE)
		return;
	buf_append(&c->out, p, n);
	worker_mark_dirty(c->w, c);
}

void conn_sendf(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == CS_IDLE)
		return;
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	worker_mark_dirty(c->w, c);
}

size_t conn_backlog(const struct conn *c)
{
	return c->out.len - c->out_off;
}

int conn_flush(struct conn *c)
{
	char eb[160];

	if (c->state == CS_IDLE || c->state == CS_CONNECTING ||
	    c->state == CS_HANDSHAKE)
		return 0;
	while (c->out_off < c->out.len) {
		size_t left = c->out.len - c->out_off;

		if (c->ssl != NULL) {
			int r, e;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->out.data + c->out_off,
			    left > INT_MAX ? INT_MAX : (int)left);
			if (r > 0) {
				c->out_off += (size_t)r;
				continue;
			}
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_WRITE) {
				want_write(c);
				return 0;
			}
			if (e == SSL_ERROR_WANT_READ) {
				c->write_wants_read = 1;
				return 0;
			}
			if (c->state == CS_CLOSING) {
				conn_finish(c, 0);
				return -1;
			}
			conn_abort(c, "TLS write (while %s): %s",
			    state_names[c->state], tls_err(eb, sizeof(eb)));
			return -1;
		} else {
			ssize_t n = send(c->fd, c->out.data + c->out_off, left,
			    MSG_NOSIGNAL);

			if (n >= 0) {
				c->out_off += (size_t)n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				want_write(c);
				return 0;
			}
			conn_abort(c, "write (while %s): %s",
			    state_names[c->state], strerror(errno));
			return -1;
		}
	}
	c->out_off = 0;
	if (c->out.cap > OUT_KEEP)
		buf_free(&c->out);
	else
		buf_reset(&c->out);
	return 0;
}

void conn_close(struct conn *c)
{
	switch (c->state) {
	case CS_IDLE:
	case CS_CLOSING:
		return;
	case CS_CONNECTING:
	case CS_HANDSHAKE:
	case CS_STARTTLS:
		conn_finish(c, 0);
		return;
	default:
		conn_send(c, "</stream:stream>", 16);
		c->state = CS_CLOSING;
		c->deadline_ms = now_ms() + CLOSE_WAIT_MS;
		return;
	}
}

/* Appends attr='value' with a raw (still escaped) value, choosing a quote
 * that the value cannot contain. */
static void put_attr(struct buf *b, const char *name, const char *v,
	    size_t vl)
{
	char q = memchr(v, '\'', vl) ? '"' : '\'';

	buf_printf(b, " %s=%c", name, q);
	buf_append(b, v, vl);
	buf_putc(b, q);
}

static void iq_reply(struct conn *c, const struct xtag *root, int error)
{
	const char *v;
	size_t vl;

	if (c->state == CS_IDLE)
		return;
	buf_puts(&c->out, error ? "<iq type='error'" : "<iq type='result'");
	if (xtag_attr(root, "id", &v, &vl))
		put_attr(&c->out, "id", v, vl);
	if (xtag_attr(root, "from", &v, &vl))
		put_attr(&c->out, "to", v, vl);
	if (error)
		buf_puts(&c->out, "><error type='cancel'><service-unavailable "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
		    "</iq>");
	else
		buf_puts(&c->out, "/>");
	worker_mark_dirty(c->w, c);
}

void conn_iq_result(struct conn *c, const struct xtag *root)
{
	iq_reply(c, root, 0);
}

/* The defined condition inside an error element (first child element
 * other than <text/>), for the failure reason. */
static void error_cond(const char *p, size_t n, char *out, size_t cap)
{
	const char *cur = p, *end = p + n;
	struct xtag t;
	int depth = 0;

	snprintf(out, cap, "unknown");
	while (xtag_next(&cur, end, &t)) {
		if (t.kind == TAG_CLOSE) {
			depth--;
			continue;
		}
		if (depth >= 1 && !xtag_is(&t, "text") &&
		    !xtag_is(&t, "error")) {
			snprintf(out, cap, "%.*s", (int)t.name_len, t.name);
			return;
		}
		if (t.kind == TAG_OPEN)
			depth++;
	}
}

static void become_ready(struct conn *c)
{
	struct worker *w = c->w;

	c->state = CS_READY;
	c->deadline_ms = 0;
	if (c->counted) {
		c->counted = 0;
		w->connecting--;
	}
	/* A later failure then counts as a dropped session. */
	c->was_ready = 1;
	sasl_free(c->sasl);
	c->sasl = NULL;
	STAT_ADD(w, up, 1);
	if (w->ops->ready != NULL)
		w->ops->ready(c);
}

static void on_features(struct conn *c, const char *p, size_t n)
{
	struct xtag t;
	const char *txt;
	size_t tl;
	char user[256];

	switch (c->state) {
	case CS_FEAT_TLS:
		if (!el_find(p, n, "starttls", &t, &txt, &tl)) {
			conn_abort(c, "server offers no STARTTLS (use "
			    "--direct-tls for a direct TLS port)");
			return;
		}
		conn_sendf(c, "<starttls xmlns='%s'/>", NS_TLS);
		c->state = CS_STARTTLS;
		return;
	case CS_FEAT_SASL: {
		const char *cur = p, *end = p + n, *want = mech_name(opt.mech);
		struct buf offered = BUF_INIT, b64 = BUF_INIT;
		int found = 0;

		while (xtag_next(&cur, end, &t)) {
			const char *ts = t.end;
			size_t wl = strlen(want);

			if (t.kind != TAG_OPEN || !xtag_is(&t, "mechanism"))
				continue;
			if (!xtag_next(&cur, end, &t))
				break;
			if (offered.len)
				buf_putc(&offered, ' ');
			buf_append(&offered, ts, (size_t)(t.start - ts));
			if ((size_t)(t.start - ts) == wl &&
			    memcmp(ts, want, wl) == 0)
				found = 1;
		}
		if (!found) {
			conn_abort(c, "server does not offer %s (offers: %s)",
			    want, offered.len ? offered.data : "nothing");
			buf_free(&offered);
			return;
		}
		buf_free(&offered);
		user_local(c->user, user, sizeof(user));
		c->sasl = sasl_start(opt.mech, user, &b64);
		if (c->sasl == NULL) {
			buf_free(&b64);
			conn_abort(c, "no random bytes for the SCRAM nonce");
			return;
		}
		conn_sendf(c, "<auth xmlns='%s' mechanism='%s'>%s</auth>",
		    NS_SASL, want, b64.len ? b64.data : "=");
		buf_free(&b64);
		c->state = CS_AUTH;
		return;
	}
	case CS_FEAT_BIND:
		if (!el_find(p, n, "bind", &t, &txt, &tl)) {
			conn_abort(c, "server offers no resource binding");
			return;
		}
		/* RFC 3921 sessions: only when the server says they are
		 * not optional (old servers). */
		c->need_session = el_find(p, n, "session", &t, &txt, &tl) &&
		    memmem(txt, tl, "optional", 8) == NULL;
		/* The PID keeps resources of concurrent generator
		 * processes apart: a clash would replace a session. */
		conn_sendf(c, "<iq type='set' id='bind1'><bind xmlns='%s'>"
		    "<resource>pb%d-%ld</resource></bind></iq>", NS_BIND,
		    (int)getpid(), c->idx);
		c->state = CS_BIND;
		return;
	default:
		return;	/* features at other times: ignore */
	}
}

static void on_sasl(struct conn *c, const struct xtag *root, const char *p,
	    size_t n)
{
	const char *txt = NULL, *err = NULL;
	size_t tl = 0;
	struct xtag t;
	char cond[64], user[256];

	if (root->kind == TAG_OPEN) {
		const char *cur = root->end;

		/* The text up to the element's own end tag. */
		txt = root->end;
		while (xtag_next(&cur, p + n, &t))
			tl = (size_t)(t.start - txt);
	}
	if (xtag_is(root, "challenge")) {
		struct buf b64 = BUF_INIT;

		if (c->sasl == NULL ||
		    sasl_step(c->sasl, txt ? txt : "", tl, &b64, &err) != 0) {
			buf_free(&b64);
			conn_abort(c, "SASL: %s", err ? err : "bad challenge");
			return;
		}
		conn_sendf(c, "<response xmlns='%s'>%s</response>", NS_SASL,
		    b64.len ? b64.data : "");
		buf_free(&b64);
	} else if (xtag_is(root, "success")) {
		if (c->sasl == NULL ||
		    sasl_finish(c->sasl, txt ? txt : "", tl, &err) != 0) {
			conn_abort(c, "SASL: %s", err ? err : "bad success");
			return;
		}
		sasl_free(c->sasl);
		c->sasl = NULL;
		send_header(c);
		c->state = CS_FEAT_BIND;
	} else if (xtag_is(root, "failure")) {
		error_cond(p, n, cond, sizeof(cond));
		user_local(c->user, user, sizeof(user));
		conn_abort(c, "authentication failed for %s: <%s/>", user,
		    cond);
	}
}

static void on_iq_login(struct conn *c, const struct xtag *root,
	    const char *p, size_t n)
{
	struct xtag t;
	const char *txt;
	size_t tl;
	char cond[64];
	int ok = xtag_attr_is(root, "type", "result");

	if (c->state == CS_BIND && xtag_attr_is(root, "id", "bind1")) {
		if (!ok) {
			error_cond(p, n, cond, sizeof(cond));
			conn_abort(c, "bind failed: <%s/>", cond);
			return;
		}
		if (el_find(p, n, "jid", &t, &txt, &tl)) {
			free(c->jid);
			c->jid = xstrndup(txt, tl);
		}
		if (c->jid == NULL) {
			conn_abort(c, "bind result without a JID");
			return;
		}
		if (c->need_session) {
			conn_sendf(c, "<iq type='set' id='sess1'><session "
			    "xmlns='%s'/></iq>", NS_SESS);
			c->state = CS_SESSION;
			return;
		}
		become_ready(c);
	} else if (c->state == CS_SESSION && xtag_attr_is(root, "id", "sess1")) {
		if (!ok) {
			error_cond(p, n, cond, sizeof(cond));
			conn_abort(c, "session failed: <%s/>", cond);
			return;
		}
		become_ready(c);
	}
}

static void on_element(struct conn *c, const char *p, size_t n)
{
	const char *cur = p;
	struct xtag root;
	char cond[64];

	if (!xtag_next(&cur, p + n, &root))
		return;
	if (root.prefix_len == 6 && memcmp(root.prefix, "stream", 6) == 0 &&
	    xtag_is(&root, "error")) {
		error_cond(p, n, cond, sizeof(cond));
		if (c->state == CS_CLOSING)
			conn_finish(c, 0);
		else
			conn_abort(c, "stream error <%s/> (while %s)", cond,
			    state_names[c->state]);
		return;
	}
	switch (c->state) {
	case CS_READY: {
		struct worker *w = c->w;

		if (w->ops->stanza != NULL && w->ops->stanza(c, &root, p, n))
			return;
		if (c->state == CS_READY && xtag_is(&root, "iq") &&
		    (xtag_attr_is(&root, "type", "get") ||
		    xtag_attr_is(&root, "type", "set"))) {
			struct xtag t;
			const char *txt;
			size_t tl;

			/* Pings (the server's liveness check) and roster
			 * pushes are acknowledged; anything else is not
			 * something a benchmark client does. */
			int known = el_find(p, n, "ping", &t, &txt, &tl) ||
			    (el_find(p, n, "query", &t, &txt, &tl) &&
			    xtag_attr_is(&t, "xmlns", "jabber:iq:roster"));

			iq_reply(c, &root, !known);
		}
		return;
	}
	case CS_FEAT_TLS:
	case CS_FEAT_SASL:
	case CS_FEAT_BIND:
		if (xtag_is(&root, "features"))
			on_features(c, p, n);
		return;
	case CS_STARTTLS:
		if (xtag_is(&root, "proceed"))
			c->state = CS_HANDSHAKE;	/* the reader starts TLS */
		else if (xtag_is(&root, "failure"))
			conn_abort(c, "server refused STARTTLS");
		return;
	case CS_AUTH:
		on_sasl(c, &root, p, n);
		return;
	case CS_BIND:
	case CS_SESSION:
		if (xtag_is(&root, "iq"))
			on_iq_login(c, &root, p, n);
		return;
	default:
		return;
	}
}

static int unit_cb(void *ud, enum scan_kind k, const char *p, size_t n)
{
	struct conn *c = ud;
	unsigned gen = c->gen;

	switch (k) {
	case SCAN_HEADER:
		return 0;
	case SCAN_END:
		if (c->state == CS_CLOSING)
			conn_finish(c, 0);
		else
			conn_abort(c, "server closed the stream (while %s)",
			    state_names[c->state]);
		return 1;
	case SCAN_ELEMENT:
		on_element(c, p, n);
		break;
	}
	return c->gen != gen || c->state == CS_IDLE ||
	    (c->state == CS_HANDSHAKE && c->ssl == NULL);
}

static void conn_eof(struct conn *c)
{
	if (c->state == CS_CLOSING)
		conn_finish(c, 0);
	else
		conn_abort(c, "connection closed by the server (while %s)",
		    state_names[c->state]);
}

static void tls_step(struct conn *c)
{
	char eb[160];
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		send_header(c);
		c->state = CS_FEAT_SASL;
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return;
	if (e == SSL_ERROR_WANT_WRITE) {
		want_write(c);
		return;
	}
	conn_abort(c, "TLS handshake failed: %s", tls_err(eb, sizeof(eb)));
}

static void tls_begin(struct conn *c)
{
	/* XEP-0368 asks direct-TLS clients to offer ALPN "xmpp-client". */
	static const unsigned char alpn[] = "\x0bxmpp-client";

	c->ssl = SSL_new(tls_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_abort(c, "cannot create a TLS session");
		return;
	}
	SSL_set_tlsext_host_name(c->ssl, opt.domain);
	if (opt.direct_tls)
		SSL_set_alpn_protos(c->ssl, alpn, sizeof(alpn) - 1);
	SSL_set_connect_state(c->ssl);
	c->state = CS_HANDSHAKE;
	tls_step(c);
}

static void conn_read(struct conn *c)
{
	struct worker *w = c->w;
	unsigned gen = c->gen;
	char eb[160];

	for (;;) {
		const char *data;
		char *dst;
		size_t room, len, used;
		ssize_t n;
		int carry = c->in_len > 0, stopped;

		if (carry) {
			if (c->in_cap - c->in_len < READ_CHUNK) {
				c->in_cap = c->in_len + 2 * READ_CHUNK;
				c->in = xrealloc(c->in, c->in_cap);
			}
			dst = c->in + c->in_len;
			room = c->in_cap - c->in_len;
		} else {
			dst = w->scratch;
			room = w->scratch_len;
		}
		if (c->ssl != NULL) {
			int r, e;

			ERR_clear_error();
			errno = 0;
			r = SSL_read(c->ssl, dst, room > INT_MAX ? INT_MAX :
			    (int)room);
			if (r <= 0) {
				e = SSL_get_error(c->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					c->read_wants_write = 1;
					want_write(c);
					return;
				}
				if (e == SSL_ERROR_ZERO_RETURN ||
				    (e == SSL_ERROR_SYSCALL &&
				    ERR_peek_error() == 0)) {
					ERR_clear_error();
					conn_eof(c);
					return;
				}
				if (c->state == CS_CLOSING) {
					ERR_clear_error();
					conn_finish(c, 0);
					return;
				}
				conn_abort(c, "TLS read (while %s): %s",
				    state_names[c->state],
				    tls_err(eb, sizeof(eb)));
				return;
			}
			n = r;
		} else {
			n = recv(c->fd, dst, room, 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return;
				if (c->state == CS_CLOSING)
					conn_finish(c, 0);
				else
					conn_abort(c, "read (while %s): %s",
					    state_names[c->state],
					    strerror(errno));
				return;
			}
			if (n == 0) {
				conn_eof(c);
				return;
			}
		}
		if (carry) {
			c->in_len += (size_t)n;
			data = c->in;
			len = c->in_len;
		} else {
			data = dst;
			len = (size_t)n;
		}
		used = scan_units(data, len, unit_cb, c, &stopped);
		if (c->gen != gen || c->state == CS_IDLE)
			return;
		if (c->state == CS_HANDSHAKE && c->ssl == NULL) {
			/* <proceed/>: whatever followed it in plaintext
			 * would be an injection; drop it. */
			free(c->in);
			c->in = NULL;
			c->in_len = c->in_cap = 0;
			tls_begin(c);
			return;
		}
		if (carry) {
			size_t rest = c->in_len - used;

			if (rest > 0 && used > 0)
				memmove(c->in, c->in + used, rest);
			c->in_len = rest;
			if (rest == 0) {
				free(c->in);
				c->in = NULL;
				c->in_cap = 0;
			}
		} else if (used < len) {
			size_t rest = len - used;

			c->in_cap = rest + READ_CHUNK;
			c->in = xmalloc(c->in_cap);
			memcpy(c->in, data + used, rest);
			c->in_len = rest;
		}
		if (c->in_len > IN_MAX) {
			conn_abort(c, "a stanza from the server exceeds %u "
			    "bytes", IN_MAX);
			return;
		}
		/* Nothing buffered in OpenSSL and a short read: the socket
		 * is most likely empty, and the event is level-triggered,
		 * so skip the read() that would only say EAGAIN. */
		if ((size_t)n < room &&
		    (c->ssl == NULL || !SSL_has_pending(c->ssl)))
			return;
	}
}

static void connect_done(struct conn *c)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err != 0) {
		conn_abort(c, "connect to %s port %d: %s", opt.host, opt.port,
		    strerror(err));
		return;
	}
	event_add(&c->rev, NULL);
	c->rev_on = 1;
	if (opt.direct_tls) {
		tls_begin(c);
	} else {
		send_header(c);
		c->state = CS_FEAT_TLS;
	}
}

static void rev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	if (c->state == CS_HANDSHAKE) {
		tls_step(c);
	} else if (c->state != CS_CONNECTING && c->state != CS_IDLE) {
		if (c->write_wants_read) {
			c->write_wants_read = 0;
			conn_flush(c);
		}
		if (c->state != CS_IDLE)
			conn_read(c);
	}
	worker_after(w);
}

static void wev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	c->wev_on = 0;
	if (c->state == CS_CONNECTING) {
		connect_done(c);
	} else if (c->state == CS_HANDSHAKE) {
		tls_step(c);
	} else if (c->state != CS_IDLE) {
		if (c->read_wants_write) {
			c->read_wants_write = 0;
			conn_read(c);
		}
		if (c->state != CS_IDLE)
			conn_flush(c);
	}
	worker_after(w);
}

void conn_check_deadline(struct conn *c, uint64_t now)
{
	if (c->state == CS_IDLE || c->deadline_ms == 0 ||
	    now < c->deadline_ms)
		return;
	if (c->state == CS_CLOSING)
		conn_finish(c, 0);	/* the server kept it open: fine */
	else
		conn_abort(c, "timeout after %.0f s while %s", opt.timeout,
		    state_names[c->state]);
}
