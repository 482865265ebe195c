/*
 * basic.c - the small server-answered IQs: ping (XEP-0199), the legacy
 * session element (RFC 3921, kept for old clients), and service discovery
 * (XEP-0030) of the server and of accounts, generated from the handler
 * table.
 */
#include <string.h>

#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/session.h"

void im_ping(struct im_req *req)
{
	im_iq_result(req, NULL);
}

void im_session(struct im_req *req)
{
	im_iq_result(req, NULL);
}

void im_disco_info(struct im_req *req)
{
	struct xml_node *q = xml_first_elem(req->stanza);
	const char *node = xml_attr(q, "node");
	struct xml_stanza *st;
	struct xml_node *root, *n;

	unsigned where = req->target == T_SERVER ? D_SERVER : D_ACCOUNT;

	if (node != NULL) {
		/* Ad-hoc command nodes (XEP-0050 2.3, im/adhoc.c). */
		if (where == D_SERVER && im_adhoc_disco_info(req, node) == 0)
			return;
		im_error(req, ERR_ITEM_NOT_FOUND, "no such node");
		return;
	}
	/* An account is described only to itself and to contacts who may
	 * see its presence; to others it is indistinguishable from an
	 * account that does not exist. */
	if (where == D_ACCOUNT && !im_may_see_presence(req->srv,
	    req->to.local, req->from->bare)) {
		im_error(req, ERR_SERVICE_UNAVAILABLE, "no such service here");
		return;
	}
	st = xml_stanza_new(NS_DISCO_INFO, "query");
	root = xml_root(st);
	/* No name or version: the server does not say what software it
	 * runs (DESIGN: no version disclosed). */
	n = xml_add_child(st, root, NULL, "identity");
	if (where == D_SERVER) {
		xml_set_attr(st, n, "category", "server");
		xml_set_attr(st, n, "type", "im");
		im_upload_disco_identity(req->srv, st, root);
	} else {
		xml_set_attr(st, n, "category", "account");
		xml_set_attr(st, n, "type", "registered");
		im_pep_identity(st, root);
	}
	for (unsigned i = 0; i < im_nhandlers; i++) {
		if (im_handlers[i].feature == NULL ||
		    !(im_handlers[i].disco & where) ||
		    (im_handlers[i].enabled != NULL &&
		    !im_handlers[i].enabled(req->srv)))
			continue;
		n = xml_add_child(st, root, NULL, "feature");
		xml_set_attr(st, n, "var", im_handlers[i].feature);
	}
	if (where == D_SERVER)
		im_upload_disco_form(req->srv, st, root);
	else
		im_archive_disco_form(req, st, root);
	im_iq_result(req, root);
	xml_stanza_free(st);
}

void im_disco_items(struct im_req *req)
{
	struct xml_stanza *st;
	const char *node;

	if (req->target != T_SERVER && !im_may_see_presence(req->srv,
	    req->to.local, req->from->bare)) {
		im_error(req, ERR_SERVICE_UNAVAILABLE, "no such service here");
		return;
	}
	node = xml_attr(xml_first_elem(req->stanza), "node");
	st = xml_stanza_new(NS_DISCO_ITEMS, "query");
	if (req->target == T_SERVER && node != NULL &&
	    strcmp(node, NS_COMMANDS) == 0)
		im_adhoc_disco_items(req, st, xml_root(st));
	else if (req->target != T_SERVER)
		im_pep_disco_items(req, st, xml_root(st));
	im_iq_result(req, xml_root(st));
	xml_stanza_free(st);
}
