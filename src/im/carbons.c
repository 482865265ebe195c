/*
 * carbons.c - message carbons (XEP-0280): every resource of an account
 * that asked for them sees the chats its siblings send and receive.
 *
 * Eligible: chat messages, and normal messages with a body; never
 * messages marked private (with a no-copy hint), errors, groupchat or
 * headline, nor carbons themselves.  The forwarded copy is the stanza as
 * routed, with the server-stamped 'from'.
 */
#include <string.h>

#include "core/buf.h"
#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

void im_carbons_toggle(struct im_req *req)
{
	struct xml_node *c = xml_first_elem(req->stanza);

	if (req->target != T_SELF) {
		im_error(req, ERR_NOT_ALLOWED, "carbons are per session");
		return;
	}
	req->from->carbons = strcmp(c->name, "enable") == 0;
	im_iq_result(req, NULL);
}

static int eligible(const struct xml_node *msg)
{
	const char *type = xml_attr(msg, "type");

	if (type == NULL || strcmp(type, "normal") == 0) {
		if (xml_child(msg, NS_CLIENT, "body") == NULL)
			return 0;
	} else if (strcmp(type, "chat") != 0) {
		return 0;
	}
	if (xml_child(msg, NS_CARBONS, "private") != NULL &&
	    xml_child(msg, NS_HINTS, "no-copy") != NULL)
		return 0;
	if (xml_child(msg, NS_CARBONS, "received") != NULL ||
	    xml_child(msg, NS_CARBONS, "sent") != NULL)
		return 0;
	return 1;
}

static void send_copy(struct session *to, const char *what,
    const struct xml_node *msg)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "message");
	struct xml_node *root = xml_root(st), *w, *f;
	const char *type = xml_attr(msg, "type");

	xml_set_attr(st, root, "from", to->bare);
	xml_set_attr(st, root, "to", to->full);
	if (type != NULL)
		xml_set_attr(st, root, "type", type);
	w = xml_add_child(st, root, NS_CARBONS, what);
	f = xml_add_child(st, w, NS_FORWARD, "forwarded");
	xml_add_copy(st, f, msg);
	session_send(to, root);
	xml_stanza_free(st);
}

static int in(struct session *s, struct session **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == s)
			return 1;
	return 0;
}

void im_carbons_sent(struct im_req *req)
{
	struct session *s;

	/* Most accounts have no other session asking for copies: find one
	 * before looking at the message at all. */
	for (s = router_sessions(req->srv->router, req->from->user); s;
	    s = s->acct_next)
		if (s != req->from && s->carbons)
			break;
	if (s == NULL || !eligible(req->stanza))
		return;
	for (; s; s = s->acct_next)
		if (s != req->from && s->carbons)
			send_copy(s, "sent", req->stanza);
}

void im_carbons_received(struct im_req *req, struct session **delivered,
    size_t n)
{
	struct session *s;

	if (n == 0)
		return;
	for (s = router_sessions(req->srv->router, req->to.local); s;
	    s = s->acct_next)
		if (s->carbons && !in(s, delivered, n))
			break;
	if (s == NULL || !eligible(req->stanza))
		return;
	for (; s; s = s->acct_next)
		if (s->carbons && !in(s, delivered, n))
			send_copy(s, "received", req->stanza);
}
