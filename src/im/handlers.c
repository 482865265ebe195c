/*
 * handlers.c - THE table of IM features, and the dispatcher.
 *
 * Adding a feature: write its handler in its own file, declare it in im.h,
 * add one row here.  The disco#info feature list is generated from the
 * last column, so the server advertises exactly what is in this table.
 */
#include <stdlib.h>
#include <string.h>

#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

const struct im_handler im_handlers[] = {
	/* kind, iq types, addressed to, child ns, child name,
	 *	handler, disco feature, listed in */
	{ IM_IQ, IQ_GET, T_SERVER | T_SELF, NS_PING, "ping",
	    im_ping, NS_PING, D_SERVER },
	{ IM_IQ, IQ_SET, T_SERVER | T_SELF, NS_SESSION, "session",
	    im_session, NULL, D_NONE },
	{ IM_IQ, IQ_GET, T_SERVER | T_SELF | T_ACCOUNT, NS_DISCO_INFO, "query",
	    im_disco_info, NS_DISCO_INFO, D_SERVER | D_ACCOUNT },
	{ IM_IQ, IQ_GET, T_SERVER | T_SELF | T_ACCOUNT, NS_DISCO_ITEMS, "query",
	    im_disco_items, NS_DISCO_ITEMS, D_SERVER | D_ACCOUNT },
	{ IM_IQ, IQ_GET, T_SELF | T_ACCOUNT, NS_ROSTER, "query",
	    im_roster_get, NULL, D_NONE },
	{ IM_IQ, IQ_SET, T_SELF | T_ACCOUNT, NS_ROSTER, "query",
	    im_roster_set, NULL, D_NONE },
	{ IM_IQ, IQ_SET, T_SELF, NS_CARBONS, "enable",
	    im_carbons_toggle, NS_CARBONS, D_SERVER },
	{ IM_IQ, IQ_SET, T_SELF, NS_CARBONS, "disable",
	    im_carbons_toggle, NULL, D_NONE },
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_PRIVATE, "query",
	    im_private, NS_PRIVATE, D_SERVER },
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_VCARD, "vCard",
	    im_vcard, NS_VCARD, D_SERVER },
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_PUBSUB, "pubsub",
	    im_pep, NULL, D_NONE },
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_PUBSUB_OWNER, "pubsub",
	    im_pep_owner, NULL, D_NONE },
	/* Blocking (XEP-0191) and reports with a block (XEP-0377). */
	{ IM_IQ, IQ_GET, T_SELF, NS_BLOCKING, "blocklist",
	    im_blocklist, NS_BLOCKING, D_SERVER | D_ACCOUNT },
	{ IM_IQ, IQ_SET, T_SELF, NS_BLOCKING, "block",
	    im_block, NULL, D_NONE },
	{ IM_IQ, IQ_SET, T_SELF, NS_BLOCKING, "unblock",
	    im_unblock, NULL, D_NONE },
	{ 0, 0, 0, NULL, NULL, NULL, NS_REPORTING, D_SERVER | D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_REPORTING_0, D_SERVER | D_ACCOUNT },
	/* Not in disco#info: the namespace would name the software. */
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_CONSENT, "policy",
	    im_consent_policy, NULL, D_NONE },
	/* XEP-0077 after login: password change (im/register.c; before
	 * login session.c calls it directly). */
	{ IM_IQ, IQ_GET | IQ_SET, T_SERVER | T_SELF, NS_REGISTER, "query",
	    im_register, NS_REGISTER, D_SERVER },
	/* HTTP File Upload (XEP-0363): slots from the domain itself
	 * (im/upload.c; the HTTP side is http/upload.c). */
	{ IM_IQ, IQ_GET, T_SERVER, NS_HTTP_UPLOAD, "request",
	    im_upload_request, NS_HTTP_UPLOAD, D_SERVER, im_upload_enabled },
	/* Ad-hoc commands (XEP-0050): service administration (XEP-0133)
	 * for [server] admins (im/adhoc.c). */
	{ IM_IQ, IQ_SET, T_SERVER, NS_COMMANDS, "command",
	    im_adhoc_command, NS_COMMANDS, D_SERVER, im_adhoc_enabled },
	/* Message archives (XEP-0313, im/mam.c): listed on the account's
	 * bare JID, as the XEP asks; the decision is im/archive_policy.c. */
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_MAM, "query",
	    im_mam_query, NS_MAM, D_ACCOUNT },
	{ IM_IQ, IQ_GET | IQ_SET, T_SELF | T_ACCOUNT, NS_MAM, "prefs",
	    im_mam_prefs, NULL, D_NONE },
	{ 0, 0, 0, NULL, NULL, NULL, NS_MAM_EXT, D_ACCOUNT },
	/* Parley's own: archiving state on demand, and self-purge.  Listed
	 * only on accounts (to themselves and their contacts, who get the
	 * notices in this namespace anyway): the server's own disco#info
	 * names no software. */
	{ IM_IQ, IQ_GET, T_SERVER | T_SELF, NS_ARCHIVE, "archiving",
	    im_archive_state, NS_ARCHIVE, D_ACCOUNT },
	{ IM_IQ, IQ_SET, T_SELF | T_ACCOUNT, NS_ARCHIVE, "purge",
	    im_archive_purge, NULL, D_NONE },
	{ IM_MESSAGE, 0, T_SERVER | T_SELF | T_ACCOUNT | T_RESOURCE, NULL, NULL,
	    im_message, NULL, D_NONE },
	{ IM_PRESENCE, 0, T_SERVER | T_SELF | T_ACCOUNT | T_RESOURCE, NULL,
	    NULL, im_presence, NULL, D_NONE },
	/* Features without a handler of their own. */
	{ 0, 0, 0, NULL, NULL, NULL, NS_OFFLINE, D_SERVER,
	    im_offline_enabled },
	/* PEP (XEP-0163, im/pep.c), listed on accounts. */
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#publish",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#publish-options",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#auto-create",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#create-nodes",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#access-open",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#access-presence",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#access-whitelist",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#retrieve-items",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#retract-items",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#delete-nodes",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#purge-nodes",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#config-node",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#retrieve-default",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#modify-affiliations",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#member-affiliation",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#persistent-items",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#item-ids",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#last-published",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#filtered-notifications",
	    D_ACCOUNT },
	{ 0, 0, 0, NULL, NULL, NULL, NS_PUBSUB "#presence-notifications",
	    D_ACCOUNT },
};
const unsigned im_nhandlers = sizeof(im_handlers) / sizeof(im_handlers[0]);

static void iq_to_resource(struct im_req *req);

static const struct im_handler *find(const struct im_req *req)
{
	const struct xml_node *child = NULL;
	unsigned iqt = 0;

	if (req->kind == IM_IQ) {
		child = xml_first_elem(req->stanza);
		iqt = strcmp(req->type, "get") == 0 ? IQ_GET : IQ_SET;
	}
	for (unsigned i = 0; i < im_nhandlers; i++) {
		const struct im_handler *h = &im_handlers[i];

		if (h->fn == NULL || h->kind != req->kind ||
		    !(h->targets & req->target))
			continue;
		if (req->kind != IM_IQ)
			return h;
		if ((h->iq_types & iqt) && strcmp(h->ns, child->ns) == 0 &&
		    strcmp(h->name, child->name) == 0)
			return h;
	}
	return NULL;
}

void im_dispatch(struct im_req *req)
{
	const struct im_handler *h;

	if (im_block_stops(req)) {
		/* Blocking (XEP-0191) answered or dropped it, whatever it
		 * is: one check for every stanza between two accounts. */
	} else if (req->kind == IM_IQ && req->target == T_RESOURCE) {
		iq_to_resource(req);
	} else if (req->kind == IM_IQ && strcmp(req->type, "get") != 0 &&
	    strcmp(req->type, "set") != 0) {
		/* A result or error for the server or an account: only
		 * answers to our caps queries (im/caps.c) are waited for,
		 * not those to our pings. */
		const char *id = xml_attr(req->stanza, "id");

		if (id != NULL && strncmp(id, IM_CAPS_ID_PREFIX,
		    strlen(IM_CAPS_ID_PREFIX)) == 0)
			im_caps_result(req);
	} else if ((h = find(req)) != NULL) {
		h->fn(req);
	} else {
		im_error(req, ERR_SERVICE_UNAVAILABLE,
		    "no such service here");
	}
	jid_free(&req->to);
	xml_stanza_free(req->st);
}

void im_error(struct im_req *req, int stanza_err, const char *text)
{
	session_send_error(req->from, req->stanza, (enum stanza_err)stanza_err,
	    text);
}

void im_iq_result(struct im_req *req, const struct xml_node *payload)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "iq");
	struct xml_node *root = xml_root(st);
	const char *id = xml_attr(req->stanza, "id");
	const char *to = xml_attr(req->stanza, "to");

	xml_set_attr(st, root, "type", "result");
	if (id != NULL)
		xml_set_attr(st, root, "id", id);
	/* Answer from whom was asked: the server, or the account. */
	xml_set_attr(st, root, "from", to ? to : req->from->bare);
	xml_set_attr(st, root, "to", req->from->full);
	if (payload != NULL)
		xml_add_copy(st, root, payload);
	session_send(req->from, root);
	xml_stanza_free(st);
}

/* RFC 6121 8.5.3: an IQ to a full JID goes to that resource, or is
 * answered with service-unavailable when there is none. */
static void iq_to_resource(struct im_req *req)
{
	struct session *to = router_session(req->srv->router, req->to.local,
	    req->to.resource);

	/* Direct transfer offers would reveal addresses (im/p2p.c). */
	if (im_p2p_refused(req))
		return;
	if (to != NULL) {
		session_send(to, req->stanza);
		return;
	}
	if (strcmp(req->type, "get") == 0 || strcmp(req->type, "set") == 0)
		im_error(req, ERR_SERVICE_UNAVAILABLE,
		    "no such resource is online");
}
