/*
 * message.c - delivery of <message/> between local accounts (RFC 6121
 * 8.5).
 *
 * To a full JID: that resource if it is online, else as if to the bare JID
 * (chat, normal, headline) or an error (groupchat).  To a bare JID: chat
 * and normal go to the available resources with the highest non-negative
 * priority, headline to every available resource with non-negative
 * priority.  When nobody can take a chat or normal message it is stored
 * for later (offline.c).
 * Unknown accounts: service-unavailable, never silence, so a typo is seen.
 * A stranger's messages first pass consent.c (first contact needs
 * consent); it holds or drops them.
 */
#include <string.h>

#include "core/buf.h"
#include "im/im.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

static int is_type(const struct im_req *req, const char *t)
{
	const char *type = req->type ? req->type : "normal";

	return strcmp(type, t) == 0;
}

static int account_exists(struct im_req *req)
{
	if (router_sessions(req->srv->router, req->to.local) != NULL)
		return 1;
	return store_user_exists(req->srv->store, req->to.local) == STORE_OK;
}

static void deliver_bare(struct im_req *req)
{
	struct session *s, *best[64];
	size_t n = 0;
	int top = -129;
	int headline = is_type(req, "headline");
	struct buf b = BUF_INIT;

	for (s = router_sessions(req->srv->router, req->to.local); s;
	    s = s->acct_next) {
		if (!s->available || s->priority < 0)
			continue;
		if (headline || s->priority > top) {
			if (!headline)
				n = 0;
			top = s->priority;
		} else if (s->priority < top) {
			continue;
		}
		if (n < sizeof(best) / sizeof(best[0]))
			best[n++] = s;
	}
	if (n == 0) {
		/* RFC 6121 8.5.2.2: nobody online takes it now. */
		if (!headline)
			im_offline_store(req);
		return;
	}
	/* Serialized once, the same bytes to every chosen resource. */
	router_serialize(req->stanza, &b);
	for (size_t i = 0; i < n; i++)
		session_send_raw(best[i], b.data, b.len);
	buf_free(&b);
	im_carbons_received(req, best, n);
}

int im_message_keepable(const struct im_req *req, int subject_counts)
{
	int content = 0;

	if (!is_type(req, "chat") && !is_type(req, "normal"))
		return 0;
	for (struct xml_node *n = xml_first_elem(req->stanza); n;
	    n = xml_next_elem(n)) {
		if (strcmp(n->ns, NS_HINTS) == 0 &&
		    (strcmp(n->name, "no-store") == 0 ||
		    strcmp(n->name, "no-permanent-store") == 0))
			return 0;
		if (strcmp(n->ns, NS_CLIENT) == 0 &&
		    (strcmp(n->name, "body") == 0 ||
		    (subject_counts && strcmp(n->name, "subject") == 0)))
			content = 1;
	}
	return content;
}

void im_message(struct im_req *req)
{
	struct session *to;

	if (is_type(req, "error")) {
		/* An error goes only where it was addressed, if there. */
		if (req->target == T_RESOURCE &&
		    (to = router_session(req->srv->router, req->to.local,
		    req->to.resource)) != NULL && im_consent_allows(req))
			session_send(to, req->stanza);
		return;
	}
	/* Only this server says which ids its archives gave (XEP-0359). */
	im_archive_strip_ids(req);
	im_carbons_sent(req);
	if (req->target == T_SERVER) {
		if (!is_type(req, "headline") && !is_type(req, "groupchat"))
			im_error(req, ERR_SERVICE_UNAVAILABLE,
			    "the server does not take messages");
		return;
	}
	if (!account_exists(req)) {
		im_error(req, ERR_SERVICE_UNAVAILABLE, "no such user");
		return;
	}
	if (!im_consent_allows(req))
		return;
	/* Accepted into the conversation: disclosure, then the archives
	 * (and the stanza-id on the copy delivered), then delivery. */
	if (!is_type(req, "groupchat"))
		im_archive_message(req);
	if (req->target == T_RESOURCE) {
		to = router_session(req->srv->router, req->to.local,
		    req->to.resource);
		if (to != NULL) {
			session_send(to, req->stanza);
			im_carbons_received(req, &to, 1);
			return;
		}
	}
	if (is_type(req, "groupchat")) {
		im_error(req, ERR_SERVICE_UNAVAILABLE,
		    "groupchat messages go to rooms, not users");
		return;
	}
	deliver_bare(req);
}
