/* router.c - see router.h. */
#include "xmpp/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/hmap.h"
#include "core/log.h"
#include "im/im.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

struct account {
	struct session	*sessions;	/* linked by acct_next */
	unsigned	 n;
};

struct router {
	struct server	*srv;
	struct hmap	*accounts;	/* localpart -> struct account */
};

struct router *router_new(struct server *srv)
{
	struct router *r = xcalloc(1, sizeof(*r));

	r->srv = srv;
	r->accounts = hmap_new();
	return r;
}

static void free_acct(void *ud, const char *k, void *v)
{
	free(v);
}

void router_free(struct router *r)
{
	if (r == NULL)
		return;
	hmap_each(r->accounts, free_acct, NULL);
	hmap_free(r->accounts);
	free(r);
}

struct session *router_sessions(const struct router *r, const char *local)
{
	struct account *a = local ? hmap_get(r->accounts, local) : NULL;

	return a ? a->sessions : NULL;
}

struct session *router_session(const struct router *r, const char *local,
    const char *resource)
{
	for (struct session *s = router_sessions(r, local); s; s = s->acct_next)
		if (strcmp(s->jid.resource, resource) == 0)
			return s;
	return NULL;
}

enum bind_rc router_bind(struct router *r, struct session *s,
    const char *resource)
{
	const struct config *cfg = r->srv->cfg;
	char gen[24];
	struct account *a;
	struct session *old;
	struct buf b = BUF_INIT;
	unsigned n;

	if (resource == NULL) {
		unsigned char rnd[8];

		RAND_bytes(rnd, sizeof(rnd));
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(gen + 2 * i, 3, "%02x", rnd[i]);
		resource = gen;
	}
	if (jid_make(s->user, cfg->domain, resource, &s->jid) != 0)
		return BIND_BAD_RESOURCE;
	a = hmap_get(r->accounts, s->user);
	old = a ? router_session(r, s->user, s->jid.resource) : NULL;
	n = a ? a->n - (old != NULL) : 0;
	if (n >= cfg->max_sessions_per_account) {
		jid_free(&s->jid);
		return BIND_LIMIT;
	}
	if (old != NULL) {
		/* RFC 6120 7.7.2.2: the newer session wins; the old one is
		 * usually a connection that died without us noticing. */
		router_unbind(r, old);
		session_stream_error(old, SE_CONFLICT,
		    "replaced by a new session with the same resource");
		a = hmap_get(r->accounts, s->user);
	}
	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		hmap_put(r->accounts, s->user, a);
	}
	s->acct_next = a->sessions;
	a->sessions = s;
	a->n++;
	jid_full_str(&s->jid, &b);
	s->full = buf_steal(&b);
	jid_bare_str(&s->jid, &b);
	s->bare = buf_steal(&b);
	return BIND_OK;
}

void router_unbind(struct router *r, struct session *s)
{
	struct account *a;
	struct session **pp;

	if (s->full == NULL)
		return;
	a = hmap_get(r->accounts, s->user);
	if (a == NULL)
		return;
	for (pp = &a->sessions; *pp; pp = &(*pp)->acct_next) {
		if (*pp == s) {
			*pp = s->acct_next;
			s->acct_next = NULL;
			a->n--;
			/* Only a session still listed says goodbye. */
			im_presence_session_ended(s);
			break;
		}
	}
	if (a->n == 0) {
		hmap_del(r->accounts, s->user);
		free(a);
		/* What im/ keeps for online accounts only goes too. */
		im_block_account_offline(r->srv, s->user);
	}
}

void router_serialize(const struct xml_node *stanza, struct buf *out)
{
	xml_serialize(stanza, NS_CLIENT, out);
}

void router_route(struct router *r, struct session *from,
    struct xml_stanza *st, struct jid *to_jid)
{
	const struct config *cfg = r->srv->cfg;
	struct im_req req;
	const char *to;

	memset(&req, 0, sizeof(req));
	req.srv = r->srv;
	req.from = from;
	req.st = st;
	req.stanza = xml_root(st);
	req.type = xml_attr(req.stanza, "type");
	req.kind = strcmp(req.stanza->name, "message") == 0 ? IM_MESSAGE :
	    strcmp(req.stanza->name, "presence") == 0 ? IM_PRESENCE : IM_IQ;
	to = xml_attr(req.stanza, "to");
	if (to == NULL) {
		/* RFC 6120 10.3: no 'to' means the sender's own account;
		 * for presence, a broadcast, handled by the presence code. */
		jid_copy(&req.to, &from->jid);
		free(req.to.resource);
		req.to.resource = NULL;
		req.target = req.kind == IM_PRESENCE ? T_SERVER : T_SELF;
		im_dispatch(&req);
		return;
	}
	req.has_to = 1;
	if (to_jid == NULL) {	/* the session always passes it */
		xml_stanza_free(st);
		return;
	}
	req.to = *to_jid;	/* ownership moves into req */
	memset(to_jid, 0, sizeof(*to_jid));
	if (strcmp(req.to.domain, cfg->domain) != 0) {
		/* A group's policy may forbid the attempt (xmpp/policy.h). */
		if (policy_remote_refused(from, req.stanza, &req.to)) {
			jid_free(&req.to);
			xml_stanza_free(st);
			return;
		}
		/* No federation yet: say so rather than drop silently. */
		session_send_error(from, req.stanza,
		    ERR_REMOTE_SERVER_NOT_FOUND,
		    "this server does not connect to other servers");
		jid_free(&req.to);
		xml_stanza_free(st);
		return;
	}
	if (req.to.local == NULL)
		req.target = T_SERVER;
	else if (req.to.resource != NULL)
		req.target = T_RESOURCE;
	else if (strcmp(req.to.local, from->user) == 0)
		req.target = T_SELF;
	else
		req.target = T_ACCOUNT;
	im_dispatch(&req);
}
