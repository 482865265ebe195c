/*
 * mam.c - message archives (XEP-0313, urn:xmpp:mam:2) that nobody keeps
 * silently (DESIGN danger 6).
 *
 * What is archived: chat and normal messages with a <body> between two
 * accounts of this server, after blocking and first-contact consent let
 * them through (held messages are not archived, not even when released:
 * the conversation starts when they are accepted), unless they carry a
 * XEP-0334 no-store or no-permanent-store hint.  Never errors,
 * headlines, groupchat, chat states alone, or the server's own notices.
 * Each side's copy goes into its owner's archive when
 * im_archive_decide() (im/archive_policy.c) says so for that owner and
 * peer; the recipient's copy is delivered with a XEP-0359 <stanza-id
 * by='recipient' id='...'/> equal to the MAM id.  Stanza-ids a client
 * puts in a message in the name of this server or one of its accounts
 * are removed first (XEP-0359 security).  Messages to offline
 * recipients are archived when they are sent (and stored offline with
 * their stanza-id).
 *
 * Disclosure ([archive] disclose = on): for each owner and peer, the
 * state last told to both (off, or on by whose rule with which
 * retention) is kept in the store.  When a message finds the state
 * changed, BOTH are sent a notice from the server's domain, before the
 * message itself: a body a person reads plus
 *   <archiving xmlns='urn:parley:archive:0' by='OWNER' peer='PEER'
 *       state='on|off' policy='user|org' retention='90d'/>
 * and the message that revealed the change is NOT archived by that
 * archive: nothing is recorded that a participant wrote before being
 * told.  A change of preferences tells every peer already told about
 * the old state at once; a change of policy is found at start-up.  An
 * offline participant gets the notice through offline storage (or, when
 * that is full or off, as a store/notice.h notice at next login).  A
 * remote participant would get it through the normal route: Parley has
 * no server-to-server connections yet, so it is logged, not sent.
 *
 * On demand: <archiving xmlns='urn:parley:archive:0' with='JID'/> (IQ
 * get) answers with the state of both sides of the conversation.  A
 * user deletes their archive with <purge xmlns='urn:parley:archive:0'
 * [with='JID']/> (IQ set).  Expired rows go in a sweep every [archive]
 * expire_interval seconds.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/isotime.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "store/archive.h"
#include "store/notice.h"
#include "store/offline.h"
#include "store/store.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/policy.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Rows the retention sweep deletes per transaction. */
#define EXPIRE_BATCH	5000
#define STATE_MAX	48

static struct event *expire_ev;

/* ---- helpers ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A JID given by a client, as a normalised bare JID (malloc'd), or NULL. */
static char *bare_of(const char *s)
{
	struct jid j;
	struct buf b = BUF_INIT;

	if (s == NULL || jid_parse(s, &j) != 0)
		return NULL;
	jid_bare_str(&j, &b);
	jid_free(&j);
	return buf_steal(&b);
}

static int sid_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
			return 0;
	return n == ARCHIVE_SID_LEN;
}

static void retention_str(unsigned s, char *out, size_t cap)
{
	if (s == 0)
		snprintf(out, cap, "quota");
	else
		config_duration_str(s, out, cap);
}

/* "off", "user:30d", "org:90d": what is remembered per pair. */
static void state_str(const struct archive_decision *d, char *out,
    size_t cap)
{
	char r[24];

	if (!d->on) {
		snprintf(out, cap, "off");
		return;
	}
	retention_str(d->retention, r, sizeof(r));
	snprintf(out, cap, "%s:%s", d->by == ARCH_BY_ORG ? "org" : "user", r);
}

/* ---- disclosure notices ------------------------------------------------ */

static void notice_text(struct server *srv, const char *owner_bare,
    const char *peer, const struct archive_decision *d, struct buf *out)
{
	char r[24];

	if (!d->on) {
		buf_printf(out, "Archiving is now off: the server no longer "
		    "records the conversation between %s and %s in %s's "
		    "archive.", owner_bare, peer, owner_bare);
		return;
	}
	buf_printf(out, "Archiving is on: the server records the "
	    "conversation between %s and %s in %s's archive, ", owner_bare,
	    peer, owner_bare);
	if (d->by == ARCH_BY_ORG)
		buf_printf(out, "by the organisation's policy for %s ",
		    srv->cfg->domain);
	else
		buf_printf(out, "by %s's own choice ", owner_bare);
	if (d->retention > 0) {
		config_duration_str(d->retention, r, sizeof(r));
		buf_printf(out, "(messages are kept for %s", r);
	} else {
		buf_puts(out, "(messages are kept until the archive is full");
	}
	buf_printf(out, "; at most %u, the oldest deleted first).",
	    srv->cfg->archive_max_messages);
}

static void add_archiving_el(struct server *srv, struct xml_stanza *st,
    struct xml_node *parent, const char *owner_bare, const char *peer,
    const struct archive_decision *d)
{
	struct xml_node *a = xml_add_child(st, parent, NS_ARCHIVE,
	    "archiving");
	char r[24], max[16];

	xml_set_attr(st, a, "by", owner_bare);
	xml_set_attr(st, a, "peer", peer);
	xml_set_attr(st, a, "state", d->on ? "on" : "off");
	if (d->on) {
		xml_set_attr(st, a, "policy", d->by == ARCH_BY_ORG ? "org" :
		    "user");
		retention_str(d->retention, r, sizeof(r));
		xml_set_attr(st, a, "retention", r);
		snprintf(max, sizeof(max), "%u",
		    srv->cfg->archive_max_messages);
		xml_set_attr(st, a, "max-messages", max);
	}
}

/* Sends a server notice to a bare JID: its available resources, else
 * offline storage, else a notice at next login.  Remote JIDs: no
 * federation yet. */
static void send_notice(struct server *srv, const char *to,
    const char *owner_bare, const char *peer,
    const struct archive_decision *d)
{
	struct xml_stanza *st;
	struct xml_node *root, *n;
	struct buf text = BUF_INIT, xml = BUF_INIT;
	const char *at = strchr(to, '@');
	char *local;
	size_t sent = 0;

	notice_text(srv, owner_bare, peer, d, &text);
	if (at == NULL || strcmp(at + 1, srv->cfg->domain) != 0) {
		/* The route to another server would answer
		 * remote-server-not-found: there is none yet. */
		log_info("archive: notice for %s not sent: this server does "
		    "not connect to other servers", to);
		buf_free(&text);
		return;
	}
	local = xstrndup(to, (size_t)(at - to));
	st = xml_stanza_new(NS_CLIENT, "message");
	root = xml_root(st);
	xml_set_attr(st, root, "from", srv->cfg->domain);
	xml_set_attr(st, root, "to", to);
	xml_set_attr(st, root, "type", "normal");
	n = xml_add_child(st, root, NULL, "body");
	xml_add_text(st, n, text.data, text.len);
	add_archiving_el(srv, st, root, owner_bare, peer, d);
	router_serialize(root, &xml);
	for (struct session *s = router_sessions(srv->router, local); s;
	    s = s->acct_next)
		if (s->available && s->priority >= 0) {
			session_send_raw(s, xml.data, xml.len);
			sent++;
		}
	if (sent == 0 && (srv->cfg->max_offline_messages == 0 ||
	    store_offline_push(srv->store, local, srv->cfg->domain, xml.data,
	    xml.len, srv->cfg->max_offline_messages,
	    srv->cfg->max_offline_bytes) != STORE_OK) &&
	    store_notice_add(srv->store, local, clock_wall_s(), "archiving",
	    text.data) != STORE_OK)
		log_error("archive: notice for %s: %s", to,
		    store_errmsg(srv->store));
	xml_stanza_free(st);
	buf_free(&text);
	buf_free(&xml);
	free(local);
}

/* Tells owner and peer when owner's archiving state for peer is not what
 * they were last told; returns 1 if it told them now. */
/*
 * The owners with any disclosure record.  Every message between two
 * accounts asks what each was last told; when neither archives (the
 * usual case) and neither was ever told anything, the answer is "off"
 * without a store read, which keeps the archive off the message path's
 * cost.  Rebuilt when another process (parleyctl archive purge) has
 * committed; an owner whose records were all deleted here stays listed
 * and merely costs a read.
 */
static struct {
	struct hmap	*owners;
	int64_t		 data_version;
	uint64_t	 checked_ms;
	int		 loaded;
} told;

static void told_add(void *ud, const char *owner, const char *peer,
    const char *state)
{
	hmap_put(told.owners, owner, (void *)1);
}

/* 0 only when owner (NULL: anyone) certainly has no disclosure record. */
static int may_have_told(struct server *srv, const char *owner)
{
	uint64_t now = clock_mono_ms();
	int64_t v;

	if (told.loaded && now - told.checked_ms < 1000)
		return owner != NULL ? hmap_get(told.owners, owner) != NULL :
		    hmap_count(told.owners) > 0;
	told.checked_ms = now;
	if (store_data_version(srv->store, &v) != STORE_OK)
		return 1;
	if (!told.loaded || v != told.data_version) {
		if (told.owners != NULL)
			hmap_free(told.owners);
		told.owners = hmap_new();
		told.loaded = 0;
		if (store_archive_disclosed_each(srv->store, NULL, told_add,
		    NULL) != STORE_OK)
			return 1;
		told.data_version = v;
		told.loaded = 1;
	}
	return owner != NULL ? hmap_get(told.owners, owner) != NULL :
	    hmap_count(told.owners) > 0;
}

static int disclose(struct server *srv, const char *owner,
    const char *owner_bare, const char *peer,
    const struct archive_decision *d)
{
	char now[STATE_MAX], old[STATE_MAX];
	enum store_rc rc;

	if (!srv->cfg->archive_disclose)
		return 0;
	if (!d->on && !may_have_told(srv, owner))
		return 0;	/* off, and told nothing: nothing changed */
	state_str(d, now, sizeof(now));
	rc = store_archive_disclosed_get(srv->store, owner, peer, old,
	    sizeof(old));
	if (rc == STORE_NOT_FOUND)
		snprintf(old, sizeof(old), "off");
	else if (rc != STORE_OK) {
		log_error("archive: %s", store_errmsg(srv->store));
		return 1;	/* unknown: do not record */
	}
	if (strcmp(old, now) == 0)
		return 0;
	send_notice(srv, owner_bare, owner_bare, peer, d);
	send_notice(srv, peer, owner_bare, peer, d);
	if (store_archive_disclosed_set(srv->store, owner, peer,
	    d->on ? now : NULL, clock_wall_s()) != STORE_OK)
		log_error("archive: %s", store_errmsg(srv->store));
	else if (d->on && told.owners != NULL)
		hmap_put(told.owners, owner, (void *)1);
	return 1;
}

struct pairs {
	char	**owner, **peer;
	size_t	  n;
};

static void collect_pair(void *ud, const char *owner, const char *peer,
    const char *state)
{
	struct pairs *p = ud;

	p->owner = xrealloc(p->owner, (p->n + 1) * sizeof(*p->owner));
	p->peer = xrealloc(p->peer, (p->n + 1) * sizeof(*p->peer));
	p->owner[p->n] = xstrdup(owner);
	p->peer[p->n] = xstrdup(peer);
	p->n++;
}

/* Re-checks what owner's peers (or everyone's, owner NULL) were told. */
static void redisclose(struct server *srv, const char *owner)
{
	struct pairs p = { NULL, NULL, 0 };
	struct archive_decision d;
	struct buf ob = BUF_INIT;

	if (!srv->cfg->archive_disclose)
		return;
	if (store_archive_disclosed_each(srv->store, owner, collect_pair,
	    &p) != STORE_OK)
		log_error("archive: %s", store_errmsg(srv->store));
	for (size_t i = 0; i < p.n; i++) {
		buf_reset(&ob);
		buf_printf(&ob, "%s@%s", p.owner[i], srv->cfg->domain);
		im_archive_decide(srv, p.owner[i], p.peer[i], &d);
		disclose(srv, p.owner[i], buf_str(&ob), p.peer[i], &d);
		free(p.owner[i]);
		free(p.peer[i]);
	}
	free(p.owner);
	free(p.peer);
	buf_free(&ob);
}

/* ---- archiving messages ------------------------------------------------- */

/* The stanza as stored: self-contained (xmlns='jabber:client' on the
 * root) so that it can be embedded in a <forwarded/> or an export. */
static int store_copy(struct server *srv, const char *owner,
    const char *peer, int outgoing, const struct archive_decision *d,
    const struct xml_node *stanza, char sid[ARCHIVE_SID_LEN + 1])
{
	struct buf xml = BUF_INIT;
	int64_t ms = now_ms();
	struct archive_msg m = {
		.owner = owner, .peer = peer, .outgoing = outgoing,
		.stamp_ms = ms,
		.expires = d->retention ? ms / 1000 + d->retention : 0,
	};
	unsigned dropped = 0;
	enum store_rc rc;

	xml_serialize(stanza, "", &xml);
	m.xml = xml.data;
	m.len = xml.len;
	rc = store_archive_add(srv->store, &m, srv->cfg->archive_max_messages,
	    sid, &dropped);
	buf_free(&xml);
	if (rc != STORE_OK) {
		log_error("archive of %s: %s", owner, store_errmsg(srv->store));
		return -1;
	}
	return 0;
}

void im_archive_strip_ids(struct im_req *req)
{
	const char *dom = req->srv->cfg->domain;
	struct xml_node *n, *next;

	for (n = xml_first_elem(req->stanza); n != NULL; n = next) {
		const char *by, *d, *slash;
		size_t len;

		next = xml_next_elem(n);
		if (strcmp(n->ns, NS_SID) != 0 ||
		    strcmp(n->name, "stanza-id") != 0)
			continue;
		by = xml_attr(n, "by");
		if (by == NULL) {
			xml_remove(n);
			continue;
		}
		d = strchr(by, '@');
		d = d != NULL ? d + 1 : by;
		slash = strchr(d, '/');
		len = slash != NULL ? (size_t)(slash - d) : strlen(d);
		if (len == strlen(dom) && strncasecmp(d, dom, len) == 0)
			xml_remove(n);
	}
}

/* Whether the message will reach the recipient now or later: nothing is
 * archived that the sender gets an error for (offline storage off). */
static int deliverable(const struct im_req *req)
{
	struct session *s;

	if (req->target == T_RESOURCE && router_session(req->srv->router,
	    req->to.local, req->to.resource) != NULL)
		return 1;
	for (s = router_sessions(req->srv->router, req->to.local); s;
	    s = s->acct_next)
		if (s->available && s->priority >= 0)
			return 1;
	return im_offline_enabled(req->srv);
}

void im_archive_message(struct im_req *req)
{
	struct server *srv = req->srv;
	const char *sender = req->from->user, *rcpt = req->to.local;
	struct archive_decision ds, dr;
	struct buf rb = BUF_INIT;
	char sid[ARCHIVE_SID_LEN + 1];
	int told_s, told_r;

	if (rcpt == NULL || strcmp(sender, rcpt) == 0 || !im_message_keepable(req, 0))
		return;
	/* Nobody archives and nobody was told otherwise: nothing to record
	 * and nothing to disclose (the usual case, kept cheap). */
	if (im_archive_idle(srv) && !may_have_told(srv, NULL))
		return;
	if (!deliverable(req))
		return;
	buf_printf(&rb, "%s@%s", rcpt, srv->cfg->domain);
	im_archive_decide(srv, sender, rb.data, &ds);
	im_archive_decide(srv, rcpt, req->from->bare, &dr);
	/* Told before the message arrives; what revealed a change is not
	 * recorded by that archive. */
	told_s = disclose(srv, sender, req->from->bare, rb.data, &ds);
	told_r = disclose(srv, rcpt, rb.data, req->from->bare, &dr);
	if (ds.on && !told_s)
		store_copy(srv, sender, rb.data, 1, &ds, req->stanza, sid);
	if (dr.on && !told_r &&
	    store_copy(srv, rcpt, req->from->bare, 0, &dr, req->stanza,
	    sid) == 0) {
		struct xml_node *n = xml_add_child(req->st, req->stanza,
		    NS_SID, "stanza-id");

		xml_set_attr(req->st, n, "by", rb.data);
		xml_set_attr(req->st, n, "id", sid);
	}
	buf_free(&rb);
}

/* ---- queries (XEP-0313 4, XEP-0059) ------------------------------------ */

struct page {
	struct archive_row	*rows;
	size_t			 n;
};

static void keep_row(void *ud, const struct archive_row *r)
{
	struct page *p = ud;
	struct archive_row *c;

	p->rows = xrealloc(p->rows, (p->n + 1) * sizeof(*p->rows));
	c = &p->rows[p->n++];
	*c = *r;
	c->peer = NULL;
	c->xml = xmalloc(r->len + 1);
	memcpy((char *)c->xml, r->xml, r->len);
	((char *)c->xml)[r->len] = '\0';
}

static void send_result(struct session *s, const char *queryid,
    const struct archive_row *r)
{
	struct buf b = BUF_INIT;
	char stamp[40];

	iso_time_str(r->stamp_ms, 1, stamp, sizeof(stamp));
	buf_puts(&b, "<message to='");
	buf_put_xml_escaped(&b, s->full, strlen(s->full));
	buf_puts(&b, "' from='");
	buf_put_xml_escaped(&b, s->bare, strlen(s->bare));
	buf_printf(&b, "'><result xmlns='" NS_MAM "'");
	if (queryid != NULL) {
		buf_puts(&b, " queryid='");
		buf_put_xml_escaped(&b, queryid, strlen(queryid));
		buf_putc(&b, '\'');
	}
	buf_printf(&b, " id='%s'><forwarded xmlns='" NS_FORWARD "'><delay "
	    "xmlns='" NS_DELAY "' stamp='%s'/>", r->sid, stamp);
	buf_append(&b, r->xml, r->len);
	buf_puts(&b, "</forwarded></result></message>");
	session_send_raw(s, b.data, b.len);
	buf_free(&b);
}

static void add_field(struct xml_stanza *st, struct xml_node *x,
    const char *var, const char *type, const char *value)
{
	struct xml_node *f = xml_add_child(st, x, NULL, "field"), *v;

	xml_set_attr(st, f, "var", var);
	if (type != NULL)
		xml_set_attr(st, f, "type", type);
	if (value != NULL) {
		v = xml_add_child(st, f, NULL, "value");
		xml_add_text(st, v, value, strlen(value));
	}
}

/* IQ get of <query/>: the form's fields (XEP-0313 4.1.1). */
static void query_form(struct im_req *req)
{
	struct xml_stanza *st = xml_stanza_new(NS_MAM, "query");
	struct xml_node *q = xml_root(st), *x;

	x = xml_add_child(st, q, NS_DATA, "x");
	xml_set_attr(st, x, "type", "form");
	add_field(st, x, "FORM_TYPE", "hidden", NS_MAM);
	add_field(st, x, "with", "jid-single", NULL);
	add_field(st, x, "start", "text-single", NULL);
	add_field(st, x, "end", "text-single", NULL);
	add_field(st, x, "before-id", "text-single", NULL);
	add_field(st, x, "after-id", "text-single", NULL);
	im_iq_result(req, q);
	xml_stanza_free(st);
}

/* The text of el's first <value/> (NULL if none), into b. */
static const char *field_value(const struct xml_node *f, struct buf *b)
{
	struct xml_node *v = xml_child(f, NS_DATA, "value");

	buf_reset(b);
	if (v == NULL)
		return NULL;
	xml_text(v, b);
	return buf_str(b);
}

struct mam_q {
	struct archive_query	 aq;
	char			*with;
	char			*after, *before;	/* sids */
	int			 last_page;	/* <before/> empty */
	int			 filtered;
	int			 flip;
	int			 count_only;
};

static void mam_q_free(struct mam_q *m)
{
	free(m->with);
	free(m->after);
	free(m->before);
}

/* Reads the form and RSM into m; on a bad request answers and returns
 * -1. */
static int parse_query(struct im_req *req, const struct xml_node *q,
    struct mam_q *m)
{
	struct xml_node *x = xml_child(q, NS_DATA, "x"), *f, *set, *e;
	struct buf b = BUF_INIT;
	const char *v, *var;
	unsigned cap = req->srv->cfg->archive_max_page;
	int form_type = 0;

	memset(m, 0, sizeof(*m));
	m->aq.start_ms = INT64_MIN;
	m->aq.end_ms = INT64_MAX;
	m->aq.max = cap;
	for (f = x ? xml_first_elem(x) : NULL; f; f = xml_next_elem(f)) {
		if (strcmp(f->name, "field") != 0)
			continue;
		var = xml_attr(f, "var");
		v = field_value(f, &b);
		if (var == NULL) {
			im_error(req, ERR_BAD_REQUEST, "a form field has no "
			    "var");
			goto bad;
		}
		if (strcmp(var, "FORM_TYPE") == 0) {
			if (v == NULL || strcmp(v, NS_MAM) != 0) {
				im_error(req, ERR_BAD_REQUEST, "FORM_TYPE "
				    "must be " NS_MAM);
				goto bad;
			}
			form_type = 1;
			continue;
		}
		if (v == NULL || *v == '\0')
			continue;	/* an empty field filters nothing */
		m->filtered = 1;
		if (strcmp(var, "with") == 0) {
			free(m->with);
			if ((m->with = bare_of(v)) == NULL) {
				im_error(req, ERR_JID_MALFORMED, "'with' is "
				    "not a valid JID");
				goto bad;
			}
		} else if (strcmp(var, "start") == 0 ||
		    strcmp(var, "end") == 0) {
			int64_t ms;

			if (iso_time_parse(v, ISOTIME_STRICT, &ms) != 0) {
				im_error(req, ERR_BAD_REQUEST, "'start' and "
				    "'end' must be XEP-0082 date-times such as "
				    "2026-01-31T12:00:00Z");
				goto bad;
			}
			if (var[0] == 's')
				m->aq.start_ms = ms;
			else
				m->aq.end_ms = ms;
		} else if (strcmp(var, "after-id") == 0 ||
		    strcmp(var, "before-id") == 0) {
			char **dst = var[0] == 'a' ? &m->after : &m->before;

			if (!sid_ok(v)) {
				im_error(req, ERR_ITEM_NOT_FOUND, "no message "
				    "with that id in your archive");
				goto bad;
			}
			free(*dst);
			*dst = xstrdup(v);
		} else {
			im_error(req, ERR_BAD_REQUEST, "unknown field in the "
			    "query form (known: with, start, end, after-id, "
			    "before-id)");
			goto bad;
		}
	}
	if (x != NULL && !form_type) {
		im_error(req, ERR_BAD_REQUEST, "the query form has no "
		    "FORM_TYPE " NS_MAM);
		goto bad;
	}
	m->flip = xml_child(q, NS_MAM, "flip-page") != NULL;
	set = xml_child(q, NS_RSM, "set");
	for (e = set ? xml_first_elem(set) : NULL; e; e = xml_next_elem(e)) {
		buf_reset(&b);
		xml_text(e, &b);
		v = buf_str(&b);
		if (strcmp(e->name, "max") == 0) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);

			if (*v == '\0' || *end != '\0' || !isdigit(
			    (unsigned char)*v)) {
				im_error(req, ERR_BAD_REQUEST, "RSM max must be "
				    "a number");
				goto bad;
			}
			/* More than a page: the server's page. */
			m->aq.max = n > cap ? cap : (unsigned)n;
			m->count_only = n == 0;
		} else if (strcmp(e->name, "after") == 0 ||
		    strcmp(e->name, "before") == 0) {
			int after = e->name[0] == 'a';

			if (*v == '\0') {
				if (after) {
					im_error(req, ERR_BAD_REQUEST, "RSM "
					    "after must name an id");
					goto bad;
				}
				m->last_page = 1;
				continue;
			}
			if (!sid_ok(v)) {
				im_error(req, ERR_ITEM_NOT_FOUND, "no message "
				    "with that id in your archive");
				goto bad;
			}
			/* The stricter bound wins over a form field. */
			free(after ? m->after : m->before);
			if (after)
				m->after = xstrdup(v);
			else
				m->before = xstrdup(v);
			if (!after)
				m->last_page = 1;
		} else if (strcmp(e->name, "index") == 0) {
			im_error(req, ERR_FEATURE_NOT_IMPLEMENTED, "RSM index "
			    "is not supported; page with after or before");
			goto bad;
		}
	}
	buf_free(&b);
	m->aq.with = m->with;
	m->aq.after_sid = m->after;
	m->aq.before_sid = m->before;
	m->aq.backwards = m->last_page;
	return 0;
bad:
	buf_free(&b);
	mam_q_free(m);
	return -1;
}

static void mam_query_run(struct im_req *req, const struct xml_node *q)
{
	struct server *srv = req->srv;
	const char *queryid = xml_attr(q, "queryid");
	struct page p = { NULL, 0 };
	struct xml_stanza *st;
	struct xml_node *fin, *set, *n;
	struct mam_q m;
	int more = 0, complete;
	int64_t count = -1;
	enum store_rc rc;
	char num[24];

	if (parse_query(req, q, &m) != 0)
		return;
	m.aq.owner = req->from->user;
	rc = store_archive_query(srv->store, &m.aq, keep_row, &p, &more);
	if (rc == STORE_NOT_FOUND) {
		im_error(req, ERR_ITEM_NOT_FOUND, "no message with that id in "
		    "your archive");
		goto out;
	}
	if (rc != STORE_OK) {
		log_error("%s: archive query: %s", req->from->full,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "the archive could "
		    "not be read");
		goto out;
	}
	/* The newest page comes newest first from the store; clients get
	 * it in time order unless they asked for the page flipped. */
	if (!m.count_only) {
		for (size_t i = 0; i < p.n; i++) {
			size_t k = (m.aq.backwards != m.flip) ? p.n - 1 - i :
			    i;

			send_result(req->from, queryid, &p.rows[k]);
		}
	}
	/* RSM count is optional: given when it is one lookup (the whole
	 * archive is the result set). */
	if (!m.filtered && store_archive_count(srv->store, req->from->user,
	    &count) != STORE_OK)
		count = -1;
	complete = !more;
	st = xml_stanza_new(NS_MAM, "fin");
	fin = xml_root(st);
	if (queryid != NULL)
		xml_set_attr(st, fin, "queryid", queryid);
	if (complete)
		xml_set_attr(st, fin, "complete", "true");
	set = xml_add_child(st, fin, NS_RSM, "set");
	if (p.n > 0 && !m.count_only) {
		/* first and last name the page's ends in time order. */
		const struct archive_row *a = m.aq.backwards ?
		    &p.rows[p.n - 1] : &p.rows[0];
		const struct archive_row *z = m.aq.backwards ? &p.rows[0] :
		    &p.rows[p.n - 1];

		n = xml_add_child(st, set, NULL, "first");
		xml_add_text(st, n, a->sid, strlen(a->sid));
		n = xml_add_child(st, set, NULL, "last");
		xml_add_text(st, n, z->sid, strlen(z->sid));
	}
	if (count >= 0) {
		snprintf(num, sizeof(num), "%lld", (long long)count);
		n = xml_add_child(st, set, NULL, "count");
		xml_add_text(st, n, num, strlen(num));
	}
	im_iq_result(req, fin);
	xml_stanza_free(st);
out:
	for (size_t i = 0; i < p.n; i++)
		free((char *)p.rows[i].xml);
	free(p.rows);
	mam_q_free(&m);
}

void im_mam_query(struct im_req *req)
{
	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own archive");
		return;
	}
	if (strcmp(req->type, "get") == 0)
		query_form(req);
	else
		mam_query_run(req, xml_first_elem(req->stanza));
}

/* ---- preferences (XEP-0313 6) ------------------------------------------ */

struct prefs_out {
	struct xml_stanza	*st;
	struct xml_node		*always, *never;
};

static void add_pref_jid(void *ud, const char *jid, int always)
{
	struct prefs_out *po = ud;
	struct xml_node *n = xml_add_child(po->st, always ? po->always :
	    po->never, NULL, "jid");

	xml_add_text(po->st, n, jid, strlen(jid));
}

static void send_prefs(struct im_req *req)
{
	struct server *srv = req->srv;
	struct prefs_out po;
	enum archive_default d = (enum archive_default)
	    srv->cfg->archive_default;
	enum store_rc rc;
	struct xml_node *root;

	po.st = xml_stanza_new(NS_MAM, "prefs");
	root = xml_root(po.st);
	po.always = xml_add_child(po.st, root, NULL, "always");
	po.never = xml_add_child(po.st, root, NULL, "never");
	rc = store_archive_prefs_get(srv->store, req->from->user, &d,
	    add_pref_jid, &po);
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		log_error("%s: archive preferences: %s", req->from->full,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "the preferences "
		    "could not be read");
	} else {
		if ((unsigned)d > ARCH_DEFAULT_ROSTER)
			d = ARCH_DEFAULT_NEVER;
		xml_set_attr(po.st, root, "default",
		    archive_default_names[d]);
		im_iq_result(req, root);
	}
	xml_stanza_free(po.st);
}

struct jid_list {
	char	*v[PARLEY_ARCHIVE_PREFS_JIDS_MAX];
	size_t	 n;
};

static void jid_list_free(struct jid_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

static int read_jids(struct im_req *req, const struct xml_node *list,
    struct jid_list *out)
{
	struct buf b = BUF_INIT;

	for (struct xml_node *j = list ? xml_first_elem(list) : NULL; j;
	    j = xml_next_elem(j)) {
		char *bare;

		if (strcmp(j->name, "jid") != 0)
			continue;
		if (out->n == PARLEY_ARCHIVE_PREFS_JIDS_MAX) {
			im_error(req, ERR_NOT_ACCEPTABLE, "too many JIDs in "
			    "one list");
			buf_free(&b);
			return -1;
		}
		buf_reset(&b);
		xml_text(j, &b);
		if ((bare = bare_of(buf_str(&b))) == NULL) {
			im_error(req, ERR_JID_MALFORMED, "a JID in the "
			    "preferences is not valid");
			buf_free(&b);
			return -1;
		}
		out->v[out->n++] = bare;
	}
	buf_free(&b);
	return 0;
}

/* The owner's group says archive = off: preferences that would archive
 * anything are refused, naming the policy (nothing would be recorded, and
 * the user must not believe otherwise). */
static int archive_forbidden(struct im_req *req, int dflt, size_t nalways)
{
	const struct group_policy *gp;

	if (dflt == ARCH_DEFAULT_NEVER && nalways == 0)
		return 0;
	gp = policy_for(req->srv, req->from->user);
	if (gp->archive != ARCHIVE_OFF)
		return 0;
	policy_refuse(req->from, req->stanza, gp, "archive = off", NULL);
	return 1;
}

void im_mam_prefs(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *p = xml_first_elem(req->stanza);
	const char *dv;
	struct jid_list *al, *nl;
	int d = -1;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own preferences");
		return;
	}
	if (strcmp(req->type, "get") == 0) {
		send_prefs(req);
		return;
	}
	dv = xml_attr(p, "default");
	for (int i = 0; dv != NULL && i < 3; i++)
		if (strcmp(dv, archive_default_names[i]) == 0)
			d = i;
	if (d < 0) {
		im_error(req, ERR_BAD_REQUEST, "default must be always, never "
		    "or roster");
		return;
	}
	al = xcalloc(1, sizeof(*al));
	nl = xcalloc(1, sizeof(*nl));
	if (read_jids(req, xml_child(p, NS_MAM, "always"), al) == 0 &&
	    !archive_forbidden(req, d, al->n) &&
	    read_jids(req, xml_child(p, NS_MAM, "never"), nl) == 0) {
		if (store_archive_prefs_set(srv->store, req->from->user,
		    (enum archive_default)d, (const char *const *)al->v,
		    al->n, (const char *const *)nl->v, nl->n) != STORE_OK) {
			log_error("%s: archive preferences: %s",
			    req->from->full, store_errmsg(srv->store));
			im_error(req, ERR_INTERNAL_SERVER_ERROR, "the "
			    "preferences could not be stored");
		} else {
			im_archive_prefs_changed(srv, req->from->user, d);
			send_prefs(req);
			/* Everyone told of the old state learns the new
			 * one now, not at the next message. */
			redisclose(srv, req->from->user);
		}
	}
	jid_list_free(al);
	jid_list_free(nl);
	free(al);
	free(nl);
}

/* ---- Parley's own: state on demand, purge ------------------------------- */

/*
 * <archiving xmlns='urn:parley:archive:0' with='JID'/> (get): answers
 * <archiving with='JID'> holding one <archiving by= peer= state=.../> per
 * archive that could record the conversation: the asker's own, and the
 * other side's when it is an account here (a remote server's archive is
 * not known to this one).
 */
void im_archive_state(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *a = xml_first_elem(req->stanza), *root;
	char *with = bare_of(xml_attr(a, "with"));
	struct archive_decision d;
	struct xml_stanza *st;
	const char *at;

	if (with == NULL) {
		im_error(req, ERR_BAD_REQUEST, "'with' must name the other "
		    "side of the conversation (a JID)");
		return;
	}
	st = xml_stanza_new(NS_ARCHIVE, "archiving");
	root = xml_root(st);
	xml_set_attr(st, root, "with", with);
	xml_set_attr(st, root, "disclosed", srv->cfg->archive_disclose ?
	    "true" : "false");
	im_archive_decide(srv, req->from->user, with, &d);
	add_archiving_el(srv, st, root, req->from->bare, with, &d);
	at = strchr(with, '@');
	if (at != NULL && strcmp(at + 1, srv->cfg->domain) == 0 &&
	    strcmp(with, req->from->bare) != 0) {
		char *local = xstrndup(with, (size_t)(at - with));

		if (store_user_exists(srv->store, local) == STORE_OK) {
			im_archive_decide(srv, local, req->from->bare, &d);
			add_archiving_el(srv, st, root, with, req->from->bare,
			    &d);
		}
		free(local);
	}
	im_iq_result(req, root);
	xml_stanza_free(st);
	free(with);
}

/* <purge xmlns='urn:parley:archive:0' [with='JID']/> (set): deletes the
 * user's own archive (or the part with one JID); answers <purged
 * count='N'/>. */
void im_archive_purge(struct im_req *req)
{
	struct server *srv = req->srv;
	struct xml_node *p = xml_first_elem(req->stanza);
	const char *w = xml_attr(p, "with");
	char *with = NULL, num[24];
	struct xml_stanza *st;
	int64_t n = 0;

	if (req->target != T_SELF) {
		im_error(req, ERR_FORBIDDEN, "only your own archive");
		return;
	}
	if (w != NULL && (with = bare_of(w)) == NULL) {
		im_error(req, ERR_JID_MALFORMED, "'with' is not a valid JID");
		return;
	}
	if (store_archive_purge(srv->store, req->from->user, with, &n) !=
	    STORE_OK) {
		log_error("%s: purging archive: %s", req->from->full,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR, "the archive could "
		    "not be purged");
		free(with);
		return;
	}
	log_info("%s deleted %lld messages of their archive", req->from->bare,
	    (long long)n);
	st = xml_stanza_new(NS_ARCHIVE, "purged");
	snprintf(num, sizeof(num), "%lld", (long long)n);
	xml_set_attr(st, xml_root(st), "count", num);
	im_iq_result(req, xml_root(st));
	xml_stanza_free(st);
	free(with);
}

/* XEP-0128 on the account's disco#info: whether and how it archives,
 * so that a contact can know before writing. */
void im_archive_disco_form(struct im_req *req, struct xml_stanza *st,
    struct xml_node *query)
{
	struct server *srv = req->srv;
	struct xml_node *x = xml_add_child(st, query, NS_DATA, "x");
	int own, d = im_archive_user_default(srv, req->to.local, &own);
	char r[24];

	xml_set_attr(st, x, "type", "result");
	add_field(st, x, "FORM_TYPE", "hidden", NS_ARCHIVE);
	add_field(st, x, "default", NULL, archive_default_names[
	    (unsigned)d <= ARCH_DEFAULT_ROSTER ? d : 0]);
	add_field(st, x, "forced", NULL, im_archive_forced(srv, NULL) ?
	    "true" : "false");
	retention_str(srv->cfg->archive_retention, r, sizeof(r));
	add_field(st, x, "retention", NULL, r);
	retention_str(srv->cfg->archive_force_retention, r, sizeof(r));
	add_field(st, x, "forced-retention", NULL, r);
	add_field(st, x, "disclosed", NULL, srv->cfg->archive_disclose ?
	    "true" : "false");
}

/* ---- retention ---------------------------------------------------------- */

static void expire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	int64_t n, total = 0;

	do {
		if (store_archive_expire(srv->store, clock_wall_s(),
		    EXPIRE_BATCH, &n) != STORE_OK) {
			log_error("archive retention: %s",
			    store_errmsg(srv->store));
			return;
		}
		total += n;
	} while (n == EXPIRE_BATCH);
	if (total > 0)
		log_info("archive retention: deleted %lld expired messages",
		    (long long)total);
}

void im_archive_start(struct server *srv)
{
	struct timeval tv = { (time_t)srv->cfg->archive_expire_interval, 0 };

	expire_ev = event_new(srv->base, -1, EV_PERSIST, expire_cb, srv);
	event_add(expire_ev, &tv);
	expire_cb(-1, 0, srv);
	/* A policy changed while the server was down: tell now. */
	redisclose(srv, NULL);
}

void im_archive_stop(struct server *srv)
{
	if (expire_ev != NULL)
		event_free(expire_ev);
	expire_ev = NULL;
	if (told.owners != NULL)
		hmap_free(told.owners);
	memset(&told, 0, sizeof(told));
}
