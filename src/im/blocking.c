/*
 * blocking.c - blocking (XEP-0191) with AOL's meaning, "prevents both of
 * you from seeing each other and from sending each other any more
 * messages", and the spam reports (XEP-0377) that come with a block.
 *
 * Protocol: <blocklist/> (get), <block/> with one or more items, <unblock/>
 * with items or with none (everything).  The requester gets the result,
 * then every resource of the account that fetched the blocklist gets the
 * change as a push.  A block is all or nothing: an item without a jid or
 * an empty block is bad-request, a malformed JID jid-malformed, the own
 * account not-acceptable (XEP-0191 7: a user's resources never block each
 * other), more than [limits] max_blocklist_items not-acceptable (the
 * request does not meet the server's criteria; trying again will not
 * help, so not the 'wait' of resource-constraint).
 *
 * Items are normalised JIDs and match as XEP-0191 5 and XEP-0016 say:
 *   user@domain/resource   that resource only
 *   user@domain            every resource of the account
 *   domain/resource        that one JID
 *   domain                 the domain and every JID at it (no subdomains,
 *                          as in XEP-0191 1.3); the own domain means
 *                          everyone else on this server
 *
 * THE decision is im_block_between(): whether the sender's list names the
 * recipient (the sender blocks) or the recipient's names the sender, each
 * list matched against the other side's JID as addressed.  What follows
 * (XEP-0191 3.3), both ways and at once:
 *   - blocker to blocked: messages, IQ get/set and presence with a 'to'
 *     (directed, subscription, probe) are refused with not-acceptable and
 *     <blocked xmlns='urn:xmpp:blocking:errors'/>;
 *   - blocked to blocker: a message gets service-unavailable in the words
 *     an unknown account gets, an IQ get/set for a resource
 *     service-unavailable as from an offline one, an IQ for the account
 *     (disco, vCard, PEP, ...) what any stranger gets (an error: the
 *     blocker shows nothing, not even open PEP nodes), and presence
 *     nothing at all (a subscription request only changes the
 *     requester's own roster, like one that is never answered); the
 *     blocked side cannot tell that it is blocked;
 *   - results and errors are dropped either way (nothing answers them);
 *   - presence: the moment a block lands, each side's available resources
 *     that could see the other get unavailable from them; afterwards no
 *     presence, probe answer, PEP event or disco/vCard answer crosses
 *     (im_may_see_presence() says no);
 *   - what the blocked JID left waiting goes: offline messages, messages
 *     held for consent (im_consent_forget()); a stored subscription
 *     request from it is not shown while the block lasts.
 * Unblocking restores the ordinary rules: where the roster lets one side
 * see the other, the other's available resources get its current
 * presence at once (a local probe, both ways).
 *
 * A report (XEP-0377: urn:xmpp:reporting:1, and the 0.1 form
 * urn:xmpp:reporting:0 with <spam/> or <abuse/>) inside a block item
 * blocks like any item and is queued for the admin (parleyctl reports) in
 * the same transaction, with what the server knows and never a message
 * body: reason, the reporter's text (cut to PARLEY_REPORT_TEXT_MAX bytes),
 * the stanza ids the reporter named, how many messages the reported JID
 * sent the reporter while the reporter was online (counted in memory
 * since a stated time), how many offline and consent-held messages the
 * block deleted, the reporter's roster state with it, and when the
 * reported account was created.
 *
 * Cost: while no account on the server has a blocklist (a count read
 * from the store once and kept up), a check is one compare.  Otherwise
 * each online account's list is in memory from first use until its last
 * session ends: a check is two hash lookups and a scan of two short
 * lists, and only an offline account's list is read from the store.
 * Every message for an online account also bumps its small table of
 * recent senders (RECENT_MAX, for reports): a hash lookup and a scan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "store/block.h"
#include "store/held.h"
#include "store/offline.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Senders remembered per online account, for reports. */
#define RECENT_MAX	16
/* Longest report reason (a URI) accepted. */
#define REASON_MAX	256

struct recent {
	char		*local, *domain;	/* the sender's account */
	unsigned	 n;
	int64_t		 since, last;
};

struct blist {
	struct jid	*v;		/* the items, parsed */
	size_t		 n;
	/* Senders missing from recent[] sent nothing since then. */
	int64_t		 counted_since;
	struct recent	 recent[RECENT_MAX];
	size_t		 nrecent;
};

static struct {
	struct hmap	*lists;		/* online localpart -> blist */
	unsigned	 accounts;	/* accounts with a non-empty list */
	int		 ready;
} bs;

static void ready(struct server *srv)
{
	if (bs.ready)
		return;
	bs.ready = 1;
	bs.lists = hmap_new();
	if (store_block_accounts(srv->store, &bs.accounts) != STORE_OK) {
		log_error("blocking: %s", store_errmsg(srv->store));
		bs.accounts = 1;	/* unknown: no short cut */
	}
}

/* ---- lists --------------------------------------------------------------- */

static void add_parsed(void *ud, const char *jid)
{
	struct blist *l = ud;
	struct jid j;

	if (jid_parse(jid, &j) != 0)
		return;		/* stored normalised: never */
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = j;
}

static void items_free(struct blist *l)
{
	for (size_t i = 0; i < l->n; i++)
		jid_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Reads the items; a store failure leaves the list empty (logged). */
static void items_read(struct server *srv, const char *local,
    struct blist *l)
{
	items_free(l);
	if (store_block_list(srv->store, local, add_parsed, l) != STORE_OK)
		log_error("blocklist of %s: %s", local,
		    store_errmsg(srv->store));
}

static void list_free(struct blist *l)
{
	items_free(l);
	for (size_t i = 0; i < l->nrecent; i++) {
		free(l->recent[i].local);
		free(l->recent[i].domain);
	}
	free(l);
}

/* An online account's list, read at first use; NULL when it is offline. */
static struct blist *cached(struct server *srv, const char *local)
{
	struct blist *l = hmap_get(bs.lists, local);

	if (l == NULL && router_sessions(srv->router, local) != NULL) {
		l = xcalloc(1, sizeof(*l));
		l->counted_since = clock_wall_s();
		items_read(srv, local, l);
		hmap_put(bs.lists, local, l);
	}
	return l;
}

void im_block_account_offline(struct server *srv, const char *local)
{
	struct blist *l;

	if (!bs.ready || (l = hmap_del(bs.lists, local)) == NULL)
		return;
	list_free(l);
}

/* ---- matching (XEP-0191 5) ----------------------------------------------- */

static int item_matches(const struct jid *it, const struct jid *peer)
{
	if (strcmp(it->domain, peer->domain) != 0)
		return 0;
	if (it->local == NULL) {
		if (it->resource == NULL)
			return 1;
		return peer->local == NULL && peer->resource != NULL &&
		    strcmp(it->resource, peer->resource) == 0;
	}
	if (peer->local == NULL || strcmp(it->local, peer->local) != 0)
		return 0;
	return it->resource == NULL || (peer->resource != NULL &&
	    strcmp(it->resource, peer->resource) == 0);
}

static int list_matches(const struct jid *v, size_t n,
    const struct jid *peer)
{
	for (size_t i = 0; i < n; i++)
		if (item_matches(&v[i], peer))
			return 1;
	return 0;
}

static int is_ours(const struct server *srv, const struct jid *j)
{
	return j->local != NULL && strcmp(j->domain, srv->cfg->domain) == 0;
}

/* Whether the list of owner (a local account) names peer. */
static int names(struct server *srv, const char *owner,
    const struct jid *peer)
{
	struct blist *l = cached(srv, owner), tmp;
	int hit;

	if (l != NULL)
		return list_matches(l->v, l->n, peer);
	/* Offline: its list is not kept. */
	memset(&tmp, 0, sizeof(tmp));
	items_read(srv, owner, &tmp);
	hit = list_matches(tmp.v, tmp.n, peer);
	items_free(&tmp);
	return hit;
}

unsigned im_block_between(struct server *srv, const struct jid *from,
    const struct jid *to)
{
	unsigned by = IM_BLOCK_NONE;

	ready(srv);
	if (bs.accounts == 0)
		return IM_BLOCK_NONE;
	if (from->local != NULL && to->local != NULL &&
	    strcmp(from->local, to->local) == 0 &&
	    strcmp(from->domain, to->domain) == 0)
		return IM_BLOCK_NONE;	/* one account's own resources */
	if (is_ours(srv, from) && names(srv, from->local, to))
		by |= IM_BLOCKED_BY_SENDER;
	if (is_ours(srv, to) && names(srv, to->local, from))
		by |= IM_BLOCKED_BY_RECIPIENT;
	return by;
}

unsigned im_block_accounts(struct server *srv, const char *local,
    const char *peer_bare)
{
	struct jid a, b;
	unsigned by;

	ready(srv);
	if (bs.accounts == 0)
		return IM_BLOCK_NONE;
	if (jid_parse(peer_bare, &b) != 0)
		return IM_BLOCK_NONE;
	a.local = (char *)local;
	a.domain = srv->cfg->domain;
	a.resource = NULL;
	by = im_block_between(srv, &a, &b);
	jid_free(&b);
	return by;
}

/* ---- stanzas between accounts -------------------------------------------- */

/* A message for an online account: remember who sent it, for reports. */
static void count_received(struct server *srv, const struct jid *from,
    const char *to_local)
{
	struct blist *l = cached(srv, to_local);
	struct recent *r, *oldest = NULL;
	int64_t now;

	if (l == NULL || from->local == NULL)
		return;
	now = clock_wall_s();
	for (size_t i = 0; i < l->nrecent; i++) {
		r = &l->recent[i];
		if (strcmp(r->local, from->local) == 0 &&
		    strcmp(r->domain, from->domain) == 0) {
			r->n++;
			r->last = now;
			return;
		}
		if (oldest == NULL || r->last < oldest->last)
			oldest = r;
	}
	if (l->nrecent < RECENT_MAX) {
		r = &l->recent[l->nrecent++];
	} else {
		/* The forgotten sender's count is lost: for anyone not in
		 * the table, counts hold only from now on. */
		r = oldest;
		free(r->local);
		free(r->domain);
		l->counted_since = now;
	}
	r->local = xstrdup(from->local);
	r->domain = xstrdup(from->domain);
	r->n = 1;
	r->since = r->last = now;
}

/* XEP-0191 3.3: the blocker's own server refuses what it sends. */
static void refuse_blocked(struct im_req *req)
{
	struct xml_stanza *reply = stanza_error_reply(req->stanza,
	    ERR_NOT_ACCEPTABLE, "you have blocked this address; unblock it "
	    "to reach it");
	struct xml_node *root, *err;

	if (reply == NULL)
		return;
	root = xml_root(reply);
	err = xml_child(root, NULL, "error");
	xml_set_attr(reply, err, "type", "cancel");
	xml_add_child(reply, err, NS_BLOCKING_ERRORS, "blocked");
	xml_set_attr(reply, root, "to", req->from->full);
	session_send(req->from, root);
	xml_stanza_free(reply);
}

static int is_subscription(const char *type)
{
	return type != NULL && (strcmp(type, "subscribe") == 0 ||
	    strcmp(type, "subscribed") == 0 ||
	    strcmp(type, "unsubscribe") == 0 ||
	    strcmp(type, "unsubscribed") == 0);
}

int im_block_stops(struct im_req *req)
{
	const char *type = req->type;
	int answerable;
	unsigned by;

	if ((req->target != T_ACCOUNT && req->target != T_RESOURCE) ||
	    strcmp(req->to.local, req->from->user) == 0)
		return 0;
	if (req->kind == IM_IQ)
		answerable = strcmp(type, "get") == 0 ||
		    strcmp(type, "set") == 0;
	else
		answerable = type == NULL || strcmp(type, "error") != 0;
	by = im_block_between(req->srv, &req->from->jid, &req->to);
	if (by == IM_BLOCK_NONE) {
		if (req->kind == IM_MESSAGE && answerable)
			count_received(req->srv, &req->from->jid,
			    req->to.local);
		return 0;
	}
	if (by & IM_BLOCKED_BY_SENDER) {
		if (answerable)
			refuse_blocked(req);
		return 1;
	}
	/* Blocked by the recipient: as if nobody were there. */
	if (req->kind == IM_MESSAGE) {
		if (answerable)	/* message.c's words for no account */
			im_error(req, ERR_SERVICE_UNAVAILABLE, "no such user");
	} else if (req->kind == IM_IQ) {
		/* For the account itself the handlers answer as to any
		 * stranger (im_may_see_presence() says no), so the answer
		 * cannot give the block away; a resource is offline. */
		if (req->target == T_ACCOUNT && answerable)
			return 0;
		if (answerable)
			im_error(req, ERR_SERVICE_UNAVAILABLE,
			    "no such resource is online");
	} else if (is_subscription(type)) {
		/* The requester's own roster changes as for a request that
		 * is never answered; roster.c keeps it from the blocker. */
		return 0;
	}
	return 1;
}

/* ---- presence when a block starts or ends -------------------------------- */

/* 1 if s gave directed presence to o (its full or bare JID). */
static int directed_to(const struct session *s, const struct session *o)
{
	for (size_t i = 0; i < s->ndirected; i++) {
		struct jid j;
		int hit;

		if (jid_parse(s->directed[i], &j) != 0)
			continue;
		hit = j.local != NULL && strcmp(j.local, o->user) == 0 &&
		    strcmp(j.domain, o->jid.domain) == 0 &&
		    (j.resource == NULL ||
		    strcmp(j.resource, o->jid.resource) == 0);
		jid_free(&j);
		if (hit)
			return 1;
	}
	return 0;
}

static void send_unavailable(struct session *to, const struct session *of)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "<presence from='");
	buf_put_xml_escaped(&b, of->full, strlen(of->full));
	buf_puts(&b, "' type='unavailable'/>");
	session_send_presence(to, of->full, b.data, b.len);
	buf_free(&b);
}

struct pair_ctx {
	struct server	*srv;
	const char	*user;		/* who (un)blocked */
	const char	*bare;		/* its bare JID */
};

/* A block landed between user and o's account: whoever could see the
 * other's available resources sees them go. */
static void cut(struct pair_ctx *pc, struct session *o)
{
	struct server *srv = pc->srv;
	int o_sees, sees_o;

	if (!o->available)
		return;
	/* The roster itself: im_may_see_presence() says no from now on. */
	o_sees = im_roster_sub(srv, pc->user, o->bare) & SUB_FROM;
	sees_o = im_roster_sub(srv, o->user, pc->bare) & SUB_FROM;
	for (struct session *a = router_sessions(srv->router, pc->user); a;
	    a = a->acct_next) {
		if (!a->available)
			continue;
		if (o_sees || directed_to(a, o))
			send_unavailable(o, a);
		if (sees_o || directed_to(o, a))
			send_unavailable(a, o);
	}
}

/* An item went: where nothing blocks any more, both sides see what the
 * roster lets them see, at once. */
static void restore(struct pair_ctx *pc, struct session *o)
{
	struct server *srv = pc->srv;
	int o_sees, sees_o;

	if (!o->available)
		return;
	o_sees = im_may_see_presence(srv, pc->user, o->bare);
	sees_o = im_may_see_presence(srv, o->user, pc->bare);
	for (struct session *a = router_sessions(srv->router, pc->user); a;
	    a = a->acct_next) {
		if (!a->available ||
		    im_block_between(srv, &a->jid, &o->jid) != IM_BLOCK_NONE)
			continue;
		if (o_sees && a->presence_xml != NULL)
			session_send_presence(o, a->full, a->presence_xml,
			    a->presence_len);
		if (sees_o && o->presence_xml != NULL)
			session_send_presence(a, o->full, o->presence_xml,
			    o->presence_len);
	}
}

/* Calls fn for each bound session of another account that item names. */
static void each_named(struct pair_ctx *pc, const struct jid *item,
    void (*fn)(struct pair_ctx *pc, struct session *o))
{
	struct server *srv = pc->srv;
	struct session *o;

	if (item->local != NULL) {
		if (strcmp(item->domain, srv->cfg->domain) != 0 ||
		    strcmp(item->local, pc->user) == 0)
			return;	/* no federation yet; never oneself */
		for (o = router_sessions(srv->router, item->local); o;
		    o = o->acct_next)
			if (item_matches(item, &o->jid))
				fn(pc, o);
		return;
	}
	/* A domain item: everyone online there (rare, and once). */
	for (o = srv->sessions; o != NULL; o = o->all_next)
		if (o->full != NULL && o->user != NULL &&
		    strcmp(o->user, pc->user) != 0 &&
		    router_session(srv->router, o->user, o->jid.resource) ==
		    o && item_matches(item, &o->jid))
			fn(pc, o);
}

/* ---- the protocol -------------------------------------------------------- */

/* RFC 6121 2.1.6 style: each resource that fetched the list hears. */
static void push(struct server *srv, const char *user, const char *what,
    char *const *jids, size_t n)
{
	static unsigned long long seq;
	char id[40];

	for (struct session *s = router_sessions(srv->router, user); s;
	    s = s->acct_next) {
		struct xml_stanza *st;
		struct xml_node *root, *el;

		if (!s->blocklist_requested)
			continue;
		st = xml_stanza_new(NS_CLIENT, "iq");
		root = xml_root(st);
		snprintf(id, sizeof(id), "block-push%llu", ++seq);
		xml_set_attr(st, root, "type", "set");
		xml_set_attr(st, root, "id", id);
		xml_set_attr(st, root, "to", s->full);
		el = xml_add_child(st, root, NS_BLOCKING, what);
		for (size_t i = 0; i < n; i++)
			xml_set_attr(st, xml_add_child(st, el, NULL, "item"),
			    "jid", jids[i]);
		session_send(s, root);
		xml_stanza_free(st);
	}
}

struct list_xml {
	struct xml_stanza	*st;
	struct xml_node		*el;
};

static void add_item_xml(void *ud, const char *jid)
{
	struct list_xml *lx = ud;

	xml_set_attr(lx->st, xml_add_child(lx->st, lx->el, NULL, "item"),
	    "jid", jid);
}

void im_blocklist(struct im_req *req)
{
	struct list_xml lx;

	lx.st = xml_stanza_new(NS_BLOCKING, "blocklist");
	lx.el = xml_root(lx.st);
	if (store_block_list(req->srv->store, req->from->user, add_item_xml,
	    &lx) != STORE_OK) {
		log_error("blocklist of %s: %s", req->from->user,
		    store_errmsg(req->srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
	} else {
		req->from->blocklist_requested = 1;
		im_iq_result(req, lx.el);
	}
	xml_stanza_free(lx.st);
}

/* The items of a block or unblock request, checked. */
struct items {
	char			**jids;		/* normalised */
	struct jid		 *v;
	const struct xml_node	**report;	/* or NULL, per item */
	size_t			  n;
};

static void items_clear(struct items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		free(it->jids[i]);
		jid_free(&it->v[i]);
	}
	free(it->jids);
	free(it->v);
	free(it->report);
	memset(it, 0, sizeof(*it));
}

static const struct xml_node *report_of(const struct xml_node *item)
{
	const struct xml_node *r = xml_child(item, NS_REPORTING, "report");

	return r != NULL ? r : xml_child(item, NS_REPORTING_0, "report");
}

/* Reads the items; on a bad one answers the request and returns -1. */
static int parse_items(struct im_req *req, const struct xml_node *el,
    int blocking, struct items *it)
{
	memset(it, 0, sizeof(*it));
	for (const struct xml_node *n = xml_first_elem(el); n;
	    n = xml_next_elem(n)) {
		const char *v = xml_attr(n, "jid");
		struct buf b = BUF_INIT;
		struct jid j;
		size_t k;

		if (strcmp(n->ns, NS_BLOCKING) != 0 ||
		    strcmp(n->name, "item") != 0)
			continue;	/* not ours: ignored */
		if (v == NULL) {
			im_error(req, ERR_BAD_REQUEST,
			    "each item needs a jid attribute");
			return -1;
		}
		if (jid_parse(v, &j) != 0) {
			im_error(req, ERR_JID_MALFORMED,
			    "an item's jid is not a valid JID");
			return -1;
		}
		if (blocking && j.local != NULL &&
		    strcmp(j.local, req->from->user) == 0 &&
		    strcmp(j.domain, req->srv->cfg->domain) == 0) {
			jid_free(&j);
			im_error(req, ERR_NOT_ACCEPTABLE,
			    "you cannot block your own account");
			return -1;
		}
		jid_full_str(&j, &b);
		for (k = 0; k < it->n; k++)
			if (strcmp(it->jids[k], b.data) == 0)
				break;
		if (k < it->n) {	/* named twice: once is enough */
			jid_free(&j);
			buf_free(&b);
			continue;
		}
		it->jids = xrealloc(it->jids, (it->n + 1) * sizeof(*it->jids));
		it->v = xrealloc(it->v, (it->n + 1) * sizeof(*it->v));
		it->report = xrealloc(it->report,
		    (it->n + 1) * sizeof(*it->report));
		it->jids[it->n] = buf_steal(&b);
		it->v[it->n] = j;
		it->report[it->n] = blocking ? report_of(n) : NULL;
		it->n++;
	}
	return 0;
}

/* ---- reports (XEP-0377) -------------------------------------------------- */

struct report_in {
	struct block_report	 r;
	char			*reason;
	struct buf		 text, ids;
};

/* Appends at most max bytes of s, cut at a character boundary (s is
 * valid UTF-8: the parser saw to it). */
static void put_cut(struct buf *out, const char *s, size_t len, size_t max)
{
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	buf_append(out, s, len);
}

/* The reason, text and stanza ids; -1 (answered) when malformed. */
static int parse_report(struct im_req *req, const struct xml_node *rep,
    struct report_in *ri)
{
	const struct xml_node *t = NULL;
	const char *reason;
	unsigned nids = 0;

	if (strcmp(rep->ns, NS_REPORTING) == 0) {
		reason = xml_attr(rep, "reason");
		if (reason == NULL || reason[0] == '\0' ||
		    strlen(reason) > REASON_MAX) {
			im_error(req, ERR_BAD_REQUEST,
			    "a report needs a reason (a URI)");
			return -1;
		}
	} else {
		/* 0.1: the reason is a child element. */
		reason = "unspecified";
		if (xml_child(rep, NS_REPORTING_0, "spam") != NULL)
			reason = "urn:xmpp:reporting:spam";
		else if (xml_child(rep, NS_REPORTING_0, "abuse") != NULL)
			reason = "urn:xmpp:reporting:abuse";
	}
	ri->reason = xstrdup(reason);
	for (const struct xml_node *n = xml_first_elem(rep); n;
	    n = xml_next_elem(n)) {
		const char *id;

		if (strcmp(n->name, "text") == 0 && strcmp(n->ns, rep->ns) ==
		    0 && t == NULL) {
			struct buf b = BUF_INIT;

			t = n;
			xml_text(n, &b);
			put_cut(&ri->text, buf_str(&b), b.len,
			    PARLEY_REPORT_TEXT_MAX);
			buf_free(&b);
		} else if (strcmp(n->ns, NS_SID) == 0 &&
		    strcmp(n->name, "stanza-id") == 0 &&
		    (id = xml_attr(n, "id")) != NULL && id[0] != '\0' &&
		    strlen(id) <= PARLEY_REPORT_ID_MAX &&
		    nids < PARLEY_REPORT_IDS_MAX) {
			if (nids++ > 0)
				buf_putc(&ri->ids, REPORT_ID_SEP);
			buf_puts(&ri->ids, id);
		}
	}
	return 0;
}

/* Counts without deleting: store_offline_forget() asks, nothing goes. */
struct offline_count {
	const struct jid	*item;
	unsigned		 n;
};

static int count_offline(void *ud, const char *sender)
{
	struct offline_count *oc = ud;
	struct jid j;

	if (jid_parse(sender, &j) != 0)
		return 0;
	if (item_matches(oc->item, &j))
		oc->n++;
	jid_free(&j);
	return 0;
}

struct senders {
	char	**v;
	size_t	  n;
};

static void add_sender(void *ud, const char *sender)
{
	struct senders *ss = ud;

	ss->v = xrealloc(ss->v, (ss->n + 1) * sizeof(*ss->v));
	ss->v[ss->n++] = xstrdup(sender);
}

static void senders_free(struct senders *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->v[i]);
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}

/* Whether a held sender (a bare JID) is one of the n items. */
static int sender_named(const char *sender, const struct jid *v, size_t n)
{
	struct jid j;
	int hit;

	if (jid_parse(sender, &j) != 0)
		return 0;
	hit = list_matches(v, n, &j);
	jid_free(&j);
	return hit;
}

/* What the server knows of item, for the report (before the block). */
static void report_facts(struct server *srv, struct session *me,
    const struct jid *item, const struct senders *held,
    struct report_in *ri)
{
	struct block_report *r = &ri->r;
	struct blist *l = cached(srv, me->user);
	struct offline_count oc = { item, 0 };
	struct roster_item rit;
	struct buf bare = BUF_INIT;

	r->stamp = clock_wall_s();
	r->reporter = me->bare;
	r->reason = ri->reason;
	r->text = ri->text.len > 0 ? ri->text.data : NULL;
	r->stanza_ids = ri->ids.len > 0 ? ri->ids.data : NULL;
	r->received = -1;
	r->received_since = -1;
	r->reported_created = -1;
	if (l != NULL && item->local != NULL) {
		r->received = 0;
		r->received_since = l->counted_since;
		for (size_t i = 0; i < l->nrecent; i++)
			if (strcmp(l->recent[i].local, item->local) == 0 &&
			    strcmp(l->recent[i].domain, item->domain) == 0) {
				r->received = l->recent[i].n;
				r->received_since = l->recent[i].since;
			}
	}
	if (store_offline_forget(srv->store, me->user, count_offline, &oc,
	    NULL) == STORE_OK)
		r->offline_deleted = oc.n;
	for (size_t i = 0; i < held->n; i++) {
		struct buf preview = BUF_INIT;
		unsigned c = 0;

		/* The preview is a body's first line: read and dropped. */
		if (sender_named(held->v[i], item, 1) &&
		    store_held_summary(srv->store, me->user, held->v[i],
		    &preview, &c) == STORE_OK)
			r->held_deleted += c;
		buf_free(&preview);
	}
	if (item->local != NULL && item->resource == NULL) {
		jid_bare_str(item, &bare);
		if (store_roster_get(srv->store, me->user, bare.data, &rit) ==
		    STORE_OK)
			r->roster = sub_state_name(rit.sub);
		roster_item_clear(&rit);
		buf_free(&bare);
	}
	if (is_ours(srv, item))
		store_user_created(srv->store, item->local,
		    &r->reported_created);
}

static void reports_free(struct report_in *ri, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ri[i].reason);
		buf_free(&ri[i].text);
		buf_free(&ri[i].ids);
	}
	free(ri);
}

/* ---- block and unblock --------------------------------------------------- */

static int blocked_sender(void *ud, const char *sender)
{
	const struct items *it = ud;
	struct jid j;
	int hit;

	if (jid_parse(sender, &j) != 0)
		return 0;
	hit = list_matches(it->v, it->n, &j);
	jid_free(&j);
	return hit;
}

static int from_account(void *ud, const char *sender)
{
	const struct session *me = ud;
	struct jid j;
	int hit;

	if (jid_parse(sender, &j) != 0)
		return 0;
	hit = j.local != NULL && strcmp(j.local, me->user) == 0 &&
	    strcmp(j.domain, me->jid.domain) == 0;
	jid_free(&j);
	return hit;
}

/* Traffic stops both ways: what the user left waiting for an account it
 * blocks whole goes too (not for a resource or a domain: the user may
 * still be writing to the rest). */
static void forget_sent(struct server *srv, struct session *me,
    const struct jid *item)
{
	if (!is_ours(srv, item) || item->resource != NULL)
		return;
	if (store_offline_forget(srv->store, item->local, from_account, me,
	    NULL) != STORE_OK)
		log_error("blocking: offline messages for %s: %s",
		    item->local, store_errmsg(srv->store));
	im_consent_forget(srv, item->local, me->bare);
}

/* The list in memory follows the store; the count of accounts with a
 * list follows the list. */
static void reload(struct server *srv, const char *user)
{
	struct blist *l = cached(srv, user);
	int had;

	if (l == NULL)
		return;		/* the requester is online: never */
	had = l->n > 0;
	items_read(srv, user, l);
	if (!had && l->n > 0)
		bs.accounts++;
	else if (had && l->n == 0 && bs.accounts > 0)
		bs.accounts--;
}

/* One audit event per block or unblock request: how many JIDs and which
 * (as many as fit the detail). */
static void audit_items(struct server *srv, const struct session *me,
    const char *kind, int all, const struct items *it)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < it->n && b.len < PARLEY_AUDIT_DETAIL_MAX / 2;
	    i++) {
		if (i > 0)
			buf_putc(&b, ',');
		buf_puts(&b, it->jids[i]);
	}
	if (b.len >= PARLEY_AUDIT_DETAIL_MAX / 2 && it->n > 1)
		buf_puts(&b, ",...");
	server_audit(srv, kind, me->user, me->addr, "items=%zu%s%s%s", it->n,
	    all ? " all" : "", it->n > 0 ? " jids=" : "", buf_str(&b));
	buf_free(&b);
}

void im_block(struct im_req *req)
{
	struct server *srv = req->srv;
	struct session *me = req->from;
	struct items it;
	struct senders held = { NULL, 0 };
	struct report_in *ri = NULL;
	struct block_report *reps = NULL;
	struct pair_ctx pc = { srv, me->user, me->bare };
	size_t nr = 0;
	unsigned dropped = 0;
	enum store_rc rc;
	char esc[128];

	ready(srv);
	cached(srv, me->user);	/* before the change: reload() compares */
	if (parse_items(req, xml_first_elem(req->stanza), 1, &it) != 0)
		goto out;
	if (it.n == 0) {
		im_error(req, ERR_BAD_REQUEST,
		    "a block needs at least one item");
		goto out;
	}
	if (store_held_senders(srv->store, me->user, add_sender, &held) !=
	    STORE_OK)
		log_error("blocking: %s", store_errmsg(srv->store));
	ri = xcalloc(it.n, sizeof(*ri));
	for (size_t i = 0; i < it.n; i++) {
		if (it.report[i] == NULL)
			continue;
		if (parse_report(req, it.report[i], &ri[nr]) != 0) {
			nr++;	/* freed with the others */
			goto out;
		}
		report_facts(srv, me, &it.v[i], &held, &ri[nr]);
		ri[nr].r.reported = it.jids[i];
		nr++;
	}
	reps = xcalloc(nr + 1, sizeof(*reps));
	for (size_t i = 0; i < nr; i++)
		reps[i] = ri[i].r;
	rc = store_block_add(srv->store, me->user, it.jids, it.n,
	    srv->cfg->max_blocklist_items, reps, nr, &dropped);
	if (rc == STORE_FULL) {
		char text[80];

		snprintf(text, sizeof(text), "the blocklist is full (%u items "
		    "at most)", srv->cfg->max_blocklist_items);
		im_error(req, ERR_NOT_ACCEPTABLE, text);
		goto out;
	}
	if (rc != STORE_OK) {
		log_error("blocklist of %s: %s", me->user,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		goto out;
	}
	for (size_t i = 0; i < nr; i++)
		log_info("report: %s reported %s (%s)", me->bare,
		    ri[i].r.reported, log_escape(esc, sizeof(esc),
		    ri[i].reason, strlen(ri[i].reason)));
	audit_items(srv, me, "block", 0, &it);
	/* The reporter's text is theirs to show the admin in the report
	 * queue; the audit trail names only who and why. */
	for (size_t i = 0; i < nr; i++)
		server_audit(srv, "report", me->user, me->addr,
		    "reported=%s reason=%s", ri[i].r.reported, ri[i].reason);
	if (dropped > 0)
		log_warn("report: %u from %s not queued: it has %u waiting "
		    "already", dropped, me->bare, PARLEY_REPORTS_PER_USER);
	reload(srv, me->user);
	im_iq_result(req, NULL);
	push(srv, me->user, "block", it.jids, it.n);
	/* What the blocked left waiting goes with the block. */
	if (store_offline_forget(srv->store, me->user, blocked_sender, &it,
	    NULL) != STORE_OK)
		log_error("blocking: offline messages of %s: %s", me->user,
		    store_errmsg(srv->store));
	for (size_t i = 0; i < held.n; i++)
		if (sender_named(held.v[i], it.v, it.n))
			im_consent_forget(srv, me->user, held.v[i]);
	for (size_t i = 0; i < it.n; i++)
		forget_sent(srv, me, &it.v[i]);
	for (size_t i = 0; i < it.n; i++)
		each_named(&pc, &it.v[i], cut);
out:
	free(reps);
	reports_free(ri, nr);
	senders_free(&held);
	items_clear(&it);
}

void im_unblock(struct im_req *req)
{
	struct server *srv = req->srv;
	struct session *me = req->from;
	struct items it;
	struct pair_ctx pc = { srv, me->user, me->bare };
	struct blist *l;
	enum store_rc rc;
	int all;

	ready(srv);
	cached(srv, me->user);	/* before the change: reload() compares */
	if (parse_items(req, xml_first_elem(req->stanza), 0, &it) != 0)
		goto out;
	all = it.n == 0;
	if (all) {
		/* Everything listed now is what gets unblocked. */
		if ((l = cached(srv, me->user)) != NULL)
			for (size_t i = 0; i < l->n; i++) {
				struct buf b = BUF_INIT;

				jid_full_str(&l->v[i], &b);
				it.jids = xrealloc(it.jids, (it.n + 1) *
				    sizeof(*it.jids));
				it.v = xrealloc(it.v, (it.n + 1) *
				    sizeof(*it.v));
				it.jids[it.n] = buf_steal(&b);
				jid_copy(&it.v[it.n], &l->v[i]);
				it.n++;
			}
		rc = store_block_clear(srv->store, me->user);
	} else {
		rc = store_block_remove(srv->store, me->user, it.jids, it.n);
	}
	if (rc != STORE_OK) {
		log_error("blocklist of %s: %s", me->user,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		goto out;
	}
	reload(srv, me->user);
	im_iq_result(req, NULL);
	audit_items(srv, me, "unblock", all, &it);
	push(srv, me->user, "unblock", all ? NULL : it.jids, all ? 0 : it.n);
	for (size_t i = 0; i < it.n; i++)
		each_named(&pc, &it.v[i], restore);
out:
	items_clear(&it);
}
