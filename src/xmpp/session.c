/* session.c - see session.h. */
#include "xmpp/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "admin/metrics.h"
#include "admin/traffic.h"
#include "core/alloc.h"
#include "core/base64.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "net/addrlimit.h"
#include "net/conn.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/audit.h"
#include "xmpp/authfail.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"
#include "xmpp/ratelimit.h"
#include "xmpp/router.h"
#include "xmpp/server.h"

enum { RESTART_NONE, RESTART_TLS, RESTART_SASL };

/* Milliseconds of silence after which a bound session's parser is freed
 * (xml_stream_hibernate); waking it costs a parser creation. */
#define SESSION_HIBERNATE_MS	5000

/* SASL failures one connection may make before it is closed. */
#define MAX_AUTH_FAILURES	5

static void on_read(void *ud, const char *data, size_t len);
static void on_tls(void *ud);
static void on_close(void *ud, const char *why);
static void on_stream_open(void *ud, const struct xml_node *hdr,
    const char *default_ns);
static void on_stanza(void *ud, struct xml_stanza *st);
static void on_stream_close(void *ud);
static void on_xml_error(void *ud, enum xml_error err, const char *text);
static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void backoff_done(struct session *s);

static const struct conn_ops conn_ops = { on_read, on_tls, on_close };
static const struct xml_stream_cb stream_cb = {
	on_stream_open, on_stanza, on_stream_close, on_xml_error
};

static void arm_timer_ms(struct session *s, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(s->timer, &tv);
}

/* When an active session's timer should next look at it: the sooner of
 * the first ping and the first chance to hibernate. */
static uint64_t first_check_ms(const struct session *s)
{
	uint64_t ping_at = (uint64_t)s->srv->cfg->ping_interval * 1000;

	return ping_at < SESSION_HIBERNATE_MS ? ping_at : SESSION_HIBERNATE_MS;
}

/* Re-arms the log-in deadline fixed at accept time. */
static void arm_deadline(struct session *s)
{
	uint64_t now = clock_mono_ms();

	arm_timer_ms(s, s->deadline_ms > now ? s->deadline_ms - now : 0);
}

struct session *session_new(struct server *srv, evutil_socket_t fd,
    const char *addr, int direct_tls)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->srv = srv;
	s->id = ++srv->next_id;
	s->state = SS_HEADER;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->unauth_counted = 1;
	s->last_read_ms = clock_mono_ms();
	s->accepted_ms = s->last_read_ms;
	s->xs = xml_stream_new(&srv->xml_limits, &stream_cb, s);
	s->timer = evtimer_new(srv->base, timer_cb, s);
	/* Slowloris: a connection gets this long to log in, whatever it
	 * sends meanwhile. */
	s->deadline_ms = s->last_read_ms + (uint64_t)srv->cfg->auth_timeout * 1000;
	arm_deadline(s);
	s->all_next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->all_prev = s;
	srv->sessions = s;
	srv->nsessions++;
	s->conn = conn_new(srv->base, fd, direct_tls ? srv->tls : NULL,
	    &conn_ops, s, srv->cfg->max_output_queue);
	s->tls = direct_tls ? 1 : 0;
	log_info("conn %llu: accepted from %s (%s)", (unsigned long long)s->id,
	    addr, direct_tls ? "direct TLS" : "STARTTLS");
	return s;
}

static const char *who(const struct session *s)
{
	static char buf[64 + PARLEY_JID_PART_MAX * 3];

	if (s->full != NULL)
		snprintf(buf, sizeof(buf), "conn %llu (%s)",
		    (unsigned long long)s->id, s->full);
	else
		snprintf(buf, sizeof(buf), "conn %llu",
		    (unsigned long long)s->id);
	return buf;
}

struct csi_held {
	char	*from;
	char	*data;
	size_t	 len;
};

static void held_free(struct session *s)
{
	for (size_t i = 0; i < s->nheld; i++) {
		free(s->held[i].from);
		free(s->held[i].data);
	}
	free(s->held);
	s->held = NULL;
	s->nheld = 0;
}

void session_csi_flush(struct session *s)
{
	struct csi_held *h = s->held;
	size_t n = s->nheld;

	/* Detach first: conn_write never re-enters, but keep it obvious. */
	s->held = NULL;
	s->nheld = 0;
	for (size_t i = 0; i < n; i++) {
		if (conn_write(s->conn, h[i].data, h[i].len) == 0)
			metrics.stanzas_out[MK_PRESENCE]++;
		free(h[i].from);
		free(h[i].data);
	}
	free(h);
}

void session_send_raw(struct session *s, const char *data, size_t len)
{
	if (s->state == SS_CLOSED && s->header_sent == 0)
		return;
	/* Anything else that goes out first releases the held presence,
	 * so the client never sees stanzas out of order. */
	if (s->nheld > 0)
		session_csi_flush(s);
	/* One stanza per call, serialized without a prefix: "<message",
	 * "<presence" or "<iq". */
	if (conn_write(s->conn, data, len) == 0 && len > 1)
		metrics.stanzas_out[metrics_kind_of(data + 1)]++;
}

void session_send_presence(struct session *s, const char *from,
    const char *data, size_t len)
{
	size_t i;

	if (!s->csi_inactive) {
		session_send_raw(s, data, len);
		return;
	}
	for (i = 0; i < s->nheld; i++)
		if (strcmp(s->held[i].from, from) == 0)
			break;
	if (i < s->nheld) {
		/* Only the newest presence of a sender matters. */
		free(s->held[i].data);
	} else {
		if (s->nheld >= s->srv->cfg->max_csi_held) {
			session_csi_flush(s);
			i = 0;
		}
		s->held = xrealloc(s->held, (s->nheld + 1) * sizeof(*s->held));
		i = s->nheld++;
		s->held[i].from = xstrdup(from);
	}
	s->held[i].data = xmemdup(data, len);
	s->held[i].len = len;
}

void session_send(struct session *s, const struct xml_node *stanza)
{
	/* One loop thread, and conn_write copies: a scratch buffer saves a
	 * malloc and free per stanza.  A large stanza's memory is not kept. */
	static struct buf b = BUF_INIT;

	buf_reset(&b);
	router_serialize(stanza, &b);
	session_send_raw(s, b.data, b.len);
	if (b.cap > 64 * 1024)
		buf_free(&b);
}

static void stream_header(struct session *s, struct buf *b)
{
	unsigned char rnd[12];

	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->stream_id + 2 * i, 3, "%02x", rnd[i]);
	buf_printf(b, "<?xml version='1.0'?><stream:stream xmlns='"
	    NS_CLIENT "' xmlns:stream='" XML_NS_STREAM "' id='%s' from='",
	    s->stream_id);
	buf_put_xml_escaped(b, s->srv->cfg->domain,
	    strlen(s->srv->cfg->domain));
	buf_puts(b, "' version='1.0' xml:lang='en'>");
	s->header_sent = 1;
}

void session_stream_error(struct session *s, enum stream_err e,
    const char *text)
{
	struct buf b = BUF_INIT;

	if (s->state == SS_CLOSED)
		return;
	if (!s->header_sent)
		stream_header(s, &b);
	stream_error_xml(e, text, &b);
	buf_puts(&b, "</stream:stream>");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	log_info("%s: stream error %s: %s", who(s), stream_err_name(e),
	    text ? text : "");
	s->state = SS_CLOSED;
	xml_stream_suspend(s->xs);
	conn_close(s->conn, stream_err_name(e));
}

/* Sends reply (an error built for orig, NULL when orig was an error
 * itself) back to its sender, and frees it. */
static void send_error_reply(struct session *s, const struct xml_node *orig,
    struct xml_stanza *reply)
{
	if (reply == NULL)
		return;
	/* The reply goes back to the sender: its 'to' is the sender. */
	xml_set_attr(reply, xml_root(reply), "to", s->full);
	if (xml_attr(orig, "to") == NULL)
		xml_set_attr(reply, xml_root(reply), "from", s->bare);
	session_send(s, xml_root(reply));
	xml_stanza_free(reply);
}

void session_send_error(struct session *s, const struct xml_node *orig,
    enum stanza_err e, const char *text)
{
	send_error_reply(s, orig, stanza_error_reply(orig, e, text));
}

/* ---- connection events ------------------------------------------------- */

static void on_read(void *ud, const char *data, size_t len)
{
	struct session *s = ud;
	size_t consumed;

	s->last_read_ms = clock_mono_ms();
	s->ping_out = 0;
	/* A stranger gets a few logins' worth of bytes, not max_stanza_size
	 * again and again until auth_timeout. */
	if (!s->authed && s->state != SS_CLOSED) {
		s->unauth_bytes += len;
		if (s->unauth_bytes > s->srv->cfg->max_unauth_bytes) {
			session_stream_error(s, SE_POLICY_VIOLATION,
			    "too much data before logging in");
			return;
		}
	}
	/* A hibernating session's timer may be far off (the next ping);
	 * bring it near so that the parser is freed again when quiet. */
	if (s->state == SS_ACTIVE && xml_stream_hibernating(s->xs))
		arm_timer_ms(s, first_check_ms(s));
	while (len > 0 && s->state != SS_CLOSED) {
		enum xml_feed rc = xml_stream_feed(s->xs, data, len, &consumed);

		if (rc != XML_FEED_SUSPENDED || s->state == SS_CLOSED)
			return;
		data += consumed;
		len -= consumed;
		xml_stream_reset(s->xs);
		if (s->restart == RESTART_TLS) {
			s->restart = RESTART_NONE;
			if (len > 0) {
				/* Plaintext after <starttls/> would be
				 * read as if it came over TLS. */
				log_warn("%s: data after STARTTLS; closing",
				    who(s));
				s->state = SS_CLOSED;
				conn_close(s->conn, "data after STARTTLS");
				return;
			}
			s->state = SS_TLS_WAIT;
			conn_starttls(s->conn, s->srv->tls);
			return;
		}
		/* SASL success: what follows is the restarted stream. */
		s->restart = RESTART_NONE;
	}
}

static void on_tls(void *ud)
{
	struct session *s = ud;

	s->tls = 1;
	if (s->state == SS_TLS_WAIT)
		s->state = SS_HEADER;
	log_debug("%s: TLS established: %s", who(s), conn_tls_desc(s->conn));
}

/* Why a session ended, for the audit trail, from the close reason that
 * conn.c or session_stream_error() gave (a stream error's name). */
static const char *logout_reason(const char *why)
{
	static const struct {
		const char	*why, *reason;
	} map[] = {
		{ "stream closed by client", "client closed" },
		{ "closed by peer", "connection lost" },
		{ "connection error", "connection lost" },
		{ "system-shutdown", "server shutdown" },
		{ "conflict", "replaced by a new login" },
		{ "connection-timeout", "timeout" },
		{ "policy-violation", "refused by policy" },
		{ "not-authorized", "account removed or not authorized" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(why, map[i].why) == 0)
			return map[i].reason;
	return why;	/* another stream error by name, or a TLS failure */
}

static void on_close(void *ud, const char *why)
{
	struct session *s = ud;
	struct server *srv = s->srv;

	if (s->full != NULL) {
		log_info("%s: session ended (%s)", who(s), why);
		server_audit(srv, "logout", s->user, s->addr,
		    "resource=%s reason=%s", s->jid.resource ?
		    s->jid.resource : "", logout_reason(why));
		router_unbind(srv->router, s);
	} else {
		log_info("%s: closed (%s)", who(s), why);
	}
	if (s->unauth_counted)
		addrlimit_release(srv->addrlimit, s->addr);
	if (s->all_prev != NULL)
		s->all_prev->all_next = s->all_next;
	else
		srv->sessions = s->all_next;
	if (s->all_next != NULL)
		s->all_next->all_prev = s->all_prev;
	srv->nsessions--;
	event_free(s->timer);
	if (s->rl_timer != NULL)
		event_free(s->rl_timer);
	xml_stream_free(s->xs);
	scram_server_free(s->scram);
	free(s->sasl_user);
	free(s->user);
	free(s->full);
	free(s->bare);
	jid_free(&s->jid);
	if (s->presence != NULL)
		xml_stanza_free(s->presence);
	free(s->presence_xml);
	for (size_t i = 0; i < s->ndirected; i++)
		free(s->directed[i]);
	free(s->directed);
	held_free(s);
	im_caps_free(s);
	im_register_free(s);
	free(s);
}

static void send_ping(struct session *s)
{
	char iq[160];
	int n;

	n = snprintf(iq, sizeof(iq), "<iq type='get' id='ping-%llu' to='%s'"
	    "><ping xmlns='" NS_PING "'/></iq>", (unsigned long long)s->id,
	    s->full);
	/* The full JID was checked at bind time; it may be too long for
	 * the stack buffer, and then the bare iq is enough. */
	if (n < 0 || (size_t)n >= sizeof(iq))
		n = snprintf(iq, sizeof(iq), "<iq type='get' id='ping-%llu'>"
		    "<ping xmlns='" NS_PING "'/></iq>",
		    (unsigned long long)s->id);
	session_send_raw(s, iq, (size_t)n);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	const struct config *cfg = s->srv->cfg;
	uint64_t now, idle, ping_at, next;

	if (s->state == SS_CLOSED)
		return;
	if (s->state != SS_ACTIVE) {
		if (s->state == SS_SASL_WAIT) {
			backoff_done(s);
			return;
		}
		session_stream_error(s, SE_CONNECTION_TIMEOUT,
		    "log in within the time allowed");
		return;
	}
	/* Dead-peer detection: after ping_interval of silence, ping; if
	 * ping_timeout passes after that without a byte, the peer is gone. */
	now = clock_mono_ms();
	idle = now - s->last_read_ms;
	ping_at = (uint64_t)cfg->ping_interval * 1000;
	if (s->ping_out && now - s->ping_sent_ms >=
	    (uint64_t)cfg->ping_timeout * 1000) {
		session_stream_error(s, SE_CONNECTION_TIMEOUT,
		    "no answer to ping");
		return;
	}
	if (!s->ping_out && idle >= ping_at) {
		send_ping(s);
		s->ping_out = 1;
		s->ping_sent_ms = now;
	}
	next = s->ping_out ? s->ping_sent_ms +
	    (uint64_t)cfg->ping_timeout * 1000 - now : ping_at - idle;
	/* A quiet session gives its parser memory back until it speaks
	 * again (most sessions are idle most of the time). */
	if (idle >= SESSION_HIBERNATE_MS) {
		if (!xml_stream_hibernate(s->xs) && next > SESSION_HIBERNATE_MS)
			next = SESSION_HIBERNATE_MS;
	} else if (next > SESSION_HIBERNATE_MS - idle) {
		next = SESSION_HIBERNATE_MS - idle;
	}
	arm_timer_ms(s, next);
}

/* ---- stream level ------------------------------------------------------ */

static void send_features(struct session *s, struct buf *b)
{
	buf_puts(b, "<stream:features>");
	if (!s->tls) {
		buf_puts(b, "<starttls xmlns='" NS_TLS "'><required/>"
		    "</starttls>");
		s->state = SS_TLS_NEG;
	} else if (!s->authed) {
		buf_puts(b, "<mechanisms xmlns='" NS_SASL "'>"
		    "<mechanism>SCRAM-SHA-256</mechanism>"
		    "<mechanism>SCRAM-SHA-1</mechanism>");
		if (s->srv->cfg->allow_plain)
			buf_puts(b, "<mechanism>PLAIN</mechanism>");
		buf_puts(b, "</mechanisms>");
		im_register_features(s, b);
		s->state = SS_AUTH;
	} else {
		buf_puts(b, "<bind xmlns='" NS_BIND "'/>"
		    "<session xmlns='" NS_SESSION "'><optional/></session>"
		    "<ver xmlns='" NS_ROSTERVER "'/>"
		    "<sub xmlns='" NS_PREAPPROVAL "'/>"
		    "<csi xmlns='" NS_CSI "'/>");
		s->state = SS_BIND;
	}
	buf_puts(b, "</stream:features>");
}

static void on_stream_open(void *ud, const struct xml_node *hdr,
    const char *default_ns)
{
	struct session *s = ud;
	struct buf b = BUF_INIT;
	const char *to = xml_attr(hdr, "to");
	const char *ver = xml_attr(hdr, "version");
	struct jid j;

	if (s->state != SS_HEADER) {
		session_stream_error(s, SE_INVALID_XML, "unexpected header");
		return;
	}
	if (strcmp(default_ns, NS_CLIENT) != 0) {
		session_stream_error(s, SE_INVALID_NAMESPACE,
		    "the default namespace must be jabber:client");
		return;
	}
	if (ver == NULL || strncmp(ver, "1.", 2) != 0) {
		session_stream_error(s, SE_UNSUPPORTED_VERSION,
		    "XMPP 1.0 streams only (version='1.0')");
		return;
	}
	if (to == NULL) {
		session_stream_error(s, SE_HOST_UNKNOWN,
		    "the stream header must name this server in 'to'");
		return;
	}
	if (jid_parse(to, &j) != 0 || j.local != NULL || j.resource != NULL ||
	    strcmp(j.domain, s->srv->cfg->domain) != 0) {
		if (j.domain != NULL)
			jid_free(&j);
		session_stream_error(s, SE_HOST_UNKNOWN,
		    "this server does not serve that domain");
		return;
	}
	jid_free(&j);
	stream_header(s, &b);
	send_features(s, &b);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void on_stream_close(void *ud)
{
	struct session *s = ud;

	if (s->state == SS_CLOSED)
		return;
	conn_write(s->conn, "</stream:stream>", 16);
	s->state = SS_CLOSED;
	xml_stream_suspend(s->xs);
	conn_close(s->conn, "stream closed by client");
}

static void on_xml_error(void *ud, enum xml_error err, const char *text)
{
	struct session *s = ud;
	static const enum stream_err map[] = {
		[XML_ERR_NOT_WELL_FORMED] = SE_NOT_WELL_FORMED,
		[XML_ERR_RESTRICTED] = SE_RESTRICTED_XML,
		[XML_ERR_POLICY] = SE_POLICY_VIOLATION,
		[XML_ERR_BAD_FORMAT] = SE_BAD_FORMAT,
		[XML_ERR_INVALID_NS] = SE_INVALID_NAMESPACE,
	};

	session_stream_error(s, map[err], text);
}

/* ---- SASL (RFC 6120 6) ------------------------------------------------- */

static void sasl_reply(struct session *s, const char *elem,
    const struct buf *payload)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "<%s xmlns='" NS_SASL "'", elem);
	if (payload == NULL) {
		buf_puts(&b, "/>");
	} else {
		buf_putc(&b, '>');
		if (payload->len == 0)
			buf_putc(&b, '=');
		else
			base64_encode(payload->data, payload->len, &b);
		buf_printf(&b, "</%s>", elem);
	}
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void sasl_failure(struct session *s, const char *cond,
    const char *text)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "<failure xmlns='" NS_SASL "'><%s/>", cond);
	if (text != NULL) {
		buf_puts(&b, "<text xml:lang='en'>");
		buf_put_xml_escaped(&b, text, strlen(text));
		buf_puts(&b, "</text>");
	}
	buf_puts(&b, "</failure>");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
	scram_server_free(s->scram);
	s->scram = NULL;
	free(s->sasl_user);
	s->sasl_user = NULL;
	s->state = SS_AUTH;
}

static void backoff_done(struct session *s)
{
	sasl_failure(s, "not-authorized", "wrong username or password");
	conn_pause(s->conn, 0);
	if (s->auth_failures >= MAX_AUTH_FAILURES)
		session_stream_error(s, SE_POLICY_VIOLATION,
		    "too many failed logins on this connection");
	else
		arm_deadline(s);
}

/* A wrong password: count it, log it (never the password), and answer
 * only after the back-off, reading nothing meanwhile. */
static void auth_failed(struct session *s, const char *user)
{
	unsigned count, delay;
	int known;

	delay = authfail_record(s->srv->authfail, user ? user : "",
	    s->addr, &count);
	s->auth_failures++;
	metrics.auth_failures++;
	/* A name that is no account is often a password typed one field
	 * too early: it is kept neither in the audit trail nor in the log. */
	known = user != NULL && user[0] != '\0' &&
	    store_user_exists(s->srv->store, user) == STORE_OK;
	if (known)
		server_audit(s->srv, "login-failed", user, s->addr,
		    "mechanism=%s", s->mech);
	else
		server_audit(s->srv, "login-failed", NULL, s->addr,
		    "unknown account mechanism=%s", s->mech);
	log_warn("%s: authentication failed for %s%s%s (%s) from %s; "
	    "%u recent failures, answering in %u ms", who(s),
	    known ? user : "an unknown account", known ? "@" : "",
	    known ? s->srv->cfg->domain : "", s->mech, s->addr, count,
	    delay);
	s->state = SS_SASL_WAIT;
	conn_pause(s->conn, 1);
	evtimer_del(s->timer);
	arm_timer_ms(s, delay);
}

static void auth_succeeded(struct session *s, const char *user,
    const struct buf *final)
{
	sasl_reply(s, "success", final);
	s->authed = 1;
	metrics.logins++;
	s->user = xstrdup(user);
	if (s->unauth_counted) {
		addrlimit_release(s->srv->addrlimit, s->addr);
		s->unauth_counted = 0;
	}
	log_info("conn %llu: %s@%s authenticated (%s, %s)",
	    (unsigned long long)s->id, user, s->srv->cfg->domain, s->mech,
	    conn_tls_desc(s->conn));
	scram_server_free(s->scram);
	s->scram = NULL;
	s->state = SS_HEADER;
	s->restart = RESTART_SASL;
	xml_stream_suspend(s->xs);
}

static int sasl_payload(struct session *s, const struct xml_node *el,
    struct buf *out)
{
	struct buf text = BUF_INIT;
	int rc = 0;

	xml_text(el, &text);
	if (text.len == 1 && text.data[0] == '=')
		text.len = 0;	/* "=" is an empty response */
	if (text.len > PARLEY_SASL_MSG_MAX * 4 / 3 + 4 ||
	    base64_decode(buf_str(&text), text.len, out) != 0)
		rc = -1;
	buf_free(&text);
	return rc;
}

static void plain_auth(struct session *s, const struct buf *msg)
{
	const char *p = msg->data, *end = msg->data + msg->len;
	const char *authzid, *authcid, *pass;
	size_t zl, cl, pl;
	char *user = NULL;
	struct scram_creds creds;
	int ok = 0;

	/* authzid NUL authcid NUL passwd (RFC 4616) */
	authzid = p;
	zl = strnlen(p, (size_t)(end - p));
	if (authzid + zl >= end)
		goto malformed;
	authcid = authzid + zl + 1;
	cl = strnlen(authcid, (size_t)(end - authcid));
	if (authcid + cl >= end)
		goto malformed;
	pass = authcid + cl + 1;
	pl = (size_t)(end - pass);
	if (cl == 0 || pl == 0 || memchr(pass, '\0', pl) != NULL ||
	    pl > PARLEY_PASSWORD_MAX)
		goto malformed;
	{
		char *cid = xstrndup(authcid, cl);
		user = jid_localpart_prep(cid);
		free(cid);
	}
	if (zl > 0 && user != NULL) {
		struct buf want = BUF_INIT;
		buf_printf(&want, "%s@%s", user, s->srv->cfg->domain);
		if (zl != want.len || memcmp(authzid, want.data, zl) != 0) {
			buf_free(&want);
			free(user);
			sasl_failure(s, "invalid-authzid",
			    "you may only act as yourself");
			return;
		}
		buf_free(&want);
	}
	if (user != NULL && store_user_get_creds(s->srv->store, user,
	    SCRAM_SHA256, &creds) == STORE_OK)
		ok = scram_check_password(&creds, pass, pl);
	wipe(&creds, sizeof(creds));
	if (ok) {
		auth_succeeded(s, user, NULL);
	} else {
		auth_failed(s, user);
	}
	free(user);
	return;
malformed:
	sasl_failure(s, "malformed-request", "PLAIN needs authzid, "
	    "authcid and password separated by NUL");
}

static void scram_step(struct session *s, const struct buf *msg)
{
	struct buf out = BUF_INIT;
	enum scram_rc rc;

	if (s->sasl_user == NULL) {
		const char *uname;
		struct scram_creds creds, *cp = NULL;
		enum scram_hash h = strcmp(s->mech, "SCRAM-SHA-1") == 0 ?
		    SCRAM_SHA1 : SCRAM_SHA256;

		rc = scram_server_client_first(s->scram, msg->data, msg->len,
		    &uname);
		if (rc != SCRAM_OK)
			goto fail;
		s->sasl_user = jid_localpart_prep(uname);
		if (s->sasl_user == NULL)
			s->sasl_user = xstrdup("");
		if (s->sasl_user[0] != '\0' && store_user_get_creds(
		    s->srv->store, s->sasl_user, h, &creds) == STORE_OK)
			cp = &creds;
		rc = scram_server_first(s->scram, cp,
		    s->srv->cfg->scram_iterations, &out);
		wipe(&creds, sizeof(creds));
		if (rc != SCRAM_OK)
			goto fail;
		sasl_reply(s, "challenge", &out);
		buf_free(&out);
		return;
	}
	rc = scram_server_client_final(s->scram, msg->data, msg->len, &out);
	if (rc == SCRAM_OK && s->sasl_user[0] != '\0') {
		auth_succeeded(s, s->sasl_user, &out);
		buf_free(&out);
		return;
	}
fail:
	buf_free(&out);
	switch (rc) {
	case SCRAM_ERR_PROOF:
	case SCRAM_OK:		/* decoy exchange for an unknown user */
		auth_failed(s, s->sasl_user);
		break;
	case SCRAM_ERR_CB:
		sasl_failure(s, "not-authorized",
		    "channel binding is not offered on this server");
		break;
	case SCRAM_ERR_AUTHZID:
		sasl_failure(s, "invalid-authzid",
		    "you may only act as yourself");
		break;
	case SCRAM_ERR_NONCE:
		sasl_failure(s, "not-authorized", "nonce mismatch");
		break;
	default:
		sasl_failure(s, "malformed-request",
		    "not a valid SCRAM message");
		break;
	}
}

static void sasl_auth(struct session *s, const struct xml_node *el)
{
	const char *mech = xml_attr(el, "mechanism");
	struct buf msg = BUF_INIT;

	if (mech != NULL && strcmp(mech, "SCRAM-SHA-256") == 0) {
		s->mech = "SCRAM-SHA-256";
		s->scram = scram_server_new(SCRAM_SHA256);
	} else if (mech != NULL && strcmp(mech, "SCRAM-SHA-1") == 0) {
		s->mech = "SCRAM-SHA-1";
		s->scram = scram_server_new(SCRAM_SHA1);
	} else if (mech != NULL && strcmp(mech, "PLAIN") == 0 &&
	    s->srv->cfg->allow_plain && s->tls) {
		s->mech = "PLAIN";
	} else {
		sasl_failure(s, "invalid-mechanism",
		    "offered mechanisms: SCRAM-SHA-256, SCRAM-SHA-1");
		return;
	}
	if (sasl_payload(s, el, &msg) != 0) {
		sasl_failure(s, "incorrect-encoding", "invalid base64");
		goto out;
	}
	s->state = SS_SASL;
	if (msg.len == 0) {
		/* No initial response: ask for it with an empty challenge. */
		sasl_reply(s, "challenge", &msg);
		goto out;
	}
	if (strcmp(s->mech, "PLAIN") == 0)
		plain_auth(s, &msg);
	else
		scram_step(s, &msg);
out:
	if (msg.data != NULL)
		wipe(msg.data, msg.len);
	buf_free(&msg);
}

static void sasl_response(struct session *s, const struct xml_node *el)
{
	struct buf msg = BUF_INIT;

	if (sasl_payload(s, el, &msg) != 0)
		sasl_failure(s, "incorrect-encoding", "invalid base64");
	else if (strcmp(s->mech, "PLAIN") == 0)
		plain_auth(s, &msg);
	else
		scram_step(s, &msg);
	if (msg.data != NULL)
		wipe(msg.data, msg.len);
	buf_free(&msg);
}

/* ---- resource binding (RFC 6120 7) -------------------------------------- */

static void send_iq_result(struct session *s, const struct xml_node *iq,
    struct xml_stanza *payload_owner, struct xml_node *payload)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "iq");
	struct xml_node *root = xml_root(st);
	const char *id = xml_attr(iq, "id");

	xml_set_attr(st, root, "type", "result");
	if (id != NULL)
		xml_set_attr(st, root, "id", id);
	if (payload != NULL)
		xml_add_copy(st, root, payload);
	session_send(s, root);
	xml_stanza_free(st);
}

static void handle_bind(struct session *s, const struct xml_node *iq,
    const struct xml_node *bind)
{
	struct xml_node *rn = xml_child(bind, NS_BIND, "resource");
	struct buf res = BUF_INIT;
	struct xml_stanza *st;
	struct xml_node *b, *j;
	enum bind_rc rc;

	if (rn != NULL)
		xml_text(rn, &res);
	rc = router_bind(s->srv->router, s, res.len ? res.data : NULL);
	buf_free(&res);
	if (rc == BIND_BAD_RESOURCE) {
		session_send_error(s, iq, ERR_BAD_REQUEST,
		    "that resource is not a valid JID resourcepart");
		return;
	}
	if (rc == BIND_LIMIT) {
		session_send_error(s, iq, ERR_RESOURCE_CONSTRAINT,
		    "too many sessions for this account");
		return;
	}
	st = xml_stanza_new(NS_BIND, "bind");
	b = xml_root(st);
	j = xml_add_child(st, b, NS_BIND, "jid");
	xml_add_text(st, j, s->full, strlen(s->full));
	send_iq_result(s, iq, st, b);
	xml_stanza_free(st);
	s->state = SS_ACTIVE;
	metrics_observe(&metrics.login_time,
	    (clock_mono_ms() - s->accepted_ms) * 1000000u);
	s->bound_ms = s->active_ms = clock_mono_ms();
	log_info("%s: bound", who(s));
	server_audit(s->srv, "login", s->user, s->addr,
	    "resource=%s mechanism=%s tls=%s", s->jid.resource ?
	    s->jid.resource : "", s->mech ? s->mech : "?",
	    conn_tls_desc(s->conn));
	evtimer_del(s->timer);
	arm_timer_ms(s, first_check_ms(s));
}

/* ---- per-account rate limits (xmpp/ratelimit.h) ----------------------- */

/* At most one "rate limited" log line per session this often: a flood
 * must not flood the log. */
#define RL_LOG_EVERY_MS	10000u

static void rl_resume(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state != SS_CLOSED)
		conn_pause(s->conn, 0);
}

/* Reads nothing more from s for ms (capped): a flood then goes at the
 * pace its bucket refills, and the loop serves everyone else meanwhile.
 * What was already read is still parsed, and refused in turn. */
static void rl_pause(struct session *s, uint64_t ms)
{
	uint64_t now = clock_mono_ms();
	struct timeval tv;

	if (ms > PARLEY_RATE_PAUSE_MAX_MS)
		ms = PARLEY_RATE_PAUSE_MAX_MS;
	if (ms == 0)
		ms = 1;
	if (s->rl_timer == NULL)
		s->rl_timer = evtimer_new(s->srv->base, rl_resume, s);
	else if (evtimer_pending(s->rl_timer, NULL) &&
	    s->rl_until_ms >= now + ms)
		return;
	s->rl_until_ms = now + ms;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	conn_pause(s->conn, 1);
	evtimer_add(s->rl_timer, &tv);
}

static void rl_log(struct session *s, enum rl_verdict v)
{
	uint64_t now = clock_mono_ms();

	s->rl_refused++;
	if (s->rl_logged_ms != 0 && now - s->rl_logged_ms < RL_LOG_EVERY_MS)
		return;
	log_warn("%s: rate limited (%s); %u stanzas refused since the last "
	    "such line", who(s), ratelimit_name(v), s->rl_refused);
	s->rl_logged_ms = now;
	s->rl_refused = 0;
}

/* No stranger: a subscription either way, or one who asked for one.  An
 * item the user merely added is not enough: anyone can add a thousand. */
static int rl_known(void *ud, const char *to)
{
	struct session *s = ud;
	struct roster_item it;
	int known;

	memset(&it, 0, sizeof(it));
	if (store_roster_get(s->srv->store, s->user, to, &it) != STORE_OK)
		return 0;
	known = it.sub != SUB_NONE || it.pending_in;
	roster_item_clear(&it);
	return known;
}

/* A message that starts or continues a conversation with someone else:
 * not an error, not to a room, not to the user's own account or the
 * server. */
static int writes_to(const struct session *s, const char *type,
    const struct jid *to)
{
	if (to == NULL || to->local == NULL)
		return 0;
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    strcmp(type, "groupchat") == 0))
		return 0;
	return strcmp(to->local, s->user) != 0 ||
	    strcmp(to->domain, s->srv->cfg->domain) != 0;
}

/*
 * The one place where the per-account rate limits are enforced, for every
 * stanza a bound session sends, before it is routed.  Returns 0 to route
 * it; -1 when it was refused: answered with policy-violation (type wait,
 * RFC 6120 8.3.3.12) saying which limit, unless it is an error or an IQ
 * response (errors are never answered with errors, and a response has
 * nobody to tell), and the connection reads nothing until that limit has
 * room.  Presence is refused like the rest (RFC 6121 allows presence
 * errors, and the client learns its update did not go out), except going
 * offline: refusing that would leave the user shown online.
 */
static int rate_check(struct session *s, const struct xml_node *root,
    const struct jid *to)
{
	struct ratelimit *rl = s->srv->ratelimit;
	const char *type = xml_attr(root, "type");
	enum rl_bucket kind;
	enum rl_verdict v;
	uint64_t wait;
	char text[256];

	kind = strcmp(root->name, "message") == 0 ? RL_MESSAGE :
	    strcmp(root->name, "presence") == 0 ? RL_PRESENCE : RL_IQ;
	v = ratelimit_charge(rl, s->user, kind, xml_stream_last_size(s->xs),
	    &wait);
	if (v == RL_PASS && kind == RL_MESSAGE && writes_to(s, type, to)) {
		struct buf b = BUF_INIT;

		jid_bare_str(to, &b);
		v = ratelimit_recipient(rl, s->user, buf_str(&b), rl_known, s,
		    &wait);
		buf_free(&b);
	}
	if (v == RL_PASS)
		return 0;
	if (kind == RL_PRESENCE && to == NULL && s->available &&
	    type != NULL && strcmp(type, "unavailable") == 0)
		return 0;
	{
		static const enum metrics_limit lim[] = {
			[RL_OVER_MESSAGES] = ML_MESSAGES,
			[RL_OVER_PRESENCE] = ML_PRESENCE,
			[RL_OVER_IQ] = ML_IQ,
			[RL_OVER_BYTES] = ML_BYTES,
			[RL_OVER_RECIPIENTS] = ML_RECIPIENTS,
		};

		metrics.rate_limited[lim[v]]++;
	}
	rl_log(s, v);
	{
		char what[64];

		snprintf(what, sizeof(what), "limit=%s", ratelimit_name(v));
		audit_hit(s->srv, "rate-limit", s->user, s->addr, what, NULL);
	}
	rl_pause(s, wait);
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    (kind == RL_IQ && strcmp(type, "result") == 0)))
		return -1;
	ratelimit_explain_for(rl, s->user, v, text, sizeof(text));
	send_error_reply(s, root, stanza_error_reply_type(root,
	    ERR_POLICY_VIOLATION, "wait", text));
	return -1;
}

/* ---- stanzas ------------------------------------------------------------ */

static int is_stanza(const struct xml_node *el)
{
	return strcmp(el->ns, NS_CLIENT) == 0 &&
	    (strcmp(el->name, "message") == 0 ||
	    strcmp(el->name, "presence") == 0 ||
	    strcmp(el->name, "iq") == 0);
}

/*
 * RFC 6120 8.1.2.1: the server stamps 'from' with the full JID.  A client
 * may give its own bare or full JID; anything else is an attempt to speak
 * as someone else.
 */
static int stamp_from(struct session *s, struct xml_stanza *st)
{
	struct xml_node *root = xml_root(st);
	const char *from = xml_attr(root, "from");
	struct jid j;
	int ok;

	if (from != NULL) {
		if (jid_parse(from, &j) != 0)
			return -1;
		ok = jid_full_eq(&j, &s->jid) || (j.resource == NULL &&
		    jid_bare_eq(&j, &s->jid));
		jid_free(&j);
		if (!ok)
			return -1;
	}
	xml_set_attr(st, root, "from", s->full);
	return 0;
}

static void active_stanza(struct session *s, struct xml_stanza *st)
{
	struct xml_node *root = xml_root(st);
	const char *type = xml_attr(root, "type");
	const char *to = xml_attr(root, "to");
	struct jid j;

	if (stamp_from(s, st) != 0) {
		xml_stanza_free(st);
		session_stream_error(s, SE_INVALID_FROM,
		    "'from' must be your own JID");
		return;
	}
	memset(&j, 0, sizeof(j));
	if (to != NULL) {
		if (jid_parse(to, &j) != 0) {
			session_send_error(s, root, ERR_JID_MALFORMED,
			    "the 'to' address is not a valid JID");
			xml_stanza_free(st);
			return;
		}
		/* Route on the normalised form. */
		{
			struct buf b = BUF_INIT;
			jid_full_str(&j, &b);
			xml_set_attr(st, root, "to", b.data);
			buf_free(&b);
		}
	}
	if (s->srv->ratelimit != NULL &&
	    rate_check(s, root, to != NULL ? &j : NULL) != 0)
		goto drop;
	/* Idle logoff counts what a person does, not keep-alives. */
	if (policy_is_activity(root))
		s->active_ms = s->last_read_ms;	/* read this turn */
	if (strcmp(root->name, "iq") == 0) {
		const char *id = xml_attr(root, "id");
		int getset = type && (strcmp(type, "get") == 0 ||
		    strcmp(type, "set") == 0);

		if (type == NULL || (!getset && strcmp(type, "result") != 0 &&
		    strcmp(type, "error") != 0)) {
			session_send_error(s, root, ERR_BAD_REQUEST,
			    "an iq needs type get, set, result or error");
			goto drop;
		}
		if (id == NULL || (getset && xml_count_elems(root) != 1)) {
			session_send_error(s, root, ERR_BAD_REQUEST, id == NULL ?
			    "an iq needs an id" :
			    "an iq get or set needs exactly one child element");
			goto drop;
		}
	} else if (strcmp(root->name, "presence") == 0 && type != NULL) {
		static const char *const ok[] = { "unavailable", "subscribe",
		    "subscribed", "unsubscribe", "unsubscribed", "probe",
		    "error" };
		size_t i;

		for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			if (strcmp(type, ok[i]) == 0)
				break;
		if (i == sizeof(ok) / sizeof(ok[0])) {
			session_send_error(s, root, ERR_BAD_REQUEST,
			    "unknown presence type");
			goto drop;
		}
	} else if (strcmp(root->name, "message") == 0 && type != NULL) {
		/* RFC 6121 5.2.2: an unknown type is treated as normal. */
		if (strcmp(type, "chat") != 0 && strcmp(type, "groupchat") != 0
		    && strcmp(type, "headline") != 0 &&
		    strcmp(type, "normal") != 0 && strcmp(type, "error") != 0)
			xml_set_attr(st, root, "type", "normal");
	}
	/* The router takes the parsed 'to' along, not to parse it again. */
	router_route(s->srv->router, s, st, to != NULL ? &j : NULL);
	return;
drop:
	jid_free(&j);
	xml_stanza_free(st);
}

static void on_stanza(void *ud, struct xml_stanza *st)
{
	struct session *s = ud;
	struct xml_node *el = xml_root(st);

	switch (s->state) {
	case SS_TLS_NEG:
		if (strcmp(el->ns, NS_TLS) == 0 &&
		    strcmp(el->name, "starttls") == 0) {
			conn_write(s->conn, "<proceed xmlns='" NS_TLS "'/>",
			    sizeof("<proceed xmlns='" NS_TLS "'/>") - 1);
			s->restart = RESTART_TLS;
			s->state = SS_TLS_WAIT;
			xml_stream_suspend(s->xs);
		} else if (strcmp(el->ns, NS_SASL) == 0) {
			session_stream_error(s, SE_POLICY_VIOLATION,
			    "STARTTLS is required before authentication");
		} else {
			session_stream_error(s, SE_NOT_AUTHORIZED,
			    "STARTTLS and log in first");
		}
		break;
	case SS_AUTH:
		if (strcmp(el->ns, NS_SASL) == 0 &&
		    strcmp(el->name, "auth") == 0)
			sasl_auth(s, el);
		else if (strcmp(el->ns, NS_SASL) == 0 &&
		    strcmp(el->name, "abort") == 0)
			sasl_failure(s, "aborted", NULL);
		else if (im_register_preauth(s, el) == 0)
			;	/* in-band registration (XEP-0077) */
		else
			session_stream_error(s, SE_NOT_AUTHORIZED,
			    "log in first");
		break;
	case SS_SASL:
		if (strcmp(el->ns, NS_SASL) == 0 &&
		    strcmp(el->name, "response") == 0)
			sasl_response(s, el);
		else if (strcmp(el->ns, NS_SASL) == 0 &&
		    (strcmp(el->name, "abort") == 0 ||
		    strcmp(el->name, "auth") == 0))
			sasl_failure(s, "aborted", "exchange aborted");
		else
			session_stream_error(s, SE_NOT_AUTHORIZED,
			    "finish logging in first");
		break;
	case SS_SASL_WAIT:
		session_stream_error(s, SE_POLICY_VIOLATION,
		    "wait for the answer to the last login attempt");
		break;
	case SS_BIND:
		if (strcmp(el->name, "iq") == 0 && strcmp(el->ns, NS_CLIENT) == 0) {
			struct xml_node *c = xml_first_elem(el);
			const char *type = xml_attr(el, "type");

			if (c != NULL && type != NULL &&
			    strcmp(type, "set") == 0 &&
			    strcmp(c->ns, NS_BIND) == 0 &&
			    strcmp(c->name, "bind") == 0) {
				handle_bind(s, el, c);
			} else if (c != NULL && strcmp(c->ns, NS_SESSION) == 0) {
				send_iq_result(s, el, NULL, NULL);
			} else {
				session_send_error(s, el, ERR_NOT_AUTHORIZED,
				    "bind a resource first");
			}
		} else {
			session_stream_error(s, SE_NOT_AUTHORIZED,
			    "bind a resource first");
		}
		break;
	case SS_ACTIVE:
		if (is_stanza(el)) {
			enum metrics_kind k = metrics_kind_of(el->name);
			/* One stanza in METRICS_TIME_EVERY is timed: the
			 * histogram keeps its shape, the message path saves
			 * two clock reads per stanza. */
			int timed = ++metrics.stanza_tick %
			    METRICS_TIME_EVERY == 0;
			uint64_t t0 = timed ? metrics_now_ns() : 0;

			/* Counted as read, refused or not: a flood is what
			 * the admin's top talkers must show. */
			metrics.stanzas_in[k]++;
			traffic_stanza(s->srv->traffic, s->user,
			    k == MK_MESSAGE, xml_stream_last_size(s->xs));
			active_stanza(s, st);
			if (timed)
				metrics_observe(&metrics.stanza_time,
				    metrics_now_ns() - t0);
			return;	/* ownership passed on */
		}
		if (strcmp(el->ns, NS_CSI) == 0 &&
		    strcmp(el->name, "inactive") == 0) {
			s->csi_inactive = 1;
			break;
		}
		if (strcmp(el->ns, NS_CSI) == 0 &&
		    strcmp(el->name, "active") == 0) {
			s->csi_inactive = 0;
			session_csi_flush(s);
			break;
		}
		session_stream_error(s, SE_UNSUPPORTED_STANZA_TYPE,
		    "only message, presence and iq are accepted here");
		break;
	default:
		break;
	}
	xml_stanza_free(st);
}
