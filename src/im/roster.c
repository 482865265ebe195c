/*
 * roster.c - the roster (RFC 6121 2) and subscriptions (RFC 6121 3,
 * including pre-approval 3.4), for contacts on this server.
 *
 * Both ends of every subscription live here, so each presence of type
 * subscribe/subscribed/unsubscribe/unsubscribed is processed twice: once
 * as outbound at the sender's account, then as inbound at the contact's
 * (RFC 6121 Appendix A).  Every state change is written before anything
 * is sent, pushed to the account's interested resources (those that
 * fetched the roster), and bumps the roster version (XEP-0237).
 *
 * A request to an account that cannot answer now is kept (pending_in and
 * the request itself) and shown when one of its resources next becomes
 * available; a request already pending is not shown twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "im/im.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Longest roster item name and group name accepted (bytes). */
#define NAME_MAX_BYTES	1023

/* The localpart if bare is an account on this server, else NULL (the
 * returned pointer is into a static buffer). */
static const char *local_of(const struct server *srv, const char *bare)
{
	static char local[1024];
	const char *at = strchr(bare, '@');
	size_t n;

	if (at == NULL || strcmp(at + 1, srv->cfg->domain) != 0)
		return NULL;
	n = (size_t)(at - bare);
	if (n == 0 || n >= sizeof(local))
		return NULL;
	memcpy(local, bare, n);
	local[n] = '\0';
	return local;
}

static void bare_of_local(const struct server *srv, const char *local,
    struct buf *out)
{
	buf_printf(out, "%s@%s", local, srv->cfg->domain);
}

unsigned im_roster_sub(struct server *srv, const char *user,
    const char *contact)
{
	struct roster_item it;
	unsigned sub;

	if (store_roster_get(srv->store, user, contact, &it) != STORE_OK)
		return SUB_NONE;
	sub = it.sub;
	roster_item_clear(&it);
	return sub;
}

int im_may_see_presence(struct server *srv, const char *owner,
    const char *viewer_bare)
{
	struct buf b = BUF_INIT;
	int self;

	bare_of_local(srv, owner, &b);
	self = strcmp(b.data, viewer_bare) == 0;
	buf_free(&b);
	/* Blocking (XEP-0191) hides both sides from each other. */
	return self || ((im_roster_sub(srv, owner, viewer_bare) & SUB_FROM) &&
	    !im_block_accounts(srv, owner, viewer_bare));
}

static void item_xml(struct xml_stanza *st, struct xml_node *q,
    const struct roster_item *it, int removed)
{
	struct xml_node *n = xml_add_child(st, q, NULL, "item");

	xml_set_attr(st, n, "jid", it->contact);
	if (removed) {
		xml_set_attr(st, n, "subscription", "remove");
		return;
	}
	if (it->name != NULL)
		xml_set_attr(st, n, "name", it->name);
	xml_set_attr(st, n, "subscription", sub_state_name(it->sub));
	if (it->ask)
		xml_set_attr(st, n, "ask", "subscribe");
	if (it->approved)
		xml_set_attr(st, n, "approved", "true");
	for (size_t i = 0; i < it->ngroups; i++) {
		struct xml_node *g = xml_add_child(st, n, NULL, "group");
		xml_add_text(st, g, it->groups[i], strlen(it->groups[i]));
	}
}

/* RFC 6121 2.1.6: every interested resource learns of each change. */
static void push(struct server *srv, const char *user,
    const struct roster_item *it, int removed)
{
	static unsigned long long seq;
	struct session *s;
	uint64_t ver = 0;
	char vbuf[32], id[40];

	store_roster_version(srv->store, user, &ver);
	snprintf(vbuf, sizeof(vbuf), "%llu", (unsigned long long)ver);
	for (s = router_sessions(srv->router, user); s; s = s->acct_next) {
		struct xml_stanza *st;
		struct xml_node *root, *q;

		if (!s->roster_requested)
			continue;
		st = xml_stanza_new(NS_CLIENT, "iq");
		root = xml_root(st);
		snprintf(id, sizeof(id), "push%llu", ++seq);
		xml_set_attr(st, root, "type", "set");
		xml_set_attr(st, root, "id", id);
		xml_set_attr(st, root, "to", s->full);
		q = xml_add_child(st, root, NS_ROSTER, "query");
		xml_set_attr(st, q, "ver", vbuf);
		item_xml(st, q, it, removed);
		session_send(s, root);
		xml_stanza_free(st);
	}
}

/* Writes the row (or drops it when nothing is left of it) and pushes a
 * change the user can see. */
static int save(struct server *srv, const char *user,
    const struct roster_item *it, int was_visible)
{
	enum store_rc rc;

	if (!it->visible && it->sub == SUB_NONE && !it->ask &&
	    !it->pending_in && !it->approved) {
		rc = store_roster_delete(srv->store, user, it->contact);
		if (rc == STORE_NOT_FOUND)
			rc = STORE_OK;
	} else {
		rc = store_roster_put(srv->store, user, it);
	}
	if (rc != STORE_OK) {
		log_error("roster of %s: %s", user, store_errmsg(srv->store));
		return -1;
	}
	im_consent_roster_changed(srv, user, it->contact);
	if (it->visible || was_visible)
		push(srv, user, it, !it->visible);
	return 0;
}

static void load(struct server *srv, const char *user, const char *contact,
    struct roster_item *it)
{
	if (store_roster_get(srv->store, user, contact, it) != STORE_OK) {
		memset(it, 0, sizeof(*it));
		it->contact = xstrdup(contact);
	}
}

/* ---- delivery helpers ---------------------------------------------------- */

/* Availability presence may be held back for inactive clients (CSI);
 * subscription requests and answers never are. */
static void send_to_available(struct server *srv, const char *local,
    const char *from, const char *data, size_t len, int availability)
{
	for (struct session *s = router_sessions(srv->router, local); s;
	    s = s->acct_next) {
		if (!s->available)
			continue;
		if (availability)
			session_send_presence(s, from, data, len);
		else
			session_send_raw(s, data, len);
	}
}

/* A subscription-state presence from one bare JID to another. */
static void sub_stanza(const char *type, const char *from, const char *to,
    const struct xml_node *orig, struct buf *out)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "presence");
	struct xml_node *root = xml_root(st);

	xml_set_attr(st, root, "from", from);
	xml_set_attr(st, root, "to", to);
	xml_set_attr(st, root, "type", type);
	/* A request may carry a status and a nickname for the contact. */
	if (orig != NULL)
		for (struct xml_node *n = orig->children; n; n = n->next)
			if (n->type == XML_ELEM)
				xml_add_copy(st, root, n);
	router_serialize(root, out);
	xml_stanza_free(st);
}

/* Presence of each available resource of 'local' goes to every available
 * resource of 'to_local' (after an approval, RFC 6121 3.1.5). */
static void presence_to(struct server *srv, const char *local,
    const char *to_local, int unavailable)
{
	for (struct session *s = router_sessions(srv->router, local); s;
	    s = s->acct_next) {
		struct buf b = BUF_INIT;

		if (!s->available)
			continue;
		if (unavailable) {
			buf_puts(&b, "<presence from='");
			buf_put_xml_escaped(&b, s->full, strlen(s->full));
			buf_puts(&b, "' type='unavailable'/>");
		} else if (s->presence_xml != NULL) {
			buf_append(&b, s->presence_xml, s->presence_len);
		}
		if (b.len > 0)
			send_to_available(srv, to_local, s->full, b.data, b.len,
			    1);
		buf_free(&b);
	}
}

/* ---- inbound processing at the contact (RFC 6121 3.x.3) ------------------ */

static void inbound(struct server *srv, const char *type, const char *from,
    const char *from_local, const char *to_local,
    const struct xml_node *orig);

/* Outbound processing at the sender's account, then inbound at the
 * contact's when the contact is local. */
static void subscription(struct server *srv, const char *user,
    const char *contact, const char *type, const struct xml_node *orig)
{
	struct roster_item it;
	struct buf me = BUF_INIT;
	const char *clocal;
	int was_visible, deliver = 1;
	char *cl = NULL;

	bare_of_local(srv, user, &me);
	load(srv, user, contact, &it);
	was_visible = it.visible;
	clocal = local_of(srv, contact);
	if (clocal != NULL)
		cl = xstrdup(clocal);

	if (strcmp(type, "subscribe") == 0) {
		/* RFC 6121 3.1.2: remember the request, show the item. */
		if (!(it.sub & SUB_TO) && !it.ask) {
			it.ask = 1;
			it.visible = 1;
			save(srv, user, &it, was_visible);
		}
	} else if (strcmp(type, "subscribed") == 0) {
		if (it.pending_in) {
			/* 3.1.5: approving a request. */
			it.sub |= SUB_FROM;
			it.pending_in = 0;
			free(it.pending_stanza);
			it.pending_stanza = NULL;
			it.visible = 1;
			save(srv, user, &it, was_visible);
		} else if (!(it.sub & SUB_FROM)) {
			/* 3.4: pre-approval; nothing is sent. */
			if (!it.approved) {
				it.approved = 1;
				it.visible = 1;
				save(srv, user, &it, was_visible);
			}
			deliver = 0;
		} else {
			deliver = 0;	/* already approved: no change */
		}
	} else if (strcmp(type, "unsubscribe") == 0) {
		/* 3.3.2 */
		if ((it.sub & SUB_TO) || it.ask) {
			it.sub &= ~SUB_TO;
			it.ask = 0;
			save(srv, user, &it, was_visible);
		}
	} else {	/* unsubscribed, 3.2.2 */
		int had_from = it.sub & SUB_FROM;

		if (had_from || it.pending_in || it.approved) {
			it.sub &= ~SUB_FROM;
			it.pending_in = 0;
			it.approved = 0;
			free(it.pending_stanza);
			it.pending_stanza = NULL;
			save(srv, user, &it, was_visible);
		}
		/* 3.2.2: the contact stops seeing the user at once. */
		if (had_from && cl != NULL)
			presence_to(srv, user, cl, 1);
	}
	roster_item_clear(&it);
	/* XEP-0191: a contact that blocks the user hears nothing of it;
	 * the user's own side changed as for a request never answered. */
	if (deliver && cl != NULL && (im_block_accounts(srv, user, contact) &
	    IM_BLOCKED_BY_RECIPIENT))
		deliver = 0;
	if (deliver && cl != NULL)
		inbound(srv, type, me.data, user, cl, orig);
	if (deliver && cl != NULL && strcmp(type, "subscribed") == 0)
		presence_to(srv, user, cl, 0);
	/* Messages waiting for consent (im/consent.c) follow the answer. */
	im_consent_answered(srv, user, contact, type);
	free(cl);
	buf_free(&me);
}

static void inbound(struct server *srv, const char *type, const char *from,
    const char *from_local, const char *to_local,
    const struct xml_node *orig)
{
	struct roster_item it;
	struct buf out = BUF_INIT, tob = BUF_INIT;
	int was_visible;

	if (store_user_exists(srv->store, to_local) != STORE_OK) {
		/* 3.1.3: no such contact; answer for it with unsubscribed. */
		if (strcmp(type, "subscribe") == 0) {
			struct buf to = BUF_INIT;

			bare_of_local(srv, to_local, &to);
			inbound(srv, "unsubscribed", to.data, to_local,
			    from_local, NULL);
			buf_free(&to);
		}
		return;
	}
	load(srv, to_local, from, &it);
	was_visible = it.visible;
	bare_of_local(srv, to_local, &tob);
	sub_stanza(type, from, tob.data, orig, &out);
	buf_free(&tob);
	if (strcmp(type, "subscribe") == 0 &&
	    ((it.sub & SUB_FROM) || it.approved)) {
		struct buf me = BUF_INIT;

		if (!(it.sub & SUB_FROM)) {
			/* 3.4: the pre-approval is used up now. */
			it.sub |= SUB_FROM;
			it.approved = 0;
			save(srv, to_local, &it, was_visible);
		}
		roster_item_clear(&it);
		buf_free(&out);
		/* 3.1.3: approved already: the contact's account answers
		 * for it, and the user starts seeing the contact. */
		bare_of_local(srv, to_local, &me);
		inbound(srv, "subscribed", me.data, to_local, from_local, NULL);
		presence_to(srv, to_local, from_local, 0);
		buf_free(&me);
		return;
	}

	if (strcmp(type, "subscribe") == 0) {
		if (!it.pending_in) {
			it.pending_in = 1;
			free(it.pending_stanza);
			it.pending_stanza = xstrdup(out.data);
			save(srv, to_local, &it, was_visible);
			send_to_available(srv, to_local, from, out.data,
			    out.len, 0);
		}
		/* else: already pending, the user is not asked twice */
	} else if (strcmp(type, "subscribed") == 0) {
		/* 3.1.6: only an approval that was asked for counts. */
		if (it.ask) {
			it.sub |= SUB_TO;
			it.ask = 0;
			save(srv, to_local, &it, was_visible);
			send_to_available(srv, to_local, from, out.data,
			    out.len, 0);
		}
	} else if (strcmp(type, "unsubscribe") == 0) {
		/* 3.3.3 */
		if ((it.sub & SUB_FROM) || it.pending_in) {
			int had_from = it.sub & SUB_FROM;

			it.sub &= ~SUB_FROM;
			it.pending_in = 0;
			it.approved = 0;
			free(it.pending_stanza);
			it.pending_stanza = NULL;
			save(srv, to_local, &it, was_visible);
			send_to_available(srv, to_local, from, out.data,
			    out.len, 0);
			if (had_from)
				presence_to(srv, to_local, from_local, 1);
		}
	} else {	/* unsubscribed, 3.2.3 */
		if ((it.sub & SUB_TO) || it.ask) {
			it.sub &= ~SUB_TO;
			it.ask = 0;
			save(srv, to_local, &it, was_visible);
			send_to_available(srv, to_local, from, out.data,
			    out.len, 0);
		}
	}
	roster_item_clear(&it);
	buf_free(&out);
}

/* ---- entry points -------------------------------------------------------- */

/* 1 if contact is in the roster already or one more item fits. */
static int roster_has_room(struct server *srv, const char *user,
    const char *contact)
{
	struct roster_item it;
	unsigned count;
	int visible = 0;

	if (store_roster_get(srv->store, user, contact, &it) == STORE_OK)
		visible = it.visible;
	roster_item_clear(&it);
	if (visible)
		return 1;
	return store_roster_count(srv->store, user, &count) == STORE_OK &&
	    count < srv->cfg->max_roster_items;
}

void im_subscription(struct im_req *req)
{
	struct server *srv = req->srv;
	struct buf contact = BUF_INIT;

	if (req->target == T_SERVER || req->target == T_SELF) {
		/* Subscribing to oneself or the server means nothing. */
		return;
	}
	/* RFC 6121 3.1.2: subscriptions are between bare JIDs. */
	jid_bare_str(&req->to, &contact);
	if ((strcmp(req->type, "subscribe") == 0 ||
	    strcmp(req->type, "subscribed") == 0) &&
	    !roster_has_room(srv, req->from->user, contact.data)) {
		/* Both would put the contact in the roster: the item
		 * limit holds here as for a roster set. */
		im_error(req, ERR_NOT_ALLOWED,
		    "the roster is full (item limit reached)");
		buf_free(&contact);
		return;
	}
	im_consent_scrub(req->stanza);
	subscription(srv, req->from->user, contact.data, req->type,
	    req->stanza);
	buf_free(&contact);
}

int im_roster_room(struct server *srv, const char *user,
    const char *contact)
{
	return roster_has_room(srv, user, contact);
}

void im_roster_request(struct server *srv, const char *user,
    const char *contact, const struct xml_node *presence)
{
	subscription(srv, user, contact, "subscribe", presence);
}

struct pending_ctx {
	struct session	*s;
};

static void show_pending(void *ud, const struct roster_item *it)
{
	struct pending_ctx *pc = ud;

	/* A request from someone blocked waits, unseen (XEP-0191). */
	if (it->pending_in && it->pending_stanza != NULL &&
	    !im_block_accounts(pc->s->srv, pc->s->user, it->contact))
		session_send_raw(pc->s, it->pending_stanza,
		    strlen(it->pending_stanza));
}

void im_roster_deliver_pending(struct session *s)
{
	struct pending_ctx pc = { s };

	store_roster_list(s->srv->store, s->user, show_pending, &pc);
}

struct list_ctx {
	struct xml_stanza	*st;
	struct xml_node		*q;
};

static void add_visible(void *ud, const struct roster_item *it)
{
	struct list_ctx *lc = ud;

	if (it->visible)
		item_xml(lc->st, lc->q, it, 0);
}

void im_roster_get(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *q = xml_first_elem(req->stanza);
	const char *ver = xml_attr(q, "ver");
	struct list_ctx lc;
	uint64_t cur = 0;
	char vbuf[32];

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own roster");
		return;
	}
	if (store_roster_version(srv->store, req->from->user, &cur) !=
	    STORE_OK) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		return;
	}
	req->from->roster_requested = 1;
	snprintf(vbuf, sizeof(vbuf), "%llu", (unsigned long long)cur);
	if (ver != NULL && strcmp(ver, vbuf) == 0) {
		/* XEP-0237: the client's copy is current. */
		im_iq_result(req, NULL);
		return;
	}
	lc.st = xml_stanza_new(NS_ROSTER, "query");
	lc.q = xml_root(lc.st);
	xml_set_attr(lc.st, lc.q, "ver", vbuf);
	if (store_roster_list(srv->store, req->from->user, add_visible, &lc) !=
	    STORE_OK) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
	} else {
		im_iq_result(req, lc.q);
	}
	xml_stanza_free(lc.st);
}

static int valid_text(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NAME_MAX_BYTES;
}

static void roster_remove(struct im_req *req, const char *contact)
{
	struct server *srv = req->srv;
	const char *user = req->from->user;
	struct roster_item it;
	unsigned sub;
	int ask, pin;

	if (store_roster_get(srv->store, user, contact, &it) != STORE_OK ||
	    !it.visible) {
		roster_item_clear(&it);
		im_error(req, ERR_ITEM_NOT_FOUND, "no such roster item");
		return;
	}
	sub = it.sub;
	ask = it.ask;
	pin = it.pending_in;
	roster_item_clear(&it);
	/* RFC 6121 2.5.2: removing ends both directions of the
	 * subscription first. */
	if ((sub & SUB_TO) || ask)
		subscription(srv, user, contact, "unsubscribe", NULL);
	if ((sub & SUB_FROM) || pin)
		subscription(srv, user, contact, "unsubscribed", NULL);
	if (store_roster_delete(srv->store, user, contact) == STORE_ERR) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		return;
	}
	im_consent_roster_changed(srv, user, contact);
	memset(&it, 0, sizeof(it));
	it.contact = (char *)contact;
	im_iq_result(req, NULL);
	push(srv, user, &it, 1);
}

void im_roster_set(struct im_req *req)
{
	struct server *srv = req->srv;
	const char *user = req->from->user;
	struct xml_node *q = xml_first_elem(req->stanza), *item, *g;
	struct roster_item it, old;
	const char *jid, *sub, *name;
	struct jid j;
	struct buf contact = BUF_INIT;
	int exists, was_visible;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own roster");
		return;
	}
	item = xml_child(q, NS_ROSTER, "item");
	if (item == NULL || xml_count_elems(q) != 1) {
		im_error(req, ERR_BAD_REQUEST,
		    "a roster set carries exactly one item");
		return;
	}
	jid = xml_attr(item, "jid");
	if (jid == NULL || jid_parse(jid, &j) != 0) {
		im_error(req, ERR_BAD_REQUEST, "the item needs a valid jid");
		return;
	}
	if (j.resource != NULL) {
		jid_free(&j);
		im_error(req, ERR_BAD_REQUEST, "roster items are bare JIDs");
		return;
	}
	jid_bare_str(&j, &contact);
	sub = xml_attr(item, "subscription");
	/* A group may keep its accounts to this server's (xmpp/policy.h);
	 * removing an item is always allowed. */
	if ((sub == NULL || strcmp(sub, "remove") != 0) &&
	    strcmp(j.domain, srv->cfg->domain) != 0) {
		int had = store_roster_get(srv->store, user, contact.data,
		    &old) == STORE_OK;

		if (had) {
			had = old.visible;
			roster_item_clear(&old);
		}
		if (!had && policy_contact_refused(req->from, req->stanza,
		    j.domain)) {
			jid_free(&j);
			buf_free(&contact);
			return;
		}
	}
	jid_free(&j);
	if (sub != NULL && strcmp(sub, "remove") == 0) {
		roster_remove(req, contact.data);
		buf_free(&contact);
		return;
	}
	if (strcmp(contact.data, req->from->bare) == 0) {
		buf_free(&contact);
		im_error(req, ERR_NOT_ALLOWED, "you cannot add yourself");
		return;
	}
	exists = store_roster_get(srv->store, user, contact.data, &old) ==
	    STORE_OK;
	if (!exists)
		memset(&old, 0, sizeof(old));
	was_visible = old.visible;
	if (!was_visible && !roster_has_room(srv, user, contact.data)) {
		roster_item_clear(&old);
		buf_free(&contact);
		im_error(req, ERR_NOT_ALLOWED,
		    "the roster is full (item limit reached)");
		return;
	}
	/* 2.3.2: the client sets name and groups; subscription state is
	 * the server's, whatever the client sends. */
	memset(&it, 0, sizeof(it));
	it.contact = contact.data;
	it.sub = old.sub;
	it.ask = old.ask;
	it.pending_in = old.pending_in;
	it.approved = old.approved;
	it.pending_stanza = old.pending_stanza;
	it.visible = 1;
	name = xml_attr(item, "name");
	if (name != NULL && name[0] != '\0') {
		if (!valid_text(name)) {
			im_error(req, ERR_NOT_ACCEPTABLE, "name too long");
			goto out;
		}
		it.name = (char *)name;
	}
	for (g = xml_first_elem(item); g; g = xml_next_elem(g)) {
		struct buf gb = BUF_INIT;

		if (strcmp(g->name, "group") != 0)
			continue;
		xml_text(g, &gb);
		if (!valid_text(buf_str(&gb))) {
			buf_free(&gb);
			im_error(req, ERR_NOT_ACCEPTABLE,
			    "group names are 1 to 1023 bytes");
			goto out;
		}
		for (size_t i = 0; i < it.ngroups; i++) {
			if (strcmp(it.groups[i], gb.data) == 0) {
				buf_free(&gb);
				im_error(req, ERR_BAD_REQUEST,
				    "a group is named twice");
				goto out;
			}
		}
		if (it.ngroups == ROSTER_MAX_GROUPS) {
			buf_free(&gb);
			im_error(req, ERR_NOT_ACCEPTABLE, "too many groups");
			goto out;
		}
		it.groups[it.ngroups++] = buf_steal(&gb);
	}
	if (store_roster_put(srv->store, user, &it) != STORE_OK) {
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		goto out;
	}
	im_iq_result(req, NULL);
	push(srv, user, &it, 0);
out:
	for (size_t i = 0; i < it.ngroups; i++)
		free(it.groups[i]);
	roster_item_clear(&old);
	buf_free(&contact);
}
