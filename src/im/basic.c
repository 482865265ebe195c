/*
 * basic.c - the small server-answered IQs: ping (XEP-0199), the legacy
 * session element (RFC 3921, kept for old clients), and service discovery
 * of the server (XEP-0030) generated from the handler table.
 */
#include <string.h>

#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"

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

	if (node != NULL) {
		im_error(req, ERR_ITEM_NOT_FOUND, "no such node");
		return;
	}
	st = xml_stanza_new(NS_DISCO_INFO, "query");
	root = xml_root(st);
	/* No name or version: the server does not say what software it
	 * runs (DESIGN: no version disclosed). */
	n = xml_add_child(st, root, NULL, "identity");
	xml_set_attr(st, n, "category", "server");
	xml_set_attr(st, n, "type", "im");
	for (unsigned i = 0; i < im_nhandlers; i++) {
		if (im_handlers[i].feature == NULL ||
		    !(im_handlers[i].targets & T_SERVER))
			continue;
		n = xml_add_child(st, root, NULL, "feature");
		xml_set_attr(st, n, "var", im_handlers[i].feature);
	}
	im_iq_result(req, root);
	xml_stanza_free(st);
}

void im_disco_items(struct im_req *req)
{
	struct xml_stanza *st = xml_stanza_new(NS_DISCO_ITEMS, "query");

	im_iq_result(req, xml_root(st));
	xml_stanza_free(st);
}
