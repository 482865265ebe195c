/*
 * upload.c - HTTP File Upload (XEP-0363 1.1), the XMPP side: the slot
 * request, answered by the server's own domain (no upload component to
 * discover: disco#info of the domain has the store/file identity, the
 * feature and the max-file-size form), and notices to an uploader.
 *
 * Only bound sessions reach the handler table, so only authenticated
 * accounts get slots.  Quotas, types and sizes are decided by
 * http/upload.c; this file turns its answer into XEP-0363 section 5's
 * errors: file-too-large (not-acceptable, with max-file-size), quota and
 * hourly limit (resource-constraint, type wait, with a retry stamp for
 * the latter), refused type (not-acceptable), malformed (bad-request).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/isotime.h"
#include "http/upload.h"
#include "im/im.h"
#include "xmpp/audit.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

int im_upload_enabled(const struct server *srv)
{
	return srv->upload != NULL;
}

void im_upload_disco_identity(const struct server *srv,
    struct xml_stanza *st, struct xml_node *query)
{
	struct xml_node *n;

	if (srv->upload == NULL)
		return;
	/* XEP-0363 4: the service's identity (no name: no software). */
	n = xml_add_child(st, query, NULL, "identity");
	xml_set_attr(st, n, "category", "store");
	xml_set_attr(st, n, "type", "file");
}

static void add_field(struct xml_stanza *st, struct xml_node *x,
    const char *var, const char *type, const char *value)
{
	struct xml_node *f = xml_add_child(st, x, NULL, "field");
	struct xml_node *v;

	xml_set_attr(st, f, "var", var);
	if (type != NULL)
		xml_set_attr(st, f, "type", type);
	v = xml_add_child(st, f, NULL, "value");
	xml_add_text(st, v, value, strlen(value));
}

void im_upload_disco_form(const struct server *srv, struct xml_stanza *st,
    struct xml_node *query)
{
	struct xml_node *x;
	char max[32];

	if (srv->upload == NULL)
		return;
	/* XEP-0363 4 with XEP-0128: clients check sizes before asking. */
	x = xml_add_child(st, query, NS_DATA, "x");
	xml_set_attr(st, x, "type", "result");
	add_field(st, x, "FORM_TYPE", "hidden", NS_HTTP_UPLOAD);
	snprintf(max, sizeof(max), "%llu",
	    (unsigned long long)upload_max_file_size(srv->upload));
	add_field(st, x, "max-file-size", NULL, max);
}

/* Sends an error whose <error/> carries an XEP-0363 child as well. */
static void upload_error(struct im_req *req, enum stanza_err e,
    const char *type, const char *text, const char *child,
    const char *child_text, const char *stamp)
{
	struct xml_stanza *st = stanza_error_reply_type(req->stanza, e, type,
	    text);
	struct xml_node *root, *err, *n;

	if (st == NULL)
		return;
	root = xml_root(st);
	err = xml_child(root, NULL, "error");
	if (err != NULL && child != NULL) {
		n = xml_add_child(st, err, NS_HTTP_UPLOAD, child);
		if (stamp != NULL)
			xml_set_attr(st, n, "stamp", stamp);
		if (child_text != NULL) {
			n = xml_add_child(st, n, NULL, "max-file-size");
			xml_add_text(st, n, child_text, strlen(child_text));
		}
	}
	xml_set_attr(st, root, "to", req->from->full);
	session_send(req->from, root);
	xml_stanza_free(st);
}

void im_upload_request(struct im_req *req)
{
	struct xml_node *rq = xml_first_elem(req->stanza);
	struct upload_slot slot;
	struct xml_stanza *st;
	struct xml_node *root, *n;
	char num[32], stamp[ISOTIME_MAX];

	if (req->srv->upload == NULL) {
		im_error(req, ERR_SERVICE_UNAVAILABLE, "file upload is off "
		    "on this server");
		return;
	}
	if (!policy_for(req->srv, req->from->user)->upload) {
		policy_refuse(req->from, req->stanza,
		    policy_for(req->srv, req->from->user), "upload = deny",
		    NULL);
		return;
	}
	upload_slot_new(req->srv->upload, req->from->user,
	    xml_attr(rq, "filename"), xml_attr(rq, "size"),
	    xml_attr(rq, "content-type"), &slot);
	switch (slot.rc) {
	case UPLOAD_OK:
		break;
	case UPLOAD_BAD_REQUEST:
		im_error(req, ERR_BAD_REQUEST, slot.text);
		return;
	case UPLOAD_TOO_LARGE:
		snprintf(num, sizeof(num), "%llu", (unsigned long long)
		    upload_max_file_size(req->srv->upload));
		upload_error(req, ERR_NOT_ACCEPTABLE, "modify", slot.text,
		    "file-too-large", num, NULL);
		return;
	case UPLOAD_TYPE_REFUSED:
		im_error(req, ERR_NOT_ACCEPTABLE, slot.text);
		return;
	case UPLOAD_QUOTA:
		im_error(req, ERR_RESOURCE_CONSTRAINT, slot.text);
		return;
	case UPLOAD_RATE:
		audit_hit(req->srv, "rate-limit", req->from->user,
		    req->from->addr, "limit=uploads", NULL);
		iso_time_str((int64_t)slot.retry_at * 1000, 0, stamp,
		    sizeof(stamp));
		upload_error(req, ERR_RESOURCE_CONSTRAINT, "wait", slot.text,
		    "retry", NULL, stamp);
		return;
	case UPLOAD_ERROR:
		im_error(req, ERR_INTERNAL_SERVER_ERROR, slot.text);
		return;
	}
	st = xml_stanza_new(NS_HTTP_UPLOAD, "slot");
	root = xml_root(st);
	n = xml_add_child(st, root, NULL, "put");
	xml_set_attr(st, n, "url", slot.put_url);
	n = xml_add_child(st, root, NULL, "get");
	xml_set_attr(st, n, "url", slot.get_url);
	im_iq_result(req, root);
	xml_stanza_free(st);
	upload_slot_free(&slot);
}

void im_upload_notice(struct server *srv, const char *owner,
    const char *text)
{
	struct session *s;

	for (s = router_sessions(srv->router, owner); s != NULL;
	    s = s->acct_next) {
		struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "message");
		struct xml_node *root = xml_root(st), *b;

		/* headline: a notice, not a conversation; never stored. */
		xml_set_attr(st, root, "type", "headline");
		xml_set_attr(st, root, "from", srv->cfg->domain);
		xml_set_attr(st, root, "to", s->full);
		b = xml_add_child(st, root, NULL, "body");
		xml_add_text(st, b, text, strlen(text));
		session_send(s, root);
		xml_stanza_free(st);
	}
}
