/*
 * bench/relay/relay.c - parley-relay, a bare TLS message relay: the
 * hardware limit that issue 4 compares Parley against.
 *
 * THIS IS A BENCHMARK FIXTURE, NOT PRODUCT CODE.  It authenticates nobody
 * (any PLAIN password is accepted), parses no XML (a minimal scanner finds
 * the stanza boundaries and the 'to' attribute of each message), stores
 * nothing and has none of Parley's limits or policies.  It exists so the
 * cost of "read a TLS record, find the recipient, write a TLS record" is
 * measured on this machine with the same traffic shape as parley-bench's
 * msg scenario, instead of assumed.
 *
 * It speaks just enough XMPP that parley-bench (with --mech PLAIN) drives
 * it unchanged: stream header -> STARTTLS (or direct TLS on --tls-listen)
 * -> PLAIN (the authcid becomes the user) -> bind (the JID is
 * user@DOMAIN/resource).  Then every <message to='user@...'> stanza it
 * reads is forwarded, bytes unchanged, to the last connection that user
 * logged in on (hash map user -> connection).  Messages to unknown users
 * are counted and dropped; a presence without 'to' is echoed to its
 * sender; any iq is answered with an empty result; everything else is
 * dropped.
 *
 * Writes: by default one SSL_write per forwarded message (one TLS record,
 * one send(2)) - "unbatched".  With --batch the bytes for each connection
 * are collected during one event-loop iteration and written with one
 * SSL_write at its end.
 *
 * One thread, libevent (event_base_loop(EVLOOP_ONCE) in a loop, the batch
 * flush between iterations) and OpenSSL.  Listens on loopback addresses
 * only and refuses anything else.  Stops on SIGINT/SIGTERM or after
 * --lifetime seconds (default 3600), printing one line:
 *   RELAY conns=N msgs=N bytes=N unknown=N user_s=X sys_s=X
 *
 * Build: make -C bench/relay   (needs libevent-dev, libssl-dev)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#define IN_MAX		(1u << 20)	/* largest stanza / unparsed input */
#define OUT_MAX		(64u << 20)	/* pending output before a reader is cut */
#define READ_CHUNK	16384

enum cstate {
	C_PLAIN_HEADER,		/* plaintext, waiting for the stream header */
	C_PLAIN_STARTTLS,	/* plaintext, waiting for <starttls/> */
	C_HANDSHAKE,		/* TLS handshake */
	C_HEADER,		/* TLS, waiting for a stream header */
	C_AUTH,			/* waiting for <auth/> */
	C_BIND,			/* waiting for the bind iq */
	C_READY,		/* relaying */
	C_DEAD
};

struct conn {
	int fd;
	SSL *ssl;
	struct event *rev, *wev;
	enum cstate st;
	int authed;		/* stream restarted after SASL success */
	int wev_on;
	int closing;		/* close once the output is written */
	char *user;		/* localpart learned at PLAIN */
	char *in;
	size_t in_len, in_cap;
	size_t scan;		/* where the scanner resumes */
	size_t start;		/* start of the current stanza */
	int depth;		/* element depth inside the stream */
	char *out;
	size_t out_len, out_cap;
	struct conn *dirty_next;
	int dirty;
	struct conn *dead_next;
	struct conn *hnext;	/* hash chain */
};

static struct {
	const char *domain;
	int batch;
	long lifetime;
	const char *cert, *key, *pidfile;
} opt = { "localhost", 0, 3600, NULL, NULL, NULL };

static struct event_base *base;
static SSL_CTX *tls_ctx;
static struct conn *dirty_head, *dead_head;
static struct conn **htab;
static size_t hsize = 1u << 16;
static unsigned long long n_conns, n_msgs, n_bytes, n_unknown;
static unsigned long id_seq;
static volatile int stopping;

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "parley-relay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* ---------------------------------------------------------- user map */

static size_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return (size_t)h & (hsize - 1);
}

static struct conn *map_get(const char *u, size_t n)
{
	for (struct conn *c = htab[hash(u, n)]; c != NULL; c = c->hnext)
		if (strlen(c->user) == n && memcmp(c->user, u, n) == 0)
			return c;
	return NULL;
}

static void map_del(struct conn *c)
{
	struct conn **pp;

	if (c->user == NULL)
		return;
	for (pp = &htab[hash(c->user, strlen(c->user))]; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
}

/* The newest login of a user replaces the older one in the map. */
static void map_put(struct conn *c)
{
	size_t n = strlen(c->user);
	struct conn *old = map_get(c->user, n);

	if (old != NULL)
		map_del(old);
	c->hnext = htab[hash(c->user, n)];
	htab[hash(c->user, n)] = c;
}

/* ---------------------------------------------------------- output */

static void conn_kill(struct conn *c);

static void want_write(struct conn *c, int on)
{
	if (on == c->wev_on || c->st == C_DEAD)
		return;
	if (on)
		event_add(c->wev, NULL);
	else
		event_del(c->wev);
	c->wev_on = on;
}

static void out_append(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n > OUT_MAX) {
		fprintf(stderr, "parley-relay: %s: %zu bytes unread, cut off\n",
		    c->user ? c->user : "?", c->out_len);
		conn_kill(c);
		return;
	}
	if (c->out_len + n > c->out_cap) {
		c->out_cap = (c->out_len + n) * 2;
		c->out = xrealloc(c->out, c->out_cap);
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

/* Writes what is pending; 0 on success (even if some is left), -1 when the
 * connection died. */
static int flush_out(struct conn *c)
{
	while (c->out_len > 0 && c->st != C_DEAD) {
		int r;

		if (c->ssl == NULL) {
			ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);

			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				want_write(c, 1);
				return 0;
			}
			if (w <= 0) {
				conn_kill(c);
				return -1;
			}
			r = (int)w;
		} else {
			int len = c->out_len > (1u << 30) ? 1 << 30 : (int)c->out_len;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->out, len);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ) {
					want_write(c, 1);
					return 0;
				}
				conn_kill(c);
				return -1;
			}
		}
		memmove(c->out, c->out + r, c->out_len - (size_t)r);
		c->out_len -= (size_t)r;
	}
	if (c->st == C_DEAD)
		return -1;
	want_write(c, 0);
	if (c->closing)
		conn_kill(c);
	return 0;
}

/* Sends bytes to a connection: at once (one write) unless --batch, or
 * unless older bytes still wait, which must go first. */
static void conn_send(struct conn *c, const char *p, size_t n)
{
	if (c->st == C_DEAD)
		return;
	out_append(c, p, n);
	if (c->st == C_DEAD)
		return;
	if (opt.batch && c->ssl != NULL) {
		if (!c->dirty) {
			c->dirty = 1;
			c->dirty_next = dirty_head;
			dirty_head = c;
		}
		return;
	}
	if (c->out_len == n && !c->wev_on)
		flush_out(c);
}

static void conn_printf(struct conn *c, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0)
		conn_send(c, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

static void flush_dirty(void)
{
	while (dirty_head != NULL) {
		struct conn *c = dirty_head;

		dirty_head = c->dirty_next;
		c->dirty = 0;
		if (c->st != C_DEAD && !c->wev_on)
			flush_out(c);
	}
}

/* ---------------------------------------------------------- lifecycle */

static void conn_kill(struct conn *c)
{
	if (c->st == C_DEAD)
		return;
	c->st = C_DEAD;
	map_del(c);
	event_del(c->rev);
	event_del(c->wev);
	c->dead_next = dead_head;
	dead_head = c;
}

/* Frees killed connections: only between loop iterations, so a pointer
 * taken during one iteration (dirty list, forwarding) stays valid. */
static void reap(void)
{
	while (dead_head != NULL) {
		struct conn *c = dead_head;

		dead_head = c->dead_next;
		if (c->ssl != NULL) {
			SSL_shutdown(c->ssl);
			SSL_free(c->ssl);
		}
		close(c->fd);
		event_free(c->rev);
		event_free(c->wev);
		free(c->user);
		free(c->in);
		free(c->out);
		free(c);
	}
}

/* ---------------------------------------------------------- scanner */

/* Value of attribute name (n bytes) in the start tag [p, e); NULL if none. */
static const char *attr(const char *p, const char *e, const char *name,
	    size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *s = p; s + nl + 2 < e; s++) {
		char q;
		const char *v, *ve;

		if (*s == '\'' || *s == '"') {	/* skip other values */
			const char *z = memchr(s + 1, *s, (size_t)(e - s - 1));

			if (z == NULL)
				return NULL;
			s = z;
			continue;
		}
		if ((s[-1] != ' ' && s[-1] != '\t' && s[-1] != '\n' &&
		    s[-1] != '\r') || memcmp(s, name, nl) != 0)
			continue;
		v = s + nl;
		while (v < e && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
			v++;
		if (v >= e || *v != '=')
			continue;
		v++;
		while (v < e && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
			v++;
		if (v >= e || (*v != '\'' && *v != '"'))
			return NULL;
		q = *v++;
		ve = memchr(v, q, (size_t)(e - v));
		if (ve == NULL)
			return NULL;
		*vlen = (size_t)(ve - v);
		return v;
	}
	return NULL;
}

/* Text between <tag ...> and </tag> inside [p, e); NULL if none. */
static const char *child_text(const char *p, const char *e, const char *tag,
	    size_t *len)
{
	size_t tl = strlen(tag);
	const char *s = p, *t, *z;

	while ((s = memmem(s, (size_t)(e - s), tag, tl)) != NULL) {
		if (s > p && s[-1] == '<' && (s[tl] == '>' || s[tl] == ' '))
			break;
		s += tl;
	}
	if (s == NULL || (t = memchr(s, '>', (size_t)(e - s))) == NULL)
		return NULL;
	if (t[-1] == '/') {
		*len = 0;
		return t + 1;
	}
	t++;
	z = memchr(t, '<', (size_t)(e - t));
	if (z == NULL)
		return NULL;
	*len = (size_t)(z - t);
	return t;
}

static int is_el(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n > l + 1 && memcmp(p + 1, name, l) == 0 &&
	    (p[l + 1] == ' ' || p[l + 1] == '>' || p[l + 1] == '/' ||
	    p[l + 1] == '\t' || p[l + 1] == '\n' || p[l + 1] == '\r');
}

static void send_header(struct conn *c)
{
	conn_printf(c, "<?xml version='1.0'?><stream:stream "
	    "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/"
	    "streams' id='r%lu' from='%s' version='1.0'>", ++id_seq,
	    opt.domain);
	if (c->st == C_PLAIN_HEADER) {
		conn_printf(c, "<stream:features><starttls xmlns='urn:ietf:"
		    "params:xml:ns:xmpp-tls'><required/></starttls>"
		    "</stream:features>");
		c->st = C_PLAIN_STARTTLS;
	} else if (!c->authed) {
		conn_printf(c, "<stream:features><mechanisms xmlns='urn:ietf:"
		    "params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
		    "</mechanisms></stream:features>");
		c->st = C_AUTH;
	} else {
		conn_printf(c, "<stream:features><bind xmlns='urn:ietf:"
		    "params:xml:ns:xmpp-bind'/></stream:features>");
		c->st = C_BIND;
	}
}

static void start_tls(struct conn *c);

static void on_auth(struct conn *c, const char *p, size_t n)
{
	const char *e = p + n, *mech, *b64;
	size_t ml, bl;
	unsigned char *raw;
	int rl;
	const char *authcid, *nul;

	mech = attr(p + 1, e, "mechanism", &ml);
	b64 = child_text(p, e, "auth", &bl);
	if (!is_el(p, n, "auth") || mech == NULL || ml != 5 ||
	    memcmp(mech, "PLAIN", 5) != 0 || b64 == NULL || bl == 0 ||
	    bl > 4096) {
		conn_printf(c, "<failure xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-sasl'><invalid-mechanism/></failure>");
		return;
	}
	raw = xrealloc(NULL, bl + 4);
	rl = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)bl);
	if (rl > 0 && b64[bl - 1] == '=')
		rl -= b64[bl - 2] == '=' ? 2 : 1;
	/* authzid NUL authcid NUL password */
	nul = rl > 0 ? memchr(raw, '\0', (size_t)rl) : NULL;
	authcid = nul ? nul + 1 : NULL;
	nul = authcid ? memchr(authcid, '\0', (size_t)((const char *)raw + rl - authcid)) : NULL;
	if (nul == NULL || nul == authcid) {
		free(raw);
		conn_printf(c, "<failure xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-sasl'><not-authorized/></failure>");
		return;
	}
	free(c->user);
	c->user = strndup(authcid, (size_t)(nul - authcid));
	free(raw);
	conn_printf(c, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
	c->authed = 1;
	c->st = C_HEADER;	/* the client restarts the stream */
}

static void on_iq(struct conn *c, const char *p, size_t n)
{
	const char *e = p + n, *te = memchr(p, '>', n), *id, *res;
	size_t il = 0, rl = 0;

	id = attr(p + 1, te ? te : e, "id", &il);
	if (c->st == C_BIND) {
		res = child_text(p, e, "resource", &rl);
		if (res == NULL || rl == 0 || rl > 512) {
			res = "relay";
			rl = 5;
		}
		conn_printf(c, "<iq type='result' id='%.*s'><bind xmlns='urn:"
		    "ietf:params:xml:ns:xmpp-bind'><jid>%s@%s/%.*s</jid></bind>"
		    "</iq>", (int)il, id ? id : "", c->user, opt.domain,
		    (int)rl, res);
		map_put(c);
		c->st = C_READY;
		return;
	}
	conn_printf(c, "<iq type='result' id='%.*s'/>", (int)il, id ? id : "");
}

/* One complete top-level element [p, p+n) of a stream. */
static void on_stanza(struct conn *c, const char *p, size_t n)
{
	const char *te = memchr(p, '>', n), *to, *at;
	size_t tl;
	struct conn *r;

	switch (c->st) {
	case C_PLAIN_STARTTLS:
		if (!is_el(p, n, "starttls")) {
			conn_kill(c);
			return;
		}
		conn_printf(c, "<proceed xmlns='urn:ietf:params:xml:ns:"
		    "xmpp-tls'/>");
		start_tls(c);
		return;
	case C_AUTH:
		on_auth(c, p, n);
		return;
	case C_BIND:
		if (is_el(p, n, "iq"))
			on_iq(c, p, n);
		return;
	case C_READY:
		break;
	default:
		return;
	}
	if (is_el(p, n, "message")) {
		to = attr(p + 1, te, "to", &tl);
		at = to ? memchr(to, '@', tl) : NULL;
		r = at ? map_get(to, (size_t)(at - to)) : NULL;
		if (r == NULL || r->st != C_READY) {
			n_unknown++;
			return;
		}
		n_msgs++;
		n_bytes += n;
		conn_send(r, p, n);
	} else if (is_el(p, n, "presence")) {
		if (attr(p + 1, te, "to", &tl) == NULL)
			conn_send(c, p, n);	/* the self-presence echo */
	} else if (is_el(p, n, "iq")) {
		on_iq(c, p, n);
	}
}

/*
 * Finds complete elements in c->in from c->scan on: tags are found by '<'
 * (text never holds a raw '<'), quoted attribute values are skipped, PIs,
 * comments and CDATA are stepped over, and depth counts open tags.  The
 * stream header (and <?xml?>) is answered at depth 0; an element that
 * closes back to depth 0 is handed to on_stanza.  Stops at an incomplete
 * tag and resumes there when more bytes arrive.
 */
static void scan_input(struct conn *c)
{
	for (;;) {
		char *b = c->in, *e = c->in + c->in_len, *lt, *gt, *q;
		enum cstate before = c->st;

		if (c->st == C_DEAD || c->st == C_HANDSHAKE)
			return;
		lt = memchr(b + c->scan, '<', (size_t)(e - b - c->scan));
		if (lt == NULL) {
			c->scan = c->in_len;
			break;
		}
		if (lt + 1 >= e)
			break;
		if (lt[1] == '?' || (lt[1] == '!' && lt + 3 < e && lt[2] == '-')) {
			const char *end = lt[1] == '?' ? "?>" : "-->";

			gt = memmem(lt, (size_t)(e - lt), end, strlen(end));
			if (gt == NULL)
				break;
			c->scan = (size_t)(gt + strlen(end) - b);
			continue;
		}
		if (lt[1] == '!') {	/* CDATA */
			gt = memmem(lt, (size_t)(e - lt), "]]>", 3);
			if (gt == NULL)
				break;
			c->scan = (size_t)(gt + 3 - b);
			continue;
		}
		/* The tag's end, outside quoted values. */
		for (gt = NULL, q = lt + 1; q < e; q++) {
			if (*q == '\'' || *q == '"') {
				char *z = memchr(q + 1, *q, (size_t)(e - q - 1));

				if (z == NULL) {
					q = e;
					break;
				}
				q = z;
			} else if (*q == '>') {
				gt = q;
				break;
			}
		}
		if (gt == NULL)
			break;
		c->scan = (size_t)(gt + 1 - b);
		if (lt[1] == '/') {			/* end tag */
			if (c->depth == 0) {		/* </stream:stream> */
				conn_printf(c, "</stream:stream>");
				c->closing = 1;
				if (c->out_len == 0)
					conn_kill(c);
				return;
			}
			if (--c->depth == 0)
				on_stanza(c, b + c->start, c->scan - c->start);
		} else if (c->st == C_PLAIN_HEADER || c->st == C_HEADER) {
			if (!is_el(lt, (size_t)(gt - lt + 1), "stream:stream")) {
				conn_kill(c);
				return;
			}
			send_header(c);
		} else if (gt[-1] == '/') {		/* empty element */
			if (c->depth == 0) {
				c->start = (size_t)(lt - b);
				on_stanza(c, b + c->start, c->scan - c->start);
			}
		} else {
			if (c->depth++ == 0)
				c->start = (size_t)(lt - b);
		}
		if (c->st == C_HANDSHAKE || (before != c->st && c->st == C_HEADER)) {
			/* STARTTLS or SASL: what follows is a new stream;
			 * bytes already read after it are dropped. */
			c->in_len = c->scan = c->start = 0;
			c->depth = 0;
			return;
		}
	}
	/* Keep only the unfinished stanza (or the unfinished tag). */
	{
		size_t keep = c->depth > 0 ? c->start : c->scan;
		char *lt = memchr(c->in + keep, '<', c->in_len - keep);

		if (c->depth == 0)
			keep = lt ? (size_t)(lt - c->in) : c->in_len;
		if (keep > 0) {
			memmove(c->in, c->in + keep, c->in_len - keep);
			c->in_len -= keep;
			c->scan -= keep < c->scan ? keep : c->scan;
			c->start -= keep < c->start ? keep : c->start;
		}
	}
}

/* ---------------------------------------------------------- events */

static void tls_step(struct conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->st = C_HEADER;
		want_write(c, c->out_len > 0);
		return;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		want_write(c, 0);
	else if (e == SSL_ERROR_WANT_WRITE)
		want_write(c, 1);
	else
		conn_kill(c);
}

static void start_tls(struct conn *c)
{
	/* <proceed/> must leave in plaintext before the handshake. */
	while (c->out_len > 0 && c->st != C_DEAD)
		if (flush_out(c) != 0 || c->wev_on)
			break;
	if (c->st == C_DEAD)
		return;
	if (c->out_len > 0) {	/* a fresh socket never blocks on 60 bytes */
		conn_kill(c);
		return;
	}
	c->ssl = SSL_new(tls_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		conn_kill(c);
		return;
	}
	SSL_set_accept_state(c->ssl);
	c->st = C_HANDSHAKE;
}

static void on_read(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->st == C_HANDSHAKE) {
		tls_step(c);
		if (c->st == C_HANDSHAKE || c->st == C_DEAD)
			return;
	}
	for (;;) {
		int r;

		if (c->st == C_DEAD)
			return;
		if (c->in_cap - c->in_len < READ_CHUNK) {
			if (c->in_len + READ_CHUNK > IN_MAX + READ_CHUNK) {
				conn_kill(c);	/* a stanza past IN_MAX */
				return;
			}
			c->in_cap = c->in_len + 2 * READ_CHUNK;
			c->in = xrealloc(c->in, c->in_cap);
		}
		if (c->ssl == NULL) {
			/* Plaintext: only up to STARTTLS; read a byte at a
			 * time would be exact, but clients wait for
			 * <proceed/> before the handshake anyway. */
			ssize_t n = recv(c->fd, c->in + c->in_len,
			    c->in_cap - c->in_len, 0);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n <= 0) {
				conn_kill(c);
				return;
			}
			c->in_len += (size_t)n;
		} else {
			ERR_clear_error();
			r = SSL_read(c->ssl, c->in + c->in_len,
			    (int)(c->in_cap - c->in_len));
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_READ)
					return;
				if (e == SSL_ERROR_WANT_WRITE) {
					want_write(c, 1);
					return;
				}
				conn_kill(c);
				return;
			}
			c->in_len += (size_t)r;
		}
		scan_input(c);
		if (c->st == C_HANDSHAKE) {
			tls_step(c);
			if (c->st == C_HANDSHAKE)
				return;
		}
	}
}

static void on_write(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->st == C_HANDSHAKE) {
		tls_step(c);
		if (c->st != C_DEAD && c->st != C_HANDSHAKE)
			on_read(c->fd, EV_READ, c);
		return;
	}
	c->wev_on = 1;
	if (flush_out(c) == 0 && c->st != C_DEAD && c->ssl != NULL)
		on_read(c->fd, EV_READ, c);	/* an SSL_read that wanted a write */
}

static int direct_tls_fd = -1;

static void on_accept(evutil_socket_t lfd, short ev, void *arg)
{
	(void)ev;
	(void)arg;
	for (int i = 0; i < 256; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;
		struct conn *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				fprintf(stderr, "parley-relay: accept: %s\n",
				    strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (c == NULL)
			die("out of memory");
		c->fd = fd;
		c->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_read, c);
		c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_write, c);
		if (c->rev == NULL || c->wev == NULL)
			die("event_new failed");
		event_add(c->rev, NULL);
		n_conns++;
		if (lfd == direct_tls_fd) {
			c->ssl = SSL_new(tls_ctx);
			if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1)
				die("SSL_new failed");
			SSL_set_accept_state(c->ssl);
			c->st = C_HANDSHAKE;
		} else {
			c->st = C_PLAIN_HEADER;
		}
	}
}

static void on_stop(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	stopping = 1;
}

/* ---------------------------------------------------------- setup */

/* "127.0.0.1:PORT", "localhost:PORT" or "[::1]:PORT"; loopback only. */
static int listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[64];
	const char *colon = strrchr(spec, ':');
	long port;
	char *end;
	int fd, one = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		die("%s: want HOST:PORT", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		die("%s: bad port", spec);
	memset(&ss, 0, sizeof(ss));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			die("%s: not an IPv4 address, localhost or [::1]", spec);
		if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127)
			die("%s: refusing a non-loopback address (this is a "
			    "benchmark fixture: 127.0.0.0/8 or [::1] only)", spec);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0)
		die("%s: bind: %s", spec, strerror(errno));
	if (listen(fd, 4096) != 0)
		die("%s: listen: %s", spec, strerror(errno));
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: parley-relay --cert FILE --key FILE [--listen 127.0.0.1:PORT]\n"
	    "         [--tls-listen 127.0.0.1:PORT] [--domain D] [--batch]\n"
	    "         [--lifetime SECONDS] [--pidfile FILE]\n"
	    "A bare TLS relay for benchmarks (bench/README.md); loopback only.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *listen_spec = NULL, *tls_spec = NULL;
	struct event *lev = NULL, *tev = NULL, *sint, *sterm, *timer;
	struct timeval tv;
	struct rusage ru;
	struct rlimit rl;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--batch") == 0) {
			opt.batch = 1;
			continue;
		}
		if (v == NULL)
			usage();
		if (strcmp(a, "--listen") == 0)
			listen_spec = v;
		else if (strcmp(a, "--tls-listen") == 0)
			tls_spec = v;
		else if (strcmp(a, "--cert") == 0)
			opt.cert = v;
		else if (strcmp(a, "--key") == 0)
			opt.key = v;
		else if (strcmp(a, "--domain") == 0)
			opt.domain = v;
		else if (strcmp(a, "--pidfile") == 0)
			opt.pidfile = v;
		else if (strcmp(a, "--lifetime") == 0) {
			opt.lifetime = strtol(v, NULL, 10);
			if (opt.lifetime < 1 || opt.lifetime > 86400)
				die("--lifetime: 1..86400 seconds");
		} else
			usage();
		i++;
	}
	if (opt.cert == NULL || opt.key == NULL ||
	    (listen_spec == NULL && tls_spec == NULL))
		usage();
	if (strlen(opt.domain) > 255 || strpbrk(opt.domain, "<>'\"&") != NULL)
		die("--domain: not a domain");

	signal(SIGPIPE, SIG_IGN);
	/* As many connections as the fd limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	htab = calloc(hsize, sizeof(*htab));
	if (htab == NULL)
		die("out of memory");

	tls_ctx = SSL_CTX_new(TLS_server_method());
	if (tls_ctx == NULL)
		die("SSL_CTX_new failed");
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(tls_ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	SSL_CTX_set_mode(tls_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(tls_ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(tls_ctx, opt.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(tls_ctx, opt.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(tls_ctx) != 1)
		die("cannot load %s / %s", opt.cert, opt.key);

	base = event_base_new();
	if (base == NULL)
		die("event_base_new failed");
	if (listen_spec != NULL) {
		int fd = listen_on(listen_spec);

		lev = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, NULL);
		event_add(lev, NULL);
	}
	if (tls_spec != NULL) {
		direct_tls_fd = listen_on(tls_spec);
		tev = event_new(base, direct_tls_fd, EV_READ | EV_PERSIST,
		    on_accept, NULL);
		event_add(tev, NULL);
	}
	sint = evsignal_new(base, SIGINT, on_stop, NULL);
	sterm = evsignal_new(base, SIGTERM, on_stop, NULL);
	timer = evtimer_new(base, on_stop, NULL);
	event_add(sint, NULL);
	event_add(sterm, NULL);
	tv.tv_sec = opt.lifetime;
	tv.tv_usec = 0;
	event_add(timer, &tv);
	if (opt.pidfile != NULL) {
		FILE *f = fopen(opt.pidfile, "w");

		if (f == NULL)
			die("%s: %s", opt.pidfile, strerror(errno));
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	fprintf(stderr, "parley-relay: pid %ld, %s%s%s%s, %s writes\n",
	    (long)getpid(), listen_spec ? "STARTTLS on " : "",
	    listen_spec ? listen_spec : "", tls_spec ? " TLS on " : "",
	    tls_spec ? tls_spec : "", opt.batch ? "batched" : "unbatched");

	while (!stopping) {
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			die("event loop failed");
		flush_dirty();
		reap();
	}

	getrusage(RUSAGE_SELF, &ru);
	printf("RELAY conns=%llu msgs=%llu bytes=%llu unknown=%llu "
	    "user_s=%.3f sys_s=%.3f batch=%d\n", n_conns, n_msgs, n_bytes,
	    n_unknown, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, opt.batch);
	fflush(stdout);
	if (opt.pidfile != NULL)
		unlink(opt.pidfile);
	(void)lev;
	(void)tev;
	return 0;
}
