/*
 * storage.c - small per-account documents: private XML storage
 * (XEP-0049, bookmarks and client settings, readable only by the account
 * itself) and vCard-temp (XEP-0054).
 *
 * A vCard is read by the account and by contacts allowed to see its
 * presence; to everyone else an account's vCard does not exist (the same
 * answer as for an account that does not exist), so it reveals nothing
 * to strangers.  Both are bounded in size ([limits] max_private_size,
 * max_vcard_size).
 */
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "store/blob.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Parses a stored document back into a tree (it was serialized by us). */
static struct xml_stanza *parse_stored(const struct buf *doc);

void im_private(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *q = xml_first_elem(req->stanza);
	struct xml_node *el = xml_first_elem(q);
	int set = strcmp(req->type, "set") == 0;
	struct buf doc = BUF_INIT;
	enum store_rc rc;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN,
		    "private storage belongs to its account alone");
		return;
	}
	/* XEP-0049: exactly one child, in a namespace of its own. */
	if (el == NULL || xml_next_elem(el) != NULL || el->ns[0] == '\0' ||
	    strcmp(el->ns, NS_PRIVATE) == 0 || strcmp(el->ns, NS_CLIENT) == 0) {
		im_error(req, ERR_NOT_ACCEPTABLE,
		    "one element in its own namespace, please");
		return;
	}
	if (set) {
		xml_serialize(el, "", &doc);
		if (doc.len > srv->cfg->max_private_size) {
			buf_free(&doc);
			im_error(req, ERR_NOT_ACCEPTABLE,
			    "too large for private storage");
			return;
		}
		rc = store_blob_put(srv->store, req->from->user, "private",
		    el->ns, doc.data, doc.len);
		buf_free(&doc);
		if (rc != STORE_OK)
			im_error(req, ERR_INTERNAL_SERVER_ERROR,
			    "storage failed");
		else
			im_iq_result(req, NULL);
		return;
	}
	rc = store_blob_get(srv->store, req->from->user, "private", el->ns,
	    &doc);
	if (rc == STORE_ERR) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
	} else {
		struct xml_stanza *out = xml_stanza_new(NS_PRIVATE, "query");
		struct xml_stanza *stored = rc == STORE_OK ?
		    parse_stored(&doc) : NULL;

		if (stored != NULL)
			xml_add_copy(out, xml_root(out), xml_root(stored));
		else	/* nothing stored: the empty element comes back */
			xml_add_copy(out, xml_root(out), el);
		im_iq_result(req, xml_root(out));
		xml_stanza_free(out);
		if (stored != NULL)
			xml_stanza_free(stored);
	}
	buf_free(&doc);
}

void im_vcard(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *v = xml_first_elem(req->stanza);
	int set = strcmp(req->type, "set") == 0;
	const char *owner = req->target == T_SELF ? req->from->user :
	    req->to.local;
	struct buf doc = BUF_INIT;
	enum store_rc rc;

	if (set) {
		if (req->target != T_SELF) {
			im_error(req, ERR_FORBIDDEN,
			    "you may only change your own vCard");
			return;
		}
		xml_serialize(v, "", &doc);
		if (doc.len > srv->cfg->max_vcard_size) {
			buf_free(&doc);
			im_error(req, ERR_NOT_ACCEPTABLE,
			    "vCard too large for this server");
			return;
		}
		rc = store_blob_put(srv->store, owner, "vcard", "",
		    xml_first_elem(v) ? doc.data : "",
		    xml_first_elem(v) ? doc.len : 0);
		buf_free(&doc);
		if (rc != STORE_OK)
			im_error(req, ERR_INTERNAL_SERVER_ERROR,
			    "storage failed");
		else
			im_iq_result(req, NULL);
		return;
	}
	if (req->target == T_ACCOUNT &&
	    !im_may_see_presence(srv, owner, req->from->bare)) {
		/* The same answer as for an account that does not exist. */
		im_error(req, ERR_SERVICE_UNAVAILABLE, "no such service here");
		return;
	}
	rc = store_blob_get(srv->store, owner, "vcard", "", &doc);
	if (rc == STORE_ERR) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
	} else if (rc == STORE_NOT_FOUND) {
		/* XEP-0054: no vCard is an empty one for the owner, and
		 * item-not-found for others. */
		if (req->target == T_SELF) {
			struct xml_stanza *e = xml_stanza_new(NS_VCARD, "vCard");
			im_iq_result(req, xml_root(e));
			xml_stanza_free(e);
		} else {
			im_error(req, ERR_ITEM_NOT_FOUND, "no vCard");
		}
	} else {
		struct xml_stanza *stored = parse_stored(&doc);

		if (stored == NULL) {
			im_error(req, ERR_INTERNAL_SERVER_ERROR,
			    "stored vCard unreadable");
		} else {
			im_iq_result(req, xml_root(stored));
			xml_stanza_free(stored);
		}
	}
	buf_free(&doc);
}

/* ---- reading back what we stored ---------------------------------------- */

struct reparse {
	struct xml_stanza *st;
};

static void rp_open(void *ud, const struct xml_node *hdr, const char *ns) { }
static void rp_stanza(void *ud, struct xml_stanza *st)
{
	struct reparse *r = ud;

	if (r->st == NULL)
		r->st = st;
	else
		xml_stanza_free(st);
}
static void rp_close(void *ud) { }
static void rp_error(void *ud, enum xml_error e, const char *text)
{
	log_error("stored document does not parse: %s", text);
}

static struct xml_stanza *parse_stored(const struct buf *doc)
{
	static const struct xml_stream_cb cb = {
		rp_open, rp_stanza, rp_close, rp_error
	};
	static const char open[] = "<s:stream xmlns:s='" XML_NS_STREAM "'>";
	struct xml_limits lim = { PARLEY_BLOB_MAX_CEILING, 1024, 256, 1024 };
	struct reparse r = { NULL };
	struct xml_stream *xs = xml_stream_new(&lim, &cb, &r);

	/* Stored documents were serialized by this server from bounded
	 * stanzas; the same parser reads them back. */
	if (xml_stream_feed(xs, open, sizeof(open) - 1, NULL) != XML_FEED_OK ||
	    xml_stream_feed(xs, doc->data, doc->len, NULL) != XML_FEED_OK) {
		if (r.st != NULL)
			xml_stanza_free(r.st);
		r.st = NULL;
	}
	xml_stream_free(xs);
	return r.st;
}
