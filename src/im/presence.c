/*
 * presence.c - presence between the resources of one account, and
 * directed presence (RFC 6121 4).
 *
 * Broadcast presence (no 'to') reaches the user's own available
 * resources; the roster and subscriptions that extend it to contacts are
 * not part of this server yet, so no contact sees anything: nothing leaks
 * by default.  Directed available/unavailable presence goes where the
 * user sent it.  Subscription requests are refused with
 * feature-not-implemented until rosters exist.
 *
 * The last available presence of each session is kept to tell a newly
 * available resource about its siblings (RFC 6121 4.2.2/4.4.2).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

static int priority_of(const struct xml_node *p, int *out)
{
	struct xml_node *n = xml_child(p, NS_CLIENT, "priority");
	struct buf b = BUF_INIT;
	char *end;
	long v;

	*out = 0;
	if (n == NULL)
		return 0;
	xml_text(n, &b);
	v = strtol(buf_str(&b), &end, 10);
	if (b.len == 0 || *end != '\0' || v < -128 || v > 127) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	*out = (int)v;
	return 0;
}

/* Sends the same serialized bytes to every available resource of the
 * account except skip. */
static void to_own_resources(struct session *from, const struct xml_node *p,
    struct session *skip)
{
	struct buf b = BUF_INIT;

	router_serialize(p, &b);
	for (struct session *o = router_sessions(from->srv->router, from->user);
	    o; o = o->acct_next)
		if (o != skip && o->available)
			session_send_raw(o, b.data, b.len);
	buf_free(&b);
}

static void broadcast(struct im_req *req)
{
	struct session *s = req->from;
	int prio, initial;

	if (req->type != NULL && strcmp(req->type, "unavailable") == 0) {
		if (!s->available)
			return;
		s->available = 0;
		if (s->presence != NULL) {
			xml_stanza_free(s->presence);
			s->presence = NULL;
		}
		to_own_resources(s, req->stanza, s);
		return;
	}
	if (req->type != NULL)
		return;	/* subscription types without 'to' mean nothing */
	if (priority_of(req->stanza, &prio) != 0) {
		im_error(req, ERR_BAD_REQUEST,
		    "priority must be an integer from -128 to 127");
		return;
	}
	initial = !s->available;
	s->available = 1;
	s->priority = prio;
	if (s->presence != NULL)
		xml_stanza_free(s->presence);
	s->presence = xml_stanza_copy(req->st);
	/* Every available resource hears it, the sender included. */
	to_own_resources(s, req->stanza, NULL);
	if (!initial)
		return;
	for (struct session *o = router_sessions(s->srv->router, s->user); o;
	    o = o->acct_next)
		if (o != s && o->available && o->presence != NULL)
			session_send(s, xml_root(o->presence));
}

void im_presence(struct im_req *req)
{
	struct session *to;
	const char *type = req->type;

	if (!req->has_to) {
		broadcast(req);
		return;
	}
	if (type != NULL && strcmp(type, "unavailable") != 0 &&
	    strcmp(type, "error") != 0) {
		if (strcmp(type, "probe") != 0)
			im_error(req, ERR_FEATURE_NOT_IMPLEMENTED,
			    "subscriptions are not supported yet");
		return;
	}
	switch (req->target) {
	case T_RESOURCE:
		to = router_session(req->srv->router, req->to.local,
		    req->to.resource);
		if (to != NULL)
			session_send(to, req->stanza);
		break;
	case T_SELF:
	case T_ACCOUNT:
		if (type != NULL && strcmp(type, "error") == 0)
			break;
		for (to = router_sessions(req->srv->router, req->to.local);
		    to; to = to->acct_next)
			if (to->available)
				session_send(to, req->stanza);
		break;
	default:
		break;	/* presence to the server itself: nothing to do */
	}
}

void im_presence_session_ended(struct session *s)
{
	struct xml_stanza *st;
	struct xml_node *root;

	if (!s->available)
		return;
	s->available = 0;
	st = xml_stanza_new(NS_CLIENT, "presence");
	root = xml_root(st);
	xml_set_attr(st, root, "from", s->full);
	xml_set_attr(st, root, "type", "unavailable");
	to_own_resources(s, root, s);
	xml_stanza_free(st);
}
