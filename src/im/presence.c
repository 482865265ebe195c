/*
 * presence.c - presence by consent (RFC 6121 4).
 *
 * A user's presence reaches exactly: the user's own available resources,
 * the contacts whose roster subscription lets them see it (the user's item
 * for them has 'from' or 'both'), and whoever the user sent directed
 * presence to.  Nobody else, ever.
 *
 * Initial presence also answers for the contacts the user may see
 * (the local form of RFC 6121 4.3 probes: their resources' last presence
 * comes straight back), shows the user's other resources, pending
 * subscription requests, messages accepted from a first contact
 * (consent.c) and stored offline messages.  A session that ends
 * for any reason sends unavailable to the same people its presence went
 * to.  Each presence is serialized once and the same bytes go to every
 * recipient.  Blocking (blocking.c) stops presence both ways: a pair it
 * names is skipped wherever presence goes out.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "im/im.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Directed-presence recipients remembered per session. */
#define MAX_DIRECTED	256

struct contact {
	char		*local;		/* account on this server */
	char		*bare;
	unsigned	 sub;
};

struct contacts {
	const struct server	*srv;
	struct contact		*v;
	size_t			 n, cap;
};

static void collect(void *ud, const struct roster_item *it)
{
	struct contacts *c = ud;
	const char *at = strchr(it->contact, '@');

	/* Only local accounts: there is no federation yet. */
	if (it->sub == SUB_NONE || at == NULL ||
	    strcmp(at + 1, c->srv->cfg->domain) != 0)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].local = xstrndup(it->contact, (size_t)(at - it->contact));
	c->v[c->n].bare = xstrdup(it->contact);
	c->v[c->n].sub = it->sub;
	c->n++;
}

static void contacts_load(struct server *srv, const char *user,
    struct contacts *c)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	store_roster_list(srv->store, user, collect, c);
}

static void contacts_free(struct contacts *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].local);
		free(c->v[i].bare);
	}
	free(c->v);
}

static int is_directed(const struct session *s, const char *jid)
{
	for (size_t i = 0; i < s->ndirected; i++)
		if (strcmp(s->directed[i], jid) == 0)
			return 1;
	return 0;
}

/*
 * Sends the serialized presence of s to everyone allowed to see it: own
 * available resources (the sender too when self is set), subscribers, and
 * (for unavailable) directed-presence recipients.
 */
static void to_directed(struct session *s, const char *data, size_t len);

static void fan_out(struct session *s, const struct contacts *c,
    const char *data, size_t len, int self, int directed)
{
	struct server *srv = s->srv;
	struct session *o;

	for (o = router_sessions(srv->router, s->user); o; o = o->acct_next)
		if (o->available && (self || o != s))
			session_send_presence(o, s->full, data, len);
	for (size_t i = 0; i < c->n; i++) {
		if (!(c->v[i].sub & SUB_FROM))
			continue;
		for (o = router_sessions(srv->router, c->v[i].local); o;
		    o = o->acct_next)
			if (o->available && !im_block_between(srv, &s->jid,
			    &o->jid))
				session_send_presence(o, s->full, data, len);
	}
	if (directed)
		to_directed(s, data, len);
}

/* Sends to every JID the session gave directed presence to. */
static void to_directed(struct session *s, const char *data, size_t len)
{
	struct server *srv = s->srv;
	struct session *o;

	for (size_t i = 0; i < s->ndirected; i++) {
		struct jid j;

		if (jid_parse(s->directed[i], &j) != 0)
			continue;
		if (j.resource != NULL) {
			o = router_session(srv->router, j.local, j.resource);
			if (o != NULL && !im_block_between(srv, &s->jid,
			    &o->jid))
				session_send_raw(o, data, len);
		} else {
			for (o = router_sessions(srv->router, j.local); o;
			    o = o->acct_next)
				if (o->available && !im_block_between(srv,
				    &s->jid, &o->jid))
					session_send_raw(o, data, len);
		}
		jid_free(&j);
	}
}

static void directed_clear(struct session *s)
{
	for (size_t i = 0; i < s->ndirected; i++)
		free(s->directed[i]);
	free(s->directed);
	s->directed = NULL;
	s->ndirected = 0;
}

static int any_available(struct server *srv, const char *local)
{
	for (struct session *o = router_sessions(srv->router, local); o;
	    o = o->acct_next)
		if (o->available)
			return 1;
	return 0;
}

/* The last presence of every available resource of 'local' goes to s
 * (RFC 6121 4.3.2: how a probe is answered). */
static void show_presence_of(struct session *s, const char *local)
{
	for (struct session *o = router_sessions(s->srv->router, local); o;
	    o = o->acct_next)
		if (o != s && o->available && o->presence_xml != NULL &&
		    !im_block_between(s->srv, &o->jid, &s->jid))
			session_send_presence(s, o->full, o->presence_xml,
			    o->presence_len);
}

static void went_unavailable(struct session *s, const char *data,
    size_t len)
{
	struct contacts c;

	s->available = 0;
	if (s->presence != NULL) {
		xml_stanza_free(s->presence);
		s->presence = NULL;
	}
	free(s->presence_xml);
	s->presence_xml = NULL;
	s->presence_len = 0;
	contacts_load(s->srv, s->user, &c);
	fan_out(s, &c, data, len, 0, 1);
	contacts_free(&c);
	directed_clear(s);
}

static int priority_of(const struct xml_node *p, int *out)
{
	struct xml_node *n = xml_child(p, NS_CLIENT, "priority");
	struct buf b = BUF_INIT;
	char *end;
	long v;

	*out = 0;
	if (n == NULL)
		return 0;
	xml_text(n, &b);
	v = strtol(buf_str(&b), &end, 10);
	if (b.len == 0 || *end != '\0' || v < -128 || v > 127) {
		buf_free(&b);
		return -1;
	}
	buf_free(&b);
	*out = (int)v;
	return 0;
}

static void broadcast(struct im_req *req)
{
	struct session *s = req->from;
	struct server *srv = req->srv;
	struct buf b = BUF_INIT;
	struct contacts c;
	int prio, initial;

	if (req->type != NULL && strcmp(req->type, "unavailable") == 0) {
		if (!s->available)
			return;
		router_serialize(req->stanza, &b);
		went_unavailable(s, b.data, b.len);
		buf_free(&b);
		return;
	}
	if (req->type != NULL)
		return;	/* error, or subscription types without 'to' */
	if (priority_of(req->stanza, &prio) != 0) {
		im_error(req, ERR_BAD_REQUEST,
		    "priority must be an integer from -128 to 127");
		return;
	}
	initial = !s->available;
	s->available = 1;
	s->priority = prio;
	if (s->presence != NULL)
		xml_stanza_free(s->presence);
	s->presence = xml_stanza_copy(req->st);
	router_serialize(req->stanza, &b);
	/* Probe answers reuse these bytes: a presence is serialized once,
	 * whoever sees it and whenever. */
	free(s->presence_xml);
	s->presence_len = b.len;
	s->presence_xml = buf_steal(&b);
	/* One roster read serves the broadcast and the probes. */
	contacts_load(srv, s->user, &c);
	fan_out(s, &c, s->presence_xml, s->presence_len, 1, 0);
	if (!initial) {
		contacts_free(&c);
		im_pep_available(s, 0);	/* its caps may have changed */
		return;
	}
	{
		/* Probes: what the user may see of each contact. */
		show_presence_of(s, s->user);
		/* A contact with no available resource has nothing to
		 * show: skip it before asking the store (a query each). */
		for (size_t i = 0; i < c.n; i++)
			if ((c.v[i].sub & SUB_TO) &&
			    any_available(srv, c.v[i].local) &&
			    im_may_see_presence(srv, c.v[i].local, s->bare))
				show_presence_of(s, c.v[i].local);
		contacts_free(&c);
	}
	im_roster_deliver_pending(s);
	im_consent_deliver(s);	/* older than anything stored offline */
	im_offline_deliver(s);
	im_notice_deliver(s);
	im_pep_available(s, 1);
}

/* The recipient of directed presence sees the user's presence anyway. */
static int subscriber(const struct im_req *req)
{
	struct buf bare = BUF_INIT;
	int yes;

	jid_bare_str(&req->to, &bare);
	yes = im_may_see_presence(req->srv, req->from->user, bare.data);
	buf_free(&bare);
	return yes;
}

static void directed(struct im_req *req)
{
	struct session *s = req->from;
	struct server *srv = req->srv;
	const char *to = xml_attr(req->stanza, "to");
	int unavailable = req->type != NULL &&
	    strcmp(req->type, "unavailable") == 0;
	struct session *o;
	struct buf b = BUF_INIT;

	if (req->target == T_SERVER)
		return;
	if (req->target != T_RESOURCE &&
	    store_user_exists(srv->store, req->to.local) != STORE_OK)
		return;	/* RFC 6121 8.5.1: presence to nobody is dropped */
	router_serialize(req->stanza, &b);
	if (req->target == T_RESOURCE) {
		o = router_session(srv->router, req->to.local, req->to.resource);
		if (o != NULL)
			session_send_raw(o, b.data, b.len);
	} else {
		for (o = router_sessions(srv->router, req->to.local); o;
		    o = o->acct_next)
			if (o->available)
				session_send_raw(o, b.data, b.len);
	}
	buf_free(&b);
	/* RFC 6121 4.6.3: whoever got directed presence hears when the
	 * session goes offline; subscribers hear anyway. */
	if (unavailable) {
		for (size_t i = 0; i < s->ndirected; i++)
			if (strcmp(s->directed[i], to) == 0) {
				free(s->directed[i]);
				s->directed[i] = s->directed[--s->ndirected];
				break;
			}
	} else if (req->target != T_SELF && !is_directed(s, to) &&
	    s->ndirected < MAX_DIRECTED &&
	    (!s->available || !subscriber(req))) {
		s->directed = xrealloc(s->directed,
		    (s->ndirected + 1) * sizeof(*s->directed));
		s->directed[s->ndirected++] = xstrdup(to);
	}
}

/* A client's probe (RFC 6121 4.3: normally the server's business) is
 * answered only with what the prober may see anyway. */
static void probe(struct im_req *req)
{
	if (req->target != T_ACCOUNT && req->target != T_SELF)
		return;
	if (im_may_see_presence(req->srv, req->to.local, req->from->bare))
		show_presence_of(req->from, req->to.local);
}

void im_presence(struct im_req *req)
{
	const char *type = req->type;

	if (!req->has_to) {
		broadcast(req);
		return;
	}
	if (type == NULL || strcmp(type, "unavailable") == 0) {
		directed(req);
	} else if (strcmp(type, "probe") == 0) {
		probe(req);
	} else if (strcmp(type, "error") == 0) {
		struct session *o;

		/* Errors go only to a named resource. */
		if (req->target == T_RESOURCE && (o = router_session(
		    req->srv->router, req->to.local, req->to.resource)))
			session_send(o, req->stanza);
	} else {
		im_subscription(req);
	}
}

void im_presence_session_ended(struct session *s)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "<presence from='");
	buf_put_xml_escaped(&b, s->full, strlen(s->full));
	buf_puts(&b, "' type='unavailable'/>");
	if (s->available) {
		went_unavailable(s, b.data, b.len);
	} else {
		/* Invisible to subscribers, but those it showed itself to
		 * with directed presence must not keep a ghost. */
		to_directed(s, b.data, b.len);
		directed_clear(s);
	}
	buf_free(&b);
}
