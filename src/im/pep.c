/*
 * pep.c - the Personal Eventing Protocol (XEP-0163): every account is a
 * small pubsub service (XEP-0060) whose nodes only it publishes to, and
 * which OMEMO, avatars, bookmarks and the like are built on.
 *
 * Nodes are created by the first publish (or an explicit create), with
 * the access model 'presence' unless publish-options ask otherwise; the
 * options are preconditions for a node that exists (XEP-0060 7.1.5), so a
 * client learns when a node is not configured as it expects.  Items are
 * stored (store/pep.h) and bounded per node and nodes per account.
 *
 * Who sees what (DESIGN: nothing reaches strangers):
 * - retrieving: the owner; for 'open', any user here; for 'presence',
 *   whoever may see the owner's presence; for 'whitelist', the members.
 *   Someone who may not see the owner's presence is told that a node
 *   which is not open does not exist, as if it did not.
 * - events (publish, retract, delete, purge) and the last item at login
 *   go only to available resources of the owner and of contacts who may
 *   see the owner's presence and may retrieve the node, and only to those
 *   resources whose entity capabilities ask for them (NODE+notify,
 *   im/caps.c).  Nobody else ever hears of a node.
 *
 * Payloads are kept as this server serialized them, in their own
 * namespace, and are copied byte for byte into answers and events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "im/im.h"
#include "store/pep.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Longest node name and item id accepted (bytes). */
#define NAME_MAX_BYTES		1023
#define FORM_PUBLISH_OPTIONS	NS_PUBSUB "#publish-options"
#define FORM_NODE_CONFIG	NS_PUBSUB "#node_config"
/* XEP-0163 defaults for an auto-created node. */
#define DEFAULT_ACCESS		PEP_ACCESS_PRESENCE
#define DEFAULT_MAX_ITEMS	1

static const char *const access_names[] = {
	[PEP_ACCESS_OPEN] = "open",
	[PEP_ACCESS_PRESENCE] = "presence",
	[PEP_ACCESS_WHITELIST] = "whitelist",
};

/* ---- small helpers ------------------------------------------------------ */

static int valid_name(const char *s)
{
	return s != NULL && s[0] != '\0' && strlen(s) <= NAME_MAX_BYTES;
}

static unsigned max_items_cap(const struct server *srv)
{
	return srv->cfg->max_pep_items > 0 ? srv->cfg->max_pep_items : 1;
}

static void bare_of(const struct server *srv, const char *local,
    struct buf *out)
{
	buf_printf(out, "%s@%s", local, srv->cfg->domain);
}

/* The account whose nodes a request is about. */
static const char *owner_of(const struct im_req *req)
{
	return req->target == T_SELF ? req->from->user : req->to.local;
}

static void put_attr(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, " %s='", name);
	buf_put_xml_escaped(b, v, strlen(v));
	buf_putc(b, '\'');
}

/* A stanza error with a pubsub-specific condition (XEP-0060 app
 * errors) after the RFC 6120 one. */
static void pep_error(struct im_req *req, enum stanza_err e,
    const char *text, const char *app, const char *feature)
{
	struct xml_stanza *reply = stanza_error_reply(req->stanza, e, text);
	struct xml_node *root, *n;

	if (reply == NULL)
		return;
	root = xml_root(reply);
	xml_set_attr(reply, root, "to", req->from->full);
	if (xml_attr(req->stanza, "to") == NULL)
		xml_set_attr(reply, root, "from", req->from->bare);
	/* stanza_error_reply() puts <error/> last. */
	if (app != NULL && root->last != NULL) {
		n = xml_add_child(reply, root->last, NS_PUBSUB_ERRORS, app);
		if (feature != NULL)
			xml_set_attr(reply, n, "feature", feature);
	}
	session_send(req->from, root);
	xml_stanza_free(reply);
}

static void storage_failed(struct im_req *req)
{
	log_error("pep of %s: %s", owner_of(req),
	    store_errmsg(req->srv->store));
	im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
}

/* The answer to a retrieval is built from stored bytes, not a tree. */
static void reply_raw(struct im_req *req, const char *inner, size_t len)
{
	const char *id = xml_attr(req->stanza, "id");
	const char *to = xml_attr(req->stanza, "to");
	struct buf b = BUF_INIT;

	buf_puts(&b, "<iq type='result'");
	if (id != NULL)
		put_attr(&b, "id", id);
	put_attr(&b, "from", to ? to : req->from->bare);
	put_attr(&b, "to", req->from->full);
	buf_putc(&b, '>');
	buf_append(&b, inner, len);
	buf_puts(&b, "</iq>");
	session_send_raw(req->from, b.data, b.len);
	buf_free(&b);
}

/* One item as it appears in results and events. */
static void put_item(struct buf *b, const char *id, const char *xml,
    size_t len)
{
	buf_puts(b, "<item");
	put_attr(b, "id", id);
	buf_putc(b, '>');
	buf_append(b, xml, len);
	buf_puts(b, "</item>");
}

static int may_retrieve(struct server *srv, const char *owner,
    const char *node, const struct pep_conf *c, const char *viewer)
{
	struct buf ob = BUF_INIT;
	int self;

	bare_of(srv, owner, &ob);
	self = strcmp(ob.data, viewer) == 0;
	buf_free(&ob);
	if (self)
		return 1;
	/* Blocking (XEP-0191): not even an open node, either way. */
	if (im_block_accounts(srv, owner, viewer))
		return 0;
	switch (c->access) {
	case PEP_ACCESS_OPEN:
		/* Every requester is a user of this server (no
		 * federation), and events still go to contacts only. */
		return 1;
	case PEP_ACCESS_PRESENCE:
		return im_may_see_presence(srv, owner, viewer);
	default:
		return store_pep_member_check(srv->store, owner, node,
		    viewer) == STORE_OK;
	}
}

/* ---- contacts and event recipients ----------------------------------- */

struct names {
	const struct server	*srv;
	unsigned		 want;	/* SUB_* bit a contact needs */
	char			**v;
	size_t			 n;
};

static void collect_contact(void *ud, const struct roster_item *it)
{
	struct names *nm = ud;
	const char *at = strchr(it->contact, '@');

	/* Local accounts only: there is no federation. */
	if (!(it->sub & nm->want) || at == NULL || at == it->contact ||
	    strcmp(at + 1, nm->srv->cfg->domain) != 0)
		return;
	nm->v = xrealloc(nm->v, (nm->n + 1) * sizeof(*nm->v));
	nm->v[nm->n++] = xstrndup(it->contact, (size_t)(at - it->contact));
}

static void contacts_load(struct server *srv, const char *user,
    unsigned want, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	nm->srv = srv;
	nm->want = want;
	store_roster_list(srv->store, user, collect_contact, nm);
}

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = 0;
}

struct rcpt {
	struct session	**v;
	size_t		  n;
};

static void rcpt_account(struct server *srv, const char *local,
    const char *node, struct rcpt *r)
{
	for (struct session *s = router_sessions(srv->router, local); s;
	    s = s->acct_next) {
		if (!s->available || !im_caps_wants(s, node))
			continue;
		r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
		r->v[r->n++] = s;
	}
}

/*
 * The resources that hear of events on owner's node: the owner's own and
 * those of contacts who may see its presence and may retrieve the node,
 * each only if its caps ask for the node.  Computed before a change that
 * could remove what decides it (a deleted node's whitelist).
 */
static void recipients(struct server *srv, const char *owner,
    const char *node, const struct pep_conf *c, struct rcpt *r)
{
	struct names nm;

	memset(r, 0, sizeof(*r));
	rcpt_account(srv, owner, node, r);
	contacts_load(srv, owner, SUB_FROM, &nm);
	for (size_t i = 0; i < nm.n; i++) {
		struct buf bare = BUF_INIT;
		int ok = 1;

		if (router_sessions(srv->router, nm.v[i]) == NULL)
			continue;	/* nobody online to tell */
		if (c->access == PEP_ACCESS_WHITELIST) {
			bare_of(srv, nm.v[i], &bare);
			ok = store_pep_member_check(srv->store, owner, node,
			    bare.data) == STORE_OK;
			buf_free(&bare);
		}
		if (ok) {
			/* Blocking (XEP-0191) stops events both ways. */
			bare_of(srv, nm.v[i], &bare);
			ok = !im_block_accounts(srv, owner, bare.data);
			buf_free(&bare);
		}
		if (ok)
			rcpt_account(srv, nm.v[i], node, r);
	}
	names_free(&nm);
}

/* The headline message carrying an event; only 'to' differs between
 * recipients, so the rest is serialized once. */
static void event_send(struct server *srv, const char *owner,
    struct session *const *to, size_t nto, const char *inner, size_t len)
{
	struct buf head = BUF_INIT, tail = BUF_INIT, one = BUF_INIT;

	if (nto == 0)
		return;
	buf_puts(&head, "<message type='headline'");
	buf_puts(&head, " from='");
	buf_put_xml_escaped(&head, owner, strlen(owner));
	buf_printf(&head, "@%s' to='", srv->cfg->domain);
	buf_puts(&tail, "'><event xmlns='" NS_PUBSUB_EVENT "'>");
	buf_append(&tail, inner, len);
	buf_puts(&tail, "</event></message>");
	for (size_t i = 0; i < nto; i++) {
		buf_reset(&one);
		buf_append(&one, head.data, head.len);
		buf_put_xml_escaped(&one, to[i]->full, strlen(to[i]->full));
		buf_append(&one, tail.data, tail.len);
		session_send_raw(to[i], one.data, one.len);
	}
	buf_free(&head);
	buf_free(&tail);
	buf_free(&one);
}

static void notify(struct server *srv, const char *owner, const char *node,
    const struct pep_conf *c, const struct buf *inner)
{
	struct rcpt r;

	recipients(srv, owner, node, c, &r);
	event_send(srv, owner, r.v, r.n, inner->data, inner->len);
	free(r.v);
}

/* ---- data forms: publish-options and node configuration --------------- */

/* Options this server implements with one fixed value: a form may name
 * them only with that value. */
static const struct {
	const char	*var;
	int		 value;
} fixed_opts[] = {
	{ "pubsub#persist_items", 1 },
	{ "pubsub#deliver_notifications", 1 },
	{ "pubsub#deliver_payloads", 1 },
	{ "pubsub#notify_retract", 1 },
	{ "pubsub#notify_delete", 1 },
};

struct opts {
	int		has_access, has_max, has_send_last;
	struct pep_conf	c;
};

/* 1/0 for an XEP-0004 boolean, -1 if it is none. */
static int parse_bool(const char *v)
{
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	return -1;
}

static int parse_access(const char *v, unsigned *out)
{
	for (unsigned i = 0; i < sizeof(access_names) /
	    sizeof(access_names[0]); i++)
		if (strcmp(v, access_names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* "max" or 1..; more than this server keeps means as many as it keeps. */
static int parse_max_items(const struct server *srv, const char *v,
    unsigned *out)
{
	unsigned long n;
	char *end;

	if (strcmp(v, "max") == 0) {
		*out = max_items_cap(srv);
		return 0;
	}
	if (v[0] < '0' || v[0] > '9')
		return -1;
	n = strtoul(v, &end, 10);
	if (*end != '\0' || n == 0)
		return -1;
	*out = n > max_items_cap(srv) ? max_items_cap(srv) : (unsigned)n;
	return 0;
}

static void first_value(const struct xml_node *field, struct buf *out)
{
	struct xml_node *v = xml_child(field, NS_DATA, "value");

	if (v != NULL)
		xml_text(v, out);
}

enum form_mode { FORM_PRECONDITION, FORM_CONFIG };
enum form_rc { FORM_OK, FORM_MALFORMED, FORM_UNSUPPORTED };

/*
 * Reads a submitted form of FORM_TYPE form_type into o.  As
 * preconditions (publish-options) every option must be one this server
 * can meet; as a configuration, options it does not know are ignored
 * (clients send back the whole form they were given).
 */
static enum form_rc read_form(const struct server *srv,
    const struct xml_node *x, const char *form_type, enum form_mode mode,
    struct opts *o, const char **why)
{
	enum form_rc rc = FORM_OK;

	memset(o, 0, sizeof(*o));
	for (struct xml_node *f = xml_first_elem(x); f && rc == FORM_OK;
	    f = xml_next_elem(f)) {
		const char *var = xml_attr(f, "var");
		struct buf v = BUF_INIT;
		size_t i;

		if (strcmp(f->ns, NS_DATA) != 0 ||
		    strcmp(f->name, "field") != 0 || var == NULL)
			continue;
		first_value(f, &v);
		if (strcmp(var, "FORM_TYPE") == 0) {
			if (strcmp(buf_str(&v), form_type) != 0) {
				*why = "wrong FORM_TYPE";
				rc = FORM_MALFORMED;
			}
		} else if (strcmp(var, "pubsub#access_model") == 0) {
			o->has_access = 1;
			if (parse_access(buf_str(&v), &o->c.access) != 0) {
				*why = "access models here are open, "
				    "presence and whitelist";
				rc = FORM_UNSUPPORTED;
			}
		} else if (strcmp(var, "pubsub#max_items") == 0) {
			o->has_max = 1;
			if (parse_max_items(srv, buf_str(&v),
			    &o->c.max_items) != 0) {
				*why = "max_items must be 'max' or a "
				    "positive number";
				rc = FORM_UNSUPPORTED;
			}
		} else if (strcmp(var,
		    "pubsub#send_last_published_item") == 0) {
			o->has_send_last = 1;
			if (strcmp(buf_str(&v), "on_sub_and_presence") == 0)
				o->c.send_last = 1;
			else if (strcmp(buf_str(&v), "never") == 0)
				o->c.send_last = 0;
			else {
				*why = "send_last_published_item here is "
				    "on_sub_and_presence or never";
				rc = FORM_UNSUPPORTED;
			}
		} else {
			for (i = 0; i < sizeof(fixed_opts) /
			    sizeof(fixed_opts[0]); i++)
				if (strcmp(var, fixed_opts[i].var) == 0)
					break;
			if (i < sizeof(fixed_opts) / sizeof(fixed_opts[0])) {
				if (parse_bool(buf_str(&v)) !=
				    fixed_opts[i].value) {
					*why = "that option cannot be changed "
					    "on this server";
					rc = FORM_UNSUPPORTED;
				}
			} else if (mode == FORM_PRECONDITION && v.len > 0) {
				*why = "an unsupported publish option";
				rc = FORM_UNSUPPORTED;
			}
		}
		buf_free(&v);
	}
	return rc;
}

static void apply_opts(const struct opts *o, struct pep_conf *c)
{
	if (o->has_access)
		c->access = o->c.access;
	if (o->has_max)
		c->max_items = o->c.max_items;
	if (o->has_send_last)
		c->send_last = o->c.send_last;
}

static int opts_match(const struct opts *o, const struct pep_conf *c)
{
	return (!o->has_access || o->c.access == c->access) &&
	    (!o->has_max || o->c.max_items == c->max_items) &&
	    (!o->has_send_last || o->c.send_last == c->send_last);
}

static void default_conf(const struct server *srv, struct pep_conf *c)
{
	c->access = DEFAULT_ACCESS;
	c->max_items = DEFAULT_MAX_ITEMS;
	c->send_last = 1;
	if (c->max_items > max_items_cap(srv))
		c->max_items = max_items_cap(srv);
}

static struct xml_node *add_field(struct xml_stanza *st, struct xml_node *x,
    const char *var, const char *type, const char *label, const char *value)
{
	struct xml_node *f = xml_add_child(st, x, NS_DATA, "field"), *v;

	xml_set_attr(st, f, "var", var);
	xml_set_attr(st, f, "type", type);
	if (label != NULL)
		xml_set_attr(st, f, "label", label);
	v = xml_add_child(st, f, NS_DATA, "value");
	xml_add_text(st, v, value, strlen(value));
	return f;
}

static void add_option(struct xml_stanza *st, struct xml_node *f,
    const char *value)
{
	struct xml_node *o = xml_add_child(st, f, NS_DATA, "option");
	struct xml_node *v = xml_add_child(st, o, NS_DATA, "value");

	xml_add_text(st, v, value, strlen(value));
}

/* The node configuration form (XEP-0060 8.2) for c. */
static void config_form(struct xml_stanza *st, struct xml_node *parent,
    const struct pep_conf *c)
{
	struct xml_node *x = xml_add_child(st, parent, NS_DATA, "x"), *f;
	char num[16];

	xml_set_attr(st, x, "type", "form");
	add_field(st, x, "FORM_TYPE", "hidden", NULL, FORM_NODE_CONFIG);
	f = add_field(st, x, "pubsub#access_model", "list-single",
	    "Who may retrieve items", access_names[c->access]);
	for (size_t i = 0; i < sizeof(access_names) / sizeof(access_names[0]);
	    i++)
		add_option(st, f, access_names[i]);
	snprintf(num, sizeof(num), "%u", c->max_items);
	add_field(st, x, "pubsub#max_items", "text-single",
	    "Items to keep", num);
	f = add_field(st, x, "pubsub#send_last_published_item", "list-single",
	    "When to send the last published item",
	    c->send_last ? "on_sub_and_presence" : "never");
	add_option(st, f, "never");
	add_option(st, f, "on_sub_and_presence");
	for (size_t i = 0; i < sizeof(fixed_opts) / sizeof(fixed_opts[0]); i++)
		add_field(st, x, fixed_opts[i].var, "boolean", NULL,
		    fixed_opts[i].value ? "1" : "0");
}

/* Creates a node; answers the request itself on failure (returns -1). */
static int create_node(struct im_req *req, const char *node,
    const struct pep_conf *c)
{
	struct server *srv = req->srv;

	switch (store_pep_node_create(srv->store, req->from->user, node, c,
	    srv->cfg->max_pep_nodes)) {
	case STORE_OK:
		return 0;
	case STORE_EXISTS:
		im_error(req, ERR_CONFLICT, "that node exists already");
		return -1;
	case STORE_FULL:
		im_error(req, ERR_POLICY_VIOLATION,
		    "too many PEP nodes for this account (node limit "
		    "reached)");
		return -1;
	default:
		storage_failed(req);
		return -1;
	}
}

/* ---- publish, retract, create (XEP-0060 7.1, 7.2, 8.1) ---------------- */

static void publish(struct im_req *req, struct xml_node *ps,
    struct xml_node *pub)
{
	struct server *srv = req->srv;
	const char *owner = req->from->user;
	const char *node = xml_attr(pub, "node");
	struct xml_node *item = xml_first_elem(pub), *payload, *po, *x;
	const char *id;
	char gen[17];
	struct pep_conf c;
	struct opts o;
	struct buf xml = BUF_INIT, ev = BUF_INIT;
	struct xml_stanza *res;
	struct xml_node *rp, *ri;
	enum store_rc rc;
	const char *why = NULL;

	memset(&o, 0, sizeof(o));
	if (!valid_name(node)) {
		pep_error(req, ERR_BAD_REQUEST, "publish to which node?",
		    "nodeid-required", NULL);
		return;
	}
	if (item == NULL || strcmp(item->ns, NS_PUBSUB) != 0 ||
	    strcmp(item->name, "item") != 0) {
		pep_error(req, ERR_BAD_REQUEST, "publish one item",
		    "item-required", NULL);
		return;
	}
	if (xml_next_elem(item) != NULL) {
		pep_error(req, ERR_BAD_REQUEST, "one item per publish, please",
		    "invalid-payload", NULL);
		return;
	}
	payload = xml_first_elem(item);
	/* Exactly one payload element, in a namespace of its own (it is
	 * stored with its xmlns and pasted into other stanzas). */
	if (payload == NULL || xml_next_elem(payload) != NULL ||
	    payload->ns[0] == '\0' || strcmp(payload->ns, XML_NS_XML) == 0) {
		pep_error(req, ERR_BAD_REQUEST,
		    "an item carries exactly one payload element",
		    "invalid-payload", NULL);
		return;
	}
	id = xml_attr(item, "id");
	if (id != NULL && !valid_name(id)) {
		pep_error(req, ERR_BAD_REQUEST, "item ids are 1 to 1023 bytes",
		    "item-forbidden", NULL);
		return;
	}
	if (id == NULL) {
		unsigned char rnd[8];

		RAND_bytes(rnd, sizeof(rnd));
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(gen + 2 * i, 3, "%02x", rnd[i]);
		id = gen;
	}
	po = xml_child(ps, NS_PUBSUB, "publish-options");
	x = po ? xml_child(po, NS_DATA, "x") : NULL;
	if (x != NULL) {
		enum form_rc fr = read_form(srv, x, FORM_PUBLISH_OPTIONS,
		    FORM_PRECONDITION, &o, &why);

		if (fr == FORM_MALFORMED) {
			im_error(req, ERR_BAD_REQUEST, why);
			return;
		}
		if (fr == FORM_UNSUPPORTED) {
			pep_error(req, ERR_CONFLICT, why,
			    "precondition-not-met", NULL);
			return;
		}
	}
	rc = store_pep_node_get(srv->store, owner, node, &c);
	if (rc == STORE_OK && !opts_match(&o, &c)) {
		/* XEP-0060 7.1.5: the client reconfigures, then retries. */
		pep_error(req, ERR_CONFLICT, "the node is configured "
		    "differently from the publish options",
		    "precondition-not-met", NULL);
		return;
	}
	if (rc == STORE_NOT_FOUND) {
		default_conf(srv, &c);
		apply_opts(&o, &c);
		if (create_node(req, node, &c) != 0)
			return;
	} else if (rc != STORE_OK) {
		storage_failed(req);
		return;
	}
	xml_serialize(payload, "", &xml);
	if (store_pep_item_put(srv->store, owner, node, id, xml.data,
	    xml.len) != STORE_OK) {
		buf_free(&xml);
		storage_failed(req);
		return;
	}
	res = xml_stanza_new(NS_PUBSUB, "pubsub");
	rp = xml_add_child(res, xml_root(res), NULL, "publish");
	xml_set_attr(res, rp, "node", node);
	ri = xml_add_child(res, rp, NULL, "item");
	xml_set_attr(res, ri, "id", id);
	im_iq_result(req, xml_root(res));
	xml_stanza_free(res);

	buf_puts(&ev, "<items");
	put_attr(&ev, "node", node);
	buf_putc(&ev, '>');
	put_item(&ev, id, xml.data, xml.len);
	buf_puts(&ev, "</items>");
	notify(srv, owner, node, &c, &ev);
	buf_free(&ev);
	buf_free(&xml);
}

static int notify_requested(const struct xml_node *el)
{
	const char *v = xml_attr(el, "notify");

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static void retract(struct im_req *req, struct xml_node *rt)
{
	struct server *srv = req->srv;
	const char *owner = req->from->user;
	const char *node = xml_attr(rt, "node");
	struct pep_conf c;
	struct buf ev = BUF_INIT;
	struct xml_node *it;
	unsigned gone = 0;
	enum store_rc rc;

	if (!valid_name(node)) {
		pep_error(req, ERR_BAD_REQUEST, "retract from which node?",
		    "nodeid-required", NULL);
		return;
	}
	it = xml_child(rt, NS_PUBSUB, "item");
	for (struct xml_node *n = it; n; n = xml_next_elem(n))
		if (strcmp(n->name, "item") == 0 &&
		    !valid_name(xml_attr(n, "id")))
			it = NULL;
	if (it == NULL) {
		pep_error(req, ERR_BAD_REQUEST, "name the items to retract",
		    "item-required", NULL);
		return;
	}
	rc = store_pep_node_get(srv->store, owner, node, &c);
	if (rc == STORE_NOT_FOUND) {
		im_error(req, ERR_ITEM_NOT_FOUND, "no such node");
		return;
	}
	if (rc != STORE_OK) {
		storage_failed(req);
		return;
	}
	buf_puts(&ev, "<items");
	put_attr(&ev, "node", node);
	buf_putc(&ev, '>');
	for (struct xml_node *n = it; n; n = xml_next_elem(n)) {
		const char *id = xml_attr(n, "id");

		if (strcmp(n->ns, NS_PUBSUB) != 0 ||
		    strcmp(n->name, "item") != 0)
			continue;
		rc = store_pep_item_delete(srv->store, owner, node, id);
		if (rc == STORE_ERR) {
			buf_free(&ev);
			storage_failed(req);
			return;
		}
		if (rc == STORE_OK) {
			gone++;
			buf_puts(&ev, "<retract");
			put_attr(&ev, "id", id);
			buf_puts(&ev, "/>");
		}
	}
	buf_puts(&ev, "</items>");
	if (gone == 0) {
		buf_free(&ev);
		im_error(req, ERR_ITEM_NOT_FOUND, "no such item");
		return;
	}
	im_iq_result(req, NULL);
	if (notify_requested(rt))
		notify(srv, owner, node, &c, &ev);
	buf_free(&ev);
}

static void create(struct im_req *req, struct xml_node *ps,
    struct xml_node *cr)
{
	const char *node = xml_attr(cr, "node");
	struct xml_node *cf = xml_child(ps, NS_PUBSUB, "configure");
	struct xml_node *x = cf ? xml_child(cf, NS_DATA, "x") : NULL;
	struct pep_conf c;
	struct opts o;
	const char *why = NULL;

	if (!valid_name(node)) {
		/* XEP-0163: no instant nodes in PEP. */
		pep_error(req, ERR_NOT_ACCEPTABLE, "name the node to create",
		    "nodeid-required", NULL);
		return;
	}
	default_conf(req->srv, &c);
	if (x != NULL) {
		enum form_rc fr = read_form(req->srv, x, FORM_NODE_CONFIG,
		    FORM_CONFIG, &o, &why);

		if (fr != FORM_OK) {
			im_error(req, fr == FORM_MALFORMED ? ERR_BAD_REQUEST :
			    ERR_NOT_ACCEPTABLE, why);
			return;
		}
		apply_opts(&o, &c);
	}
	if (create_node(req, node, &c) == 0)
		im_iq_result(req, NULL);
}

/* ---- retrieve (XEP-0060 6.5) ------------------------------------------ */

struct item_out {
	struct buf	*b;
	unsigned	 n;
};

static void add_item(void *ud, const char *id, const char *xml, size_t len)
{
	struct item_out *io = ud;

	put_item(io->b, id, xml, len);
	io->n++;
}

static void items(struct im_req *req, struct xml_node *el)
{
	struct server *srv = req->srv;
	const char *owner = owner_of(req);
	const char *node = xml_attr(el, "node");
	const char *maxs = xml_attr(el, "max_items");
	const char *viewer = req->from->bare;
	unsigned max = 0;
	struct pep_conf c;
	struct buf b = BUF_INIT;
	struct item_out io = { &b, 0 };
	struct xml_node *it;
	enum store_rc rc;

	if (!valid_name(node)) {
		pep_error(req, ERR_BAD_REQUEST, "items of which node?",
		    "nodeid-required", NULL);
		return;
	}
	if (maxs != NULL) {
		char *end;
		unsigned long v = strtoul(maxs, &end, 10);

		if (maxs[0] < '0' || maxs[0] > '9' || *end != '\0' ||
		    v == 0 || v > 0xffffffffUL) {
			im_error(req, ERR_BAD_REQUEST,
			    "max_items must be a positive number");
			return;
		}
		max = (unsigned)v;
	}
	rc = store_pep_node_get(srv->store, owner, node, &c);
	if (rc == STORE_ERR) {
		storage_failed(req);
		return;
	}
	if (rc == STORE_NOT_FOUND || (!may_retrieve(srv, owner, node, &c,
	    viewer) && !im_may_see_presence(srv, owner, viewer))) {
		/* The same answer whether the node exists or not: someone
		 * who may not see the account learns nothing of it. */
		im_error(req, ERR_ITEM_NOT_FOUND, "no such node");
		return;
	}
	if (!may_retrieve(srv, owner, node, &c, viewer)) {
		if (c.access == PEP_ACCESS_WHITELIST)
			pep_error(req, ERR_NOT_ALLOWED,
			    "only the owner's chosen members may retrieve "
			    "these items", "closed-node", NULL);
		else	/* not reached: presence subscribers may retrieve */
			pep_error(req, ERR_NOT_AUTHORIZED,
			    "a presence subscription is required",
			    "presence-subscription-required", NULL);
		return;
	}
	buf_puts(&b, "<pubsub xmlns='" NS_PUBSUB "'><items");
	put_attr(&b, "node", node);
	buf_putc(&b, '>');
	it = xml_child(el, NS_PUBSUB, "item");
	if (it != NULL) {
		struct buf one = BUF_INIT;

		for (; it; it = xml_next_elem(it)) {
			const char *id = xml_attr(it, "id");

			if (strcmp(it->name, "item") != 0 || id == NULL)
				continue;
			buf_reset(&one);
			rc = store_pep_item_get(srv->store, owner, node, id,
			    &one);
			if (rc == STORE_OK)
				put_item(&b, id, one.data, one.len);
			else if (rc == STORE_ERR)
				break;
		}
		buf_free(&one);
	} else {
		rc = store_pep_item_list(srv->store, owner, node, max,
		    add_item, &io);
	}
	if (rc == STORE_ERR) {
		buf_free(&b);
		storage_failed(req);
		return;
	}
	buf_puts(&b, "</items></pubsub>");
	reply_raw(req, b.data, b.len);
	buf_free(&b);
}

void im_pep(struct im_req *req)
{
	struct xml_node *ps = xml_first_elem(req->stanza);
	struct xml_node *op = xml_first_elem(ps);
	int set = strcmp(req->type, "set") == 0;

	if (op == NULL || strcmp(op->ns, NS_PUBSUB) != 0) {
		im_error(req, ERR_BAD_REQUEST, "an empty pubsub request");
		return;
	}
	if (set && req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN,
		    "only the account itself publishes to its nodes");
		return;
	}
	if (set && strcmp(op->name, "publish") == 0) {
		publish(req, ps, op);
	} else if (set && strcmp(op->name, "retract") == 0) {
		retract(req, op);
	} else if (set && strcmp(op->name, "create") == 0) {
		create(req, ps, op);
	} else if (!set && strcmp(op->name, "items") == 0) {
		items(req, op);
	} else if (strcmp(op->name, "subscribe") == 0 ||
	    strcmp(op->name, "unsubscribe") == 0 ||
	    strcmp(op->name, "options") == 0) {
		/* XEP-0163: in PEP a presence subscription is the
		 * subscription. */
		pep_error(req, ERR_FEATURE_NOT_IMPLEMENTED,
		    "subscriptions follow presence subscriptions here",
		    "unsupported", "subscribe");
	} else {
		pep_error(req, ERR_FEATURE_NOT_IMPLEMENTED,
		    "that pubsub request is not supported", "unsupported",
		    op->name);
	}
}

/* ---- owner use cases (XEP-0060 8) ------------------------------------- */

/* The node of an owner request, answering the request when there is none
 * (returns -1). */
static int owner_node(struct im_req *req, struct xml_node *op,
    const char **node, struct pep_conf *c)
{
	enum store_rc rc;

	*node = xml_attr(op, "node");
	if (!valid_name(*node)) {
		pep_error(req, ERR_BAD_REQUEST, "which node?",
		    "nodeid-required", NULL);
		return -1;
	}
	rc = store_pep_node_get(req->srv->store, req->from->user, *node, c);
	if (rc == STORE_NOT_FOUND) {
		im_error(req, ERR_ITEM_NOT_FOUND, "no such node");
		return -1;
	}
	if (rc != STORE_OK) {
		storage_failed(req);
		return -1;
	}
	return 0;
}

static void configure(struct im_req *req, struct xml_node *op, int set)
{
	const char *node, *why = NULL;
	struct pep_conf c;
	struct xml_stanza *st;
	struct xml_node *cf, *x;
	struct opts o;
	const char *xt;

	if (owner_node(req, op, &node, &c) != 0)
		return;
	if (!set) {
		st = xml_stanza_new(NS_PUBSUB_OWNER, "pubsub");
		cf = xml_add_child(st, xml_root(st), NULL, "configure");
		xml_set_attr(st, cf, "node", node);
		config_form(st, cf, &c);
		im_iq_result(req, xml_root(st));
		xml_stanza_free(st);
		return;
	}
	x = xml_child(op, NS_DATA, "x");
	xt = x ? xml_attr(x, "type") : NULL;
	if (x == NULL || xt == NULL || (strcmp(xt, "submit") != 0 &&
	    strcmp(xt, "cancel") != 0)) {
		im_error(req, ERR_BAD_REQUEST, "submit a node_config form");
		return;
	}
	if (strcmp(xt, "cancel") == 0) {
		im_iq_result(req, NULL);
		return;
	}
	switch (read_form(req->srv, x, FORM_NODE_CONFIG, FORM_CONFIG, &o,
	    &why)) {
	case FORM_MALFORMED:
		im_error(req, ERR_BAD_REQUEST, why);
		return;
	case FORM_UNSUPPORTED:
		im_error(req, ERR_NOT_ACCEPTABLE, why);
		return;
	default:
		break;
	}
	apply_opts(&o, &c);
	if (store_pep_node_set(req->srv->store, req->from->user, node, &c) !=
	    STORE_OK) {
		storage_failed(req);
		return;
	}
	im_iq_result(req, NULL);
}

static void default_config(struct im_req *req)
{
	struct xml_stanza *st = xml_stanza_new(NS_PUBSUB_OWNER, "pubsub");
	struct xml_node *d = xml_add_child(st, xml_root(st), NULL, "default");
	struct pep_conf c;

	default_conf(req->srv, &c);
	config_form(st, d, &c);
	im_iq_result(req, xml_root(st));
	xml_stanza_free(st);
}

/* Delete (8.4) and purge (8.5): both tell those who would hear of a new
 * item, computed before the node's whitelist may go with it. */
static void delete_or_purge(struct im_req *req, struct xml_node *op,
    int del)
{
	struct server *srv = req->srv;
	const char *owner = req->from->user, *node;
	struct pep_conf c;
	struct rcpt r;
	struct buf ev = BUF_INIT;
	enum store_rc rc;

	if (owner_node(req, op, &node, &c) != 0)
		return;
	recipients(srv, owner, node, &c, &r);
	rc = del ? store_pep_node_delete(srv->store, owner, node) :
	    store_pep_item_purge(srv->store, owner, node);
	if (rc != STORE_OK) {
		free(r.v);
		storage_failed(req);
		return;
	}
	im_iq_result(req, NULL);
	buf_puts(&ev, del ? "<delete" : "<purge");
	put_attr(&ev, "node", node);
	buf_puts(&ev, "/>");
	event_send(srv, owner, r.v, r.n, ev.data, ev.len);
	buf_free(&ev);
	free(r.v);
}

struct aff_out {
	struct xml_stanza	*st;
	struct xml_node		*parent;
};

static void add_member(void *ud, const char *jid)
{
	struct aff_out *ao = ud;
	struct xml_node *a = xml_add_child(ao->st, ao->parent, NULL,
	    "affiliation");

	xml_set_attr(ao->st, a, "jid", jid);
	xml_set_attr(ao->st, a, "affiliation", "member");
}

/* Whitelist members (8.9): 'member' or 'none', bare JIDs. */
static void affiliations(struct im_req *req, struct xml_node *op, int set)
{
	struct server *srv = req->srv;
	const char *owner = req->from->user, *node;
	struct pep_conf c;
	struct xml_node *a;

	if (owner_node(req, op, &node, &c) != 0)
		return;
	if (!set) {
		struct aff_out ao;
		struct xml_node *o;

		ao.st = xml_stanza_new(NS_PUBSUB_OWNER, "pubsub");
		ao.parent = xml_add_child(ao.st, xml_root(ao.st), NULL,
		    "affiliations");
		xml_set_attr(ao.st, ao.parent, "node", node);
		o = xml_add_child(ao.st, ao.parent, NULL, "affiliation");
		xml_set_attr(ao.st, o, "jid", req->from->bare);
		xml_set_attr(ao.st, o, "affiliation", "owner");
		if (store_pep_member_list(srv->store, owner, node, add_member,
		    &ao) != STORE_OK)
			storage_failed(req);
		else
			im_iq_result(req, xml_root(ao.st));
		xml_stanza_free(ao.st);
		return;
	}
	/* Everything is checked before anything changes. */
	for (a = xml_first_elem(op); a; a = xml_next_elem(a)) {
		const char *jid = xml_attr(a, "jid");
		const char *aff = xml_attr(a, "affiliation");
		struct jid j;

		if (strcmp(a->name, "affiliation") != 0)
			continue;
		if (jid == NULL || aff == NULL || jid_parse(jid, &j) != 0) {
			im_error(req, ERR_BAD_REQUEST,
			    "an affiliation needs a valid jid and a value");
			return;
		}
		if (j.resource != NULL || j.local == NULL ||
		    jid_bare_eq(&j, &req->from->jid)) {
			jid_free(&j);
			im_error(req, ERR_NOT_ACCEPTABLE, "members are other "
			    "accounts' bare JIDs");
			return;
		}
		jid_free(&j);
		if (strcmp(aff, "member") != 0 && strcmp(aff, "none") != 0) {
			pep_error(req, ERR_FEATURE_NOT_IMPLEMENTED,
			    "only 'member' and 'none' are supported",
			    "unsupported", "modify-affiliations");
			return;
		}
	}
	for (a = xml_first_elem(op); a; a = xml_next_elem(a)) {
		struct buf bare = BUF_INIT;
		struct jid j;
		enum store_rc rc;

		if (strcmp(a->name, "affiliation") != 0 ||
		    jid_parse(xml_attr(a, "jid"), &j) != 0)
			continue;
		jid_bare_str(&j, &bare);
		jid_free(&j);
		/* A whitelist is bounded like a roster. */
		rc = store_pep_member_set(srv->store, owner, node, bare.data,
		    strcmp(xml_attr(a, "affiliation"), "member") == 0,
		    srv->cfg->max_roster_items);
		buf_free(&bare);
		if (rc == STORE_FULL) {
			im_error(req, ERR_POLICY_VIOLATION,
			    "too many members for this node");
			return;
		}
		if (rc != STORE_OK) {
			storage_failed(req);
			return;
		}
	}
	im_iq_result(req, NULL);
}

void im_pep_owner(struct im_req *req)
{
	struct xml_node *ps = xml_first_elem(req->stanza);
	struct xml_node *op = xml_first_elem(ps);
	int set = strcmp(req->type, "set") == 0;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN,
		    "only the account itself manages its nodes");
		return;
	}
	if (op == NULL || strcmp(op->ns, NS_PUBSUB_OWNER) != 0) {
		im_error(req, ERR_BAD_REQUEST, "an empty pubsub request");
		return;
	}
	if (strcmp(op->name, "configure") == 0) {
		configure(req, op, set);
	} else if (!set && strcmp(op->name, "default") == 0) {
		default_config(req);
	} else if (set && strcmp(op->name, "delete") == 0) {
		delete_or_purge(req, op, 1);
	} else if (set && strcmp(op->name, "purge") == 0) {
		delete_or_purge(req, op, 0);
	} else if (strcmp(op->name, "affiliations") == 0) {
		affiliations(req, op, set);
	} else {
		pep_error(req, ERR_FEATURE_NOT_IMPLEMENTED,
		    "that pubsub request is not supported", "unsupported",
		    op->name);
	}
}

/* ---- presence: caps and last items (XEP-0163 4.3) --------------------- */

void im_pep_available(struct session *s, int initial)
{
	im_caps_presence(s, initial);
}

struct node_conf {
	char		*node;
	struct pep_conf	 c;
};

struct node_list {
	struct node_conf	*v;
	size_t			 n;
};

static void collect_node(void *ud, const char *node, const struct pep_conf *c)
{
	struct node_list *nl = ud;

	nl->v = xrealloc(nl->v, (nl->n + 1) * sizeof(*nl->v));
	nl->v[nl->n].node = xstrdup(node);
	nl->v[nl->n].c = *c;
	nl->n++;
}

static void node_list_free(struct node_list *nl)
{
	for (size_t i = 0; i < nl->n; i++)
		free(nl->v[i].node);
	free(nl->v);
}

struct last_ctx {
	struct server	*srv;
	struct session	*s;
	const char	*owner;
	const char	*node;
};

static void send_last_item(void *ud, const char *id, const char *xml,
    size_t len)
{
	struct last_ctx *lc = ud;
	struct buf ev = BUF_INIT;

	buf_puts(&ev, "<items");
	put_attr(&ev, "node", lc->node);
	buf_putc(&ev, '>');
	put_item(&ev, id, xml, len);
	buf_puts(&ev, "</items>");
	event_send(lc->srv, lc->owner, &lc->s, 1, ev.data, ev.len);
	buf_free(&ev);
}

static int wanted(char *const *nodes, size_t n, const char *node)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nodes[i], node) == 0)
			return 1;
	return 0;
}

static void last_of_account(struct session *s, const char *owner,
    char *const *nodes, size_t n)
{
	struct server *srv = s->srv;
	struct node_list nl = { NULL, 0 };

	/* Collected first: the item queries below must not run inside
	 * the node list's statement. */
	if (store_pep_node_list(srv->store, owner, collect_node, &nl) !=
	    STORE_OK)
		log_error("pep of %s: %s", owner, store_errmsg(srv->store));
	for (size_t i = 0; i < nl.n; i++) {
		struct last_ctx lc = { srv, s, owner, nl.v[i].node };

		if (!nl.v[i].c.send_last || !wanted(nodes, n, nl.v[i].node) ||
		    !may_retrieve(srv, owner, nl.v[i].node, &nl.v[i].c,
		    s->bare))
			continue;
		store_pep_item_list(srv->store, owner, nl.v[i].node, 1,
		    send_last_item, &lc);
	}
	node_list_free(&nl);
}

void im_pep_send_last(struct session *s, char *const *nodes, size_t n)
{
	struct server *srv = s->srv;
	struct names nm;

	last_of_account(s, s->user, nodes, n);
	contacts_load(srv, s->user, SUB_TO, &nm);
	for (size_t i = 0; i < nm.n; i++)
		/* Both rosters must agree that s may see the contact. */
		if (im_may_see_presence(srv, nm.v[i], s->bare))
			last_of_account(s, nm.v[i], nodes, n);
	names_free(&nm);
}

/* ---- service discovery ------------------------------------------------ */

void im_pep_identity(struct xml_stanza *st, struct xml_node *query)
{
	struct xml_node *n = xml_add_child(st, query, NS_DISCO_INFO,
	    "identity");

	xml_set_attr(st, n, "category", "pubsub");
	xml_set_attr(st, n, "type", "pep");
}

void im_pep_disco_items(struct im_req *req, struct xml_stanza *st,
    struct xml_node *query)
{
	struct server *srv = req->srv;
	const char *owner = owner_of(req);
	struct node_list nl = { NULL, 0 };
	struct buf ob = BUF_INIT;

	/* Items of a node (XEP-0060 5.5) are not listed here. */
	if (xml_attr(xml_first_elem(req->stanza), "node") != NULL)
		return;
	if (store_pep_node_list(srv->store, owner, collect_node, &nl) !=
	    STORE_OK)
		log_error("pep of %s: %s", owner, store_errmsg(srv->store));
	bare_of(srv, owner, &ob);
	for (size_t i = 0; i < nl.n; i++) {
		struct xml_node *it;

		if (!may_retrieve(srv, owner, nl.v[i].node, &nl.v[i].c,
		    req->from->bare))
			continue;
		it = xml_add_child(st, query, NS_DISCO_ITEMS, "item");
		xml_set_attr(st, it, "jid", ob.data);
		xml_set_attr(st, it, "node", nl.v[i].node);
	}
	buf_free(&ob);
	node_list_free(&nl);
}
