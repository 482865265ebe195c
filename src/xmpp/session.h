/*
 * session.h - one client stream and its state machine (RFC 6120 4-7):
 * stream header, STARTTLS, SASL, resource binding, then stanzas.
 *
 * The state moves only forward:
 *   HEADER -> TLS_NEG -> (TLS handshake) -> HEADER -> AUTH <-> SASL
 *   -> (restart) HEADER -> BIND -> ACTIVE -> CLOSED
 * (direct-TLS connections start with TLS up and skip TLS_NEG).  Before
 * ACTIVE only stream-level elements are accepted; in ACTIVE every stanza is
 * checked and stamped here (to parsed, from set to the full JID, type
 * checked) and charged to the account's rate limits (xmpp/ratelimit.h)
 * before the router sees it; before authentication, a connection's bytes
 * are bounded by [c2s] max_unauth_bytes.
 *
 * Lifetime: created on accept, freed when its connection reports closed
 * (never inside a callback).  session_close() and session_stream_error()
 * only start the close.  The router's account lists point at sessions;
 * a session leaves them before it is freed.
 */
#ifndef PARLEY_XMPP_SESSION_H
#define PARLEY_XMPP_SESSION_H

#include <stdint.h>

#include <event2/event.h>

#include "core/buf.h"
#include "xml/xml.h"
#include "xmpp/errors.h"
#include "xmpp/jid.h"
#include "xmpp/scram.h"

struct server;
struct conn;
struct xml_stream;
struct im_caps;
struct im_register;

enum session_state {
	SS_HEADER,	/* waiting for a stream header */
	SS_TLS_NEG,	/* features sent, STARTTLS required */
	SS_TLS_WAIT,	/* <proceed/> sent, handshake pending */
	SS_AUTH,	/* TLS up, waiting for <auth/> */
	SS_SASL,	/* SCRAM exchange in progress */
	SS_SASL_WAIT,	/* failure held back by the back-off */
	SS_BIND,	/* authenticated, waiting for resource binding */
	SS_ACTIVE,	/* bound: stanzas are routed */
	SS_CLOSED,	/* closing: input ignored */
};

struct session {
	struct server		*srv;
	struct conn		*conn;
	struct xml_stream	*xs;
	uint64_t		 id;		/* for log lines */
	enum session_state	 state;
	char			 addr[46];	/* peer address: logs only */
	char			 stream_id[32];	/* 24 hex digits */
	unsigned		 tls:1;
	unsigned		 authed:1;
	unsigned		 header_sent:1;
	unsigned		 unauth_counted:1; /* holds an addrlimit slot */
	unsigned		 restart:2;	/* RESTART_* after suspend */
	unsigned		 available:1;	/* sent available presence */
	unsigned		 ping_out:1;	/* server ping unanswered */
	unsigned		 roster_requested:1; /* interested (RFC 6121 2.1.6) */
	unsigned		 blocklist_requested:1; /* XEP-0191 pushes */
	unsigned		 carbons:1;	/* XEP-0280 enabled */
	unsigned		 csi_inactive:1; /* XEP-0352 */

	/* SASL */
	struct scram_server	*scram;
	const char		*mech;
	char			*sasl_user;	/* normalised localpart */
	unsigned		 auth_failures;
	size_t			 unauth_bytes;	/* read before SASL success */

	/* after bind */
	char			*user;		/* localpart, after SASL */
	struct jid		 jid;		/* full JID, after bind */
	char			*full;		/* "local@domain/res" */
	char			*bare;		/* "local@domain" */
	int			 priority;
	struct xml_stanza	*presence;	/* last available presence */
	char			*presence_xml;	/* the same, serialized once */
	size_t			 presence_len;
	char			**directed;	/* JIDs given directed presence */
	size_t			 ndirected;
	struct csi_held		*held;		/* presence held while inactive */
	size_t			 nheld;
	/* XEP-0115 caps and the PEP nodes this resource wants events for
	 * (+notify); owned by im/caps.c, freed with im_caps_free(). */
	struct im_caps		*caps;
	/* In-band registration on this connection (im/register.c). */
	struct im_register	*reg;

	struct event		*timer;		/* auth deadline / pings */
	/* Rate limits: resumes reading after a pause (made when first
	 * needed), and what the log was last told. */
	struct event		*rl_timer;
	uint64_t		 rl_until_ms;	/* reading resumes then */
	uint64_t		 rl_logged_ms;
	unsigned		 rl_refused;	/* since the last log line */
	uint64_t		 last_read_ms;
	uint64_t		 accepted_ms;	/* for parley_login_seconds */
	uint64_t		 ping_sent_ms;	/* when ping_out was set */
	uint64_t		 deadline_ms;	/* log in and bind before */
	/* Idle logoff and max_session (xmpp/policy.h): when bound, and
	 * the last stanza that showed a person at work. */
	uint64_t		 bound_ms;
	uint64_t		 active_ms;
	struct session		*acct_next;	/* router: same account */
	struct session		*all_next, *all_prev; /* server list */
};

struct session *session_new(struct server *srv, evutil_socket_t fd,
	    const char *addr, int direct_tls);
/* Queues serialized bytes to the client. */
void	 session_send_raw(struct session *s, const char *data, size_t len);
/* Serializes one stanza (namespace jabber:client in scope) and queues it. */
void	 session_send(struct session *s, const struct xml_node *stanza);
/* Sends a stream error with text, closes the stream, then the socket. */
void	 session_stream_error(struct session *s, enum stream_err e,
	    const char *text);
/*
 * Queues presence from 'from' (its full JID) for the client.  While the
 * client is inactive (XEP-0352) the newest presence per sender is held
 * back instead, and flushed when it turns active, when anything else is
 * sent to it, or when more than max_csi_held senders are waiting.
 */
void	 session_send_presence(struct session *s, const char *from,
	    const char *data, size_t len);
/* Sends what CSI held back. */
void	 session_csi_flush(struct session *s);
/* Replies to orig (sent by s) with a stanza error. */
void	 session_send_error(struct session *s, const struct xml_node *orig,
	    enum stanza_err e, const char *text);

#endif
