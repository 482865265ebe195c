/*
 * consent.c - first contact needs consent (DESIGN danger 2, MSN's "request
 * a dialog first, so that the other side can decline").
 *
 * A chat or normal message with content (a body or a subject) for a local
 * account, from someone the account does not let write freely (a
 * stranger), is not delivered.  It is committed to the store, with a
 * XEP-0203 delay, before anything else happens, and the first message a
 * stranger has waiting acts as a subscription request from the stranger
 * (RFC 6121 3.1, done by roster.c): the stranger's item gets
 * ask='subscribe' (pushed), the account's item pending-in, and the
 * account sees ONE ordinary subscribe presence whose <status/> is the
 * first line of that message, with <held xmlns='urn:parley:consent:0'
 * count='N'/>.  Later messages only raise the count in the stored
 * request, which the account sees at its next initial presence.
 *
 * The answer is the ordinary RFC 6121 one: subscribed (or the account's
 * own subscribe) releases the held messages in order; unsubscribed
 * deletes them, and so does the stranger's unsubscribe (the request is
 * withdrawn).  Caps (limits.h): messages and bytes held per pair, and new
 * requests per sender per hour, each recipient at most once an hour; past
 * them the sender gets policy-violation (type wait).  Anything else a
 * stranger sends (chat states, receipts, headline, groupchat, errors,
 * no-store messages) is dropped without a word: it carries nothing to ask
 * with, and an answer would only tell a spammer something.
 *
 * Who writes freely: the account itself; whoever the account's roster
 * item shows consent for (a subscription either way, the account's own
 * pending request, a pre-approval); and by policy, 'anyone' everybody,
 * 'domain' every account of this server and of [policy]
 * first_contact_domains.  The policy is the account's setting (key
 * "first_contact" in store/settings.c) or [policy] first_contact; 'auto'
 * is 'contacts' when [register] mode = open, else 'domain'.
 *
 * Cost per message: no store access.  Settings live in memory and are
 * reloaded when another process (parleyctl) has committed to the database
 * (asked at most once a second); a roster verdict, once found, is kept per
 * (recipient, sender) until roster.c changes that pair.  Only strangers'
 * messages read and write the store.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "store/held.h"
#include "store/roster.h"
#include "store/settings.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define SETTING_KEY	"first_contact"
/* Bytes of the first line shown as the request's status. */
#define PREVIEW_MAX	160
/* Roster verdicts remembered; past this all are dropped and relearnt. */
#define FREE_PAIRS_MAX	16384
/* How often to ask whether parleyctl changed the database. */
#define RECHECK_MS	1000
/* Longest "user/sender" key: a localpart, '/', a bare JID. */
#define PAIR_KEY_MAX	((int)(3 * PARLEY_JID_PART_MAX + 8))
#define MAX_TARGETS	64

static struct {
	struct hmap	*policy;	/* localpart -> (void *)(fc + 1) */
	struct hmap	*free_pairs;	/* "user/sender" -> (void *)1 */
	int64_t		 data_version;
	uint64_t	 checked_ms;
	int		 loaded;
} cs;

/* ---- who writes freely --------------------------------------------------- */

static void pairs_clear(void)
{
	if (cs.free_pairs != NULL)
		hmap_free(cs.free_pairs);
	cs.free_pairs = hmap_new();
}

static int pair_key(char *key, const char *user, const char *sender)
{
	int n = snprintf(key, PAIR_KEY_MAX, "%s/%s", user, sender);

	return n > 0 && n < PAIR_KEY_MAX;
}

static void load_setting(void *ud, const char *user, const char *value)
{
	int fc = value ? first_contact_parse(value) : -1;

	if (fc >= 0)
		hmap_put(cs.policy, user, (void *)(uintptr_t)(fc + 1));
}

/* parleyctl may have changed a setting or deleted an account (and with it
 * its roster): then everything remembered is reloaded or dropped. */
static void refresh(struct server *srv)
{
	uint64_t now = clock_mono_ms();
	int64_t v;

	if (cs.policy == NULL) {
		/* Empty until the store answers: the server's policy. */
		cs.policy = hmap_new();
		pairs_clear();
	}
	if (cs.loaded && now - cs.checked_ms < RECHECK_MS)
		return;
	cs.checked_ms = now;
	if (store_data_version(srv->store, &v) != STORE_OK) {
		log_error("consent: %s", store_errmsg(srv->store));
		return;
	}
	if (cs.loaded && v == cs.data_version)
		return;
	cs.data_version = v;
	cs.loaded = 1;
	if (cs.policy != NULL)
		hmap_free(cs.policy);
	cs.policy = hmap_new();
	pairs_clear();
	if (store_setting_list(srv->store, SETTING_KEY, load_setting, NULL) !=
	    STORE_OK)
		log_error("consent: reading account settings: %s",
		    store_errmsg(srv->store));
}

static enum first_contact policy_of(const struct server *srv,
    const char *user)
{
	void *v = hmap_get(cs.policy, user);
	enum first_contact fc = v != NULL ?
	    (enum first_contact)((uintptr_t)v - 1) : srv->cfg->first_contact;

	if (fc == FC_AUTO)
		fc = srv->cfg->register_mode == REGISTER_OPEN ? FC_CONTACTS :
		    FC_DOMAIN;
	return fc;
}

static int domain_counts_as_ours(const struct config *cfg, const char *d)
{
	if (strcmp(d, cfg->domain) == 0)
		return 1;
	for (size_t i = 0; i < cfg->first_contact_domains.n; i++)
		if (strcmp(d, cfg->first_contact_domains.v[i]) == 0)
			return 1;
	return 0;
}

/* The account's own roster shows consent for sender. */
static int roster_consents(struct server *srv, const char *user,
    const char *sender)
{
	struct roster_item it;
	int yes;

	if (store_roster_get(srv->store, user, sender, &it) != STORE_OK)
		return 0;
	yes = it.sub != SUB_NONE || it.ask || it.approved;
	roster_item_clear(&it);
	return yes;
}

static int writes_freely(struct server *srv, const char *user,
    const char *sender)
{
	const char *at = strchr(sender, '@');
	const char *domain = at ? at + 1 : sender;
	enum first_contact fc;
	char key[PAIR_KEY_MAX];

	refresh(srv);
	fc = policy_of(srv, user);
	if (fc == FC_ANYONE)
		return 1;
	if (fc == FC_DOMAIN && domain_counts_as_ours(srv->cfg, domain))
		return 1;
	if (!pair_key(key, user, sender))
		return 0;
	if (hmap_get(cs.free_pairs, key) != NULL)
		return 1;
	if (!roster_consents(srv, user, sender))
		return 0;
	if (hmap_count(cs.free_pairs) >= FREE_PAIRS_MAX)
		pairs_clear();
	hmap_put(cs.free_pairs, key, (void *)1);
	return 1;
}

void im_consent_roster_changed(struct server *srv, const char *user,
    const char *contact)
{
	char key[PAIR_KEY_MAX];

	if (cs.free_pairs != NULL && pair_key(key, user, contact))
		hmap_del(cs.free_pairs, key);
}

/* ---- holding ------------------------------------------------------------- */

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first non-blank line of the body (else the subject), cut at a
 * character boundary to PREVIEW_MAX bytes, with an ellipsis when cut. */
static void make_preview(const struct xml_node *msg, struct buf *out)
{
	struct xml_node *n = xml_child(msg, NS_CLIENT, "body");
	struct buf t = BUF_INIT;
	const char *p, *end, *eol;
	size_t len;

	if (n == NULL)
		n = xml_child(msg, NS_CLIENT, "subject");
	if (n != NULL)
		xml_text(n, &t);
	p = buf_str(&t);
	end = p + t.len;
	while (p < end && blank(*p))
		p++;
	for (eol = p; eol < end && *eol != '\n' && *eol != '\r'; eol++)
		;
	while (eol > p && blank(eol[-1]))
		eol--;
	len = (size_t)(eol - p);
	if (len > PREVIEW_MAX) {
		len = PREVIEW_MAX;
		while (len > 0 && ((unsigned char)p[len] & 0xC0) == 0x80)
			len--;
		buf_append(out, p, len);
		buf_puts(out, "\xe2\x80\xa6");	/* U+2026 ... */
	} else {
		buf_append(out, p, len);
	}
	buf_free(&t);
}

/* The request the account sees: from the sender's bare JID, the preview
 * as its status, and how many messages wait. */
static void request_xml(const char *from, const char *to,
    const char *preview, unsigned count, struct buf *out,
    struct xml_stanza **keep)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "presence");
	struct xml_node *root = xml_root(st), *n;
	char num[16];

	xml_set_attr(st, root, "from", from);
	xml_set_attr(st, root, "to", to);
	xml_set_attr(st, root, "type", "subscribe");
	if (preview[0] != '\0') {
		n = xml_add_child(st, root, NULL, "status");
		xml_add_text(st, n, preview, strlen(preview));
	}
	n = xml_add_child(st, root, NS_CONSENT, "held");
	snprintf(num, sizeof(num), "%u", count);
	xml_set_attr(st, n, "count", num);
	if (out != NULL)
		router_serialize(root, out);
	if (keep != NULL)
		*keep = st;
	else
		xml_stanza_free(st);
}

/* Rewrites the stored request so that the next login shows the count. */
static void update_request(struct server *srv, const char *user,
    const char *user_bare, const char *sender)
{
	struct buf preview = BUF_INIT, xml = BUF_INIT;
	unsigned count;

	if (store_held_summary(srv->store, user, sender, &preview, &count) ==
	    STORE_OK) {
		request_xml(sender, user_bare, buf_str(&preview), count, &xml,
		    NULL);
		if (store_roster_set_pending_stanza(srv->store, user, sender,
		    xml.data) != STORE_OK)
			log_error("consent: request of %s to %s: %s", sender,
			    user, store_errmsg(srv->store));
	}
	buf_free(&preview);
	buf_free(&xml);
}

/* policy-violation, of type wait: the answer, or the hour, frees it. */
static void refuse(struct im_req *req, const char *text)
{
	struct xml_stanza *reply = stanza_error_reply(req->stanza,
	    ERR_POLICY_VIOLATION, text);
	struct xml_node *err;

	if (reply == NULL)
		return;
	err = xml_child(xml_root(reply), NULL, "error");
	if (err != NULL)
		xml_set_attr(reply, err, "type", "wait");
	xml_set_attr(reply, xml_root(reply), "to", req->from->full);
	session_send(req->from, xml_root(reply));
	xml_stanza_free(reply);
}

static void hold(struct im_req *req)
{
	struct server *srv = req->srv;
	const char *user = req->to.local, *sender = req->from->bare;
	struct buf preview = BUF_INIT, xml = BUF_INIT, to = BUF_INIT;
	struct held_caps caps = {
		srv->cfg->max_held_messages, srv->cfg->max_held_bytes,
		srv->cfg->max_first_contacts_per_hour, 3600,
	};
	unsigned count;

	buf_printf(&to, "%s@%s", user, srv->cfg->domain);
	if (!im_roster_room(srv, req->from->user, to.data)) {
		/* The request would be an item in the sender's roster. */
		im_error(req, ERR_NOT_ALLOWED, "this user accepts messages "
		    "only from contacts, and your roster is full");
		goto out;
	}
	make_preview(req->stanza, &preview);
	im_delayed_copy(req, "Held until accepted", &xml);
	switch (store_held_push(srv->store, user, sender, buf_str(&preview),
	    xml.data, xml.len, &caps, &count)) {
	case HELD_OK:
		break;
	case HELD_FULL:
		refuse(req, "this user has not accepted you as a contact "
		    "yet; no more of your messages can wait until they do");
		goto out;
	case HELD_TOO_MANY:
		refuse(req, "too many new contact requests in the last hour; "
		    "try again later");
		goto out;
	case HELD_AGAIN:
		refuse(req, "you asked this user less than an hour ago; "
		    "wait for them to accept you as a contact");
		goto out;
	case HELD_ERR:
	default:
		log_error("consent: holding a message from %s for %s: %s",
		    sender, user, store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR,
		    "the message could not be stored");
		goto out;
	}
	if (count == 1) {
		struct xml_stanza *p;

		log_info("%s: a message from %s waits as a contact request",
		    to.data, sender);
		request_xml(sender, to.data, buf_str(&preview), 1, NULL, &p);
		im_roster_request(srv, req->from->user, to.data, xml_root(p));
		xml_stanza_free(p);
	}
	/* Also when the request came first as a plain subscribe. */
	update_request(srv, user, to.data, sender);
out:
	buf_free(&preview);
	buf_free(&xml);
	buf_free(&to);
}

int im_consent_allows(struct im_req *req)
{
	if (req->target != T_ACCOUNT && req->target != T_RESOURCE)
		return 1;
	if (strcmp(req->from->user, req->to.local) == 0)
		return 1;
	if (writes_freely(req->srv, req->to.local, req->from->bare))
		return 1;
	if (im_message_keepable(req, 1))
		hold(req);
	return 0;
}

/* ---- answers ------------------------------------------------------------- */

struct release_ctx {
	struct session	*to[MAX_TARGETS];
	size_t		 n;
	int64_t		 last;
};

static void send_held(void *ud, int64_t id, const char *xml, size_t len)
{
	struct release_ctx *rc = ud;

	for (size_t i = 0; i < rc->n; i++)
		session_send_raw(rc->to[i], xml, len);
	rc->last = id;
}

/* Sends what sender has waiting for user to one resource, or to every
 * available one with non-negative priority; with none, it keeps for the
 * next initial presence. */
static void release(struct server *srv, const char *user,
    const char *sender, struct session *only)
{
	struct release_ctx rc = { .n = 0, .last = 0 };

	if (only != NULL) {
		rc.to[rc.n++] = only;
	} else {
		for (struct session *s = router_sessions(srv->router, user);
		    s && rc.n < MAX_TARGETS; s = s->acct_next)
			if (s->available && s->priority >= 0)
				rc.to[rc.n++] = s;
	}
	if (rc.n == 0)
		return;
	if (store_held_list(srv->store, user, sender, send_held, &rc) !=
	    STORE_OK) {
		log_error("consent: reading held messages for %s: %s", user,
		    store_errmsg(srv->store));
		return;
	}
	/* Deleted once queued: a crash before this sends them again rather
	 * than never. */
	if (rc.last > 0 && store_held_delete_upto(srv->store, user, sender,
	    rc.last) != STORE_OK)
		log_error("consent: deleting released messages for %s: %s",
		    user, store_errmsg(srv->store));
}

void im_consent_account_deleted(void)
{
	cs.loaded = 0;
}

void im_consent_forget(struct server *srv, const char *user,
    const char *contact_bare)
{
	if (store_held_forget(srv->store, user, contact_bare) != STORE_OK)
		log_error("consent: forgetting messages of %s for %s: %s",
		    contact_bare, user, store_errmsg(srv->store));
}

void im_consent_answered(struct server *srv, const char *user,
    const char *contact, const char *type)
{
	const char *at;

	if (strcmp(type, "subscribe") == 0 || strcmp(type, "subscribed") == 0) {
		release(srv, user, contact, NULL);
	} else if (strcmp(type, "unsubscribed") == 0) {
		im_consent_forget(srv, user, contact);
	} else if ((at = strchr(contact, '@')) != NULL &&
	    strcmp(at + 1, srv->cfg->domain) == 0) {
		/* unsubscribe: the user withdraws its own request. */
		char *clocal = xstrndup(contact, (size_t)(at - contact));
		struct buf me = BUF_INIT;

		buf_printf(&me, "%s@%s", user, srv->cfg->domain);
		im_consent_forget(srv, clocal, me.data);
		buf_free(&me);
		free(clocal);
	}
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

void im_consent_deliver(struct session *s)
{
	struct senders ss = { NULL, 0 };

	if (s->priority < 0)
		return;
	if (store_held_senders(s->srv->store, s->user, add_sender, &ss) !=
	    STORE_OK)
		log_error("consent: %s: %s", s->full,
		    store_errmsg(s->srv->store));
	/* Accepted while no resource could take them, or let through by a
	 * policy changed since. */
	for (size_t i = 0; i < ss.n; i++) {
		if (writes_freely(s->srv, s->user, ss.v[i]))
			release(s->srv, s->user, ss.v[i], s);
		free(ss.v[i]);
	}
	free(ss.v);
}

void im_consent_scrub(struct xml_node *presence)
{
	struct xml_node *n, *next;

	/* Only the server says how many messages wait. */
	for (n = xml_first_elem(presence); n != NULL; n = next) {
		next = xml_next_elem(n);
		if (strcmp(n->ns, NS_CONSENT) == 0)
			xml_remove(n);
	}
}

/* ---- the account's own setting (IQ in NS_CONSENT) ------------------------ */

/*
 * <policy xmlns='urn:parley:consent:0'/>: get answers with first-contact
 * (the account's own value, or "default") and in-effect (what applies
 * now: contacts, domain or anyone); set with first-contact = auto,
 * contacts, domain, anyone or default changes it.
 */
void im_consent_policy(struct im_req *req)
{
	struct server *srv = req->srv;
	const char *user = req->from->user, *want;
	struct xml_stanza *st;
	struct xml_node *p;
	void *own;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own policy");
		return;
	}
	refresh(srv);
	if (strcmp(req->type, "get") == 0) {
		own = hmap_get(cs.policy, user);
		st = xml_stanza_new(NS_CONSENT, "policy");
		p = xml_root(st);
		xml_set_attr(st, p, "first-contact", own ? first_contact_names[
		    (uintptr_t)own - 1] : "default");
		xml_set_attr(st, p, "in-effect",
		    first_contact_names[policy_of(srv, user)]);
		im_iq_result(req, p);
		xml_stanza_free(st);
		return;
	}
	want = xml_attr(xml_first_elem(req->stanza), "first-contact");
	if (want == NULL || (strcmp(want, "default") != 0 &&
	    first_contact_parse(want) < 0)) {
		im_error(req, ERR_BAD_REQUEST, "first-contact must be auto, "
		    "contacts, domain, anyone or default");
		return;
	}
	if (strcmp(want, "default") == 0)
		want = NULL;
	if (store_setting_set(srv->store, user, SETTING_KEY, want) !=
	    STORE_OK) {
		log_error("consent: %s: %s", req->from->full,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "storage failed");
		return;
	}
	if (want == NULL)
		hmap_del(cs.policy, user);
	else
		hmap_put(cs.policy, user,
		    (void *)(uintptr_t)(first_contact_parse(want) + 1));
	im_iq_result(req, NULL);
}
