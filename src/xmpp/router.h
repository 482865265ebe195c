/*
 * router.h - who is online, and where a stanza goes (RFC 6121 8.5).
 *
 * The router knows every bound session by account (localpart) and
 * resource.  router_route() takes a checked, stamped stanza from a session
 * and decides by its 'to': the server itself, the sender's own account, a
 * local account (bare or full JID), or a remote domain; IQs addressed to
 * the server or an account go to the handler table in im/, message and
 * presence to their im/ handlers, which deliver through router_deliver().
 *
 * Delivery serializes a stanza once and queues the same bytes to each
 * recipient.
 */
#ifndef PARLEY_XMPP_ROUTER_H
#define PARLEY_XMPP_ROUTER_H

#include <stddef.h>

#include "core/buf.h"
#include "xml/xml.h"
#include "xmpp/jid.h"

struct server;
struct session;

struct router;

struct router *router_new(struct server *srv);
void	 router_free(struct router *r);

enum bind_rc { BIND_OK, BIND_LIMIT, BIND_BAD_RESOURCE };

/*
 * Binds s (authenticated as s->user) to resource (NULL: the server picks
 * one).  A session already bound to the same full JID is replaced: it gets
 * a <conflict/> stream error (RFC 6120 7.7.2.2).  BIND_LIMIT when the
 * account already has max_sessions_per_account sessions.
 */
enum bind_rc router_bind(struct router *r, struct session *s,
	    const char *resource);
/* Removes s from the online lists (idempotent). */
void	 router_unbind(struct router *r, struct session *s);

/* The bound sessions of an account (linked by acct_next), or NULL. */
struct session *router_sessions(const struct router *r, const char *local);
/* One bound session, or NULL. */
struct session *router_session(const struct router *r, const char *local,
	    const char *resource);

/* Entry point for a stanza from a bound session; takes ownership of st
 * and of to (its parsed 'to', NULL when the stanza has none). */
void	 router_route(struct router *r, struct session *from,
	    struct xml_stanza *st, struct jid *to);

/* Appends the serialized stanza to out, for sending the same bytes to
 * many sessions with session_send_raw(). */
void	 router_serialize(const struct xml_node *stanza, struct buf *out);

#endif
