/* policy.c - see policy.h. */
#include "xmpp/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/settings.h"
#include "store/store.h"
#include "xmpp/audit.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define SETTING_KEY	"group"
/* How often to ask whether parleyctl changed the database. */
#define RECHECK_MS	1000
#define SWEEP_MIN_MS	250u
#define SWEEP_MAX_MS	60000u
#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"

struct policy {
	struct server		*srv;
	struct group_policy	 global;	/* no group, no [group.default] */
	struct group_policy	 groups[CONFIG_MAX_GROUPS];
	size_t			 ngroups;
	const struct group_policy *fallback;	/* default group or global */
	struct hmap		*members;	/* localpart -> group_policy */
	int64_t			 data_version;
	uint64_t		 checked_ms;
	int			 loaded;
	struct event		*sweep;
	uint64_t		 sweep_ms;
};

static void sweep_cb(evutil_socket_t fd, short what, void *arg);

static void resolve(const struct config *cfg, const struct config_group *g,
    struct group_policy *out)
{
	unsigned set = g != NULL ? g->set : 0;

	memset(out, 0, sizeof(*out));
	out->name = g != NULL ? g->name : NULL;
	out->upload = (set & GK_UPLOAD) ? g->upload : 1;
	out->remote_contacts = (set & GK_REMOTE) ? g->remote_contacts : 1;
	out->federate = (set & GK_FEDERATE) ? &g->federate : NULL;
	out->archive = (set & GK_ARCHIVE) ? g->archive : ARCHIVE_USER;
	out->max_session = (set & GK_MAX_SESSION) ? g->max_session :
	    cfg->max_session;
	out->idle_logoff = (set & GK_IDLE) ? g->idle_logoff :
	    cfg->idle_logoff;
#define PICK(bit, f)	((set & (bit)) ? g->f : cfg->f)
	out->rl.rate[RL_MESSAGE] = PICK(GK_MSG_RATE, message_rate);
	out->rl.burst[RL_MESSAGE] = PICK(GK_MSG_BURST, message_burst);
	out->rl.rate[RL_PRESENCE] = PICK(GK_PRES_RATE, presence_rate);
	out->rl.burst[RL_PRESENCE] = PICK(GK_PRES_BURST, presence_burst);
	out->rl.rate[RL_IQ] = PICK(GK_IQ_RATE, iq_rate);
	out->rl.burst[RL_IQ] = PICK(GK_IQ_BURST, iq_burst);
	out->rl.rate[RL_BYTES] = PICK(GK_BYTE_RATE, byte_rate);
	out->rl.burst[RL_BYTES] = PICK(GK_BYTE_BURST, byte_burst);
	out->rl.new_rcpt_per_hour = PICK(GK_NEW_RCPT, new_recipients_per_hour);
#undef PICK
	/* config.c refuses zeros; ratelimit.c would divide by them. */
	for (int b = 0; b < RL_NBUCKETS; b++) {
		if (out->rl.rate[b] == 0)
			out->rl.rate[b] = 1;
		if (out->rl.burst[b] == 0)
			out->rl.burst[b] = 1;
	}
	if (out->rl.new_rcpt_per_hour == 0)
		out->rl.new_rcpt_per_hour = 1;
}

static const struct rl_params *rl_lookup(void *ud, const char *account)
{
	return &policy_for(ud, account)->rl;
}

uint64_t policy_sweep_interval_ms(const struct config *cfg)
{
	unsigned least = 0;
	uint64_t ms;

#define CONSIDER(v)	do { if ((v) != 0 && (least == 0 || (v) < least)) \
	least = (v); } while (0)
	CONSIDER(cfg->idle_logoff);
	CONSIDER(cfg->max_session);
	for (size_t i = 0; i < cfg->ngroups; i++) {
		CONSIDER(cfg->groups[i].idle_logoff);
		CONSIDER(cfg->groups[i].max_session);
	}
#undef CONSIDER
	if (least == 0)
		return 0;
	ms = (uint64_t)least * 1000 / 8;
	if (ms < SWEEP_MIN_MS)
		ms = SWEEP_MIN_MS;
	if (ms > SWEEP_MAX_MS)
		ms = SWEEP_MAX_MS;
	return ms;
}

struct policy *policy_new(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	struct policy *p = xcalloc(1, sizeof(*p));

	p->srv = srv;
	resolve(cfg, NULL, &p->global);
	p->fallback = &p->global;
	for (size_t i = 0; i < cfg->ngroups; i++) {
		resolve(cfg, &cfg->groups[i], &p->groups[i]);
		if (strcmp(cfg->groups[i].name, "default") == 0)
			p->fallback = &p->groups[i];
	}
	p->ngroups = cfg->ngroups;
	p->members = hmap_new();
	if (srv->ratelimit != NULL)
		ratelimit_set_lookup(srv->ratelimit, rl_lookup, srv);
	p->sweep_ms = policy_sweep_interval_ms(cfg);
	if (p->sweep_ms > 0) {
		struct timeval tv = { (time_t)(p->sweep_ms / 1000),
		    (suseconds_t)(p->sweep_ms % 1000) * 1000 };

		p->sweep = event_new(srv->base, -1, EV_PERSIST, sweep_cb, srv);
		event_add(p->sweep, &tv);
	}
	if (cfg->ngroups > 0)
		log_info("%zu group%s of accounts; accounts in none follow %s",
		    cfg->ngroups, cfg->ngroups == 1 ? "" : "s",
		    p->fallback->name ? "[group.default]" :
		    "the global settings");
	return p;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	if (p->sweep != NULL)
		event_free(p->sweep);
	hmap_free(p->members);
	free(p);
}

static const struct group_policy *group_named(const struct policy *p,
    const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

static void load_member(void *ud, const char *user, const char *value)
{
	struct policy *p = ud;
	const struct group_policy *g = value ? group_named(p, value) : NULL;

	if (g == NULL) {
		/* Assigned while the group existed, then taken out of the
		 * config: the account follows the fallback. */
		log_warn("account %s is in group '%s', which the "
		    "configuration does not define; it follows %s", user,
		    value ? value : "", p->fallback->name ?
		    "[group.default]" : "the global settings");
		return;
	}
	hmap_put(p->members, user, (void *)g);
}

/* parleyctl may have changed a group assignment: reload them all. */
static void refresh(struct policy *p)
{
	struct store *st = p->srv->store;
	uint64_t now;
	int64_t v;

	if (p->ngroups == 0)
		return;		/* nothing to be in */
	now = clock_mono_ms();
	if (p->loaded && now - p->checked_ms < RECHECK_MS)
		return;
	p->checked_ms = now;
	if (store_data_version(st, &v) != STORE_OK) {
		log_error("policy: %s", store_errmsg(st));
		return;
	}
	if (p->loaded && v == p->data_version)
		return;
	p->data_version = v;
	p->loaded = 1;
	hmap_free(p->members);
	p->members = hmap_new();
	if (store_setting_list(st, SETTING_KEY, load_member, p) != STORE_OK)
		log_error("policy: reading group assignments: %s",
		    store_errmsg(st));
}

const struct group_policy *policy_for(struct server *srv,
    const char *localpart)
{
	struct policy *p = srv->policy;
	const struct group_policy *g;

	refresh(p);
	g = localpart != NULL ? hmap_get(p->members, localpart) : NULL;
	return g != NULL ? g : p->fallback;
}

enum group_archive policy_archive(struct server *srv, const char *localpart)
{
	return policy_for(srv, localpart)->archive;
}

int policy_is_admin(const struct server *srv, const char *bare)
{
	const struct domain_list *a = &srv->cfg->admins;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], bare) == 0)
			return 1;
	return 0;
}

int policy_refuse(struct session *s, const struct xml_node *orig,
    const struct group_policy *p, const char *rule, const char *detail)
{
	struct xml_stanza *reply;
	char text[512];

	snprintf(text, sizeof(text), "forbidden by policy of group '%s': %s%s"
	    "%s", p->name ? p->name : "(none)", rule, detail ? " " : "",
	    detail ? detail : "");
	log_info("%s: refused by policy: group=%s rule=%s",
	    s->full ? s->full : s->user, p->name ? p->name : "(none)", rule);
	{
		char what[CONFIG_GROUP_NAME_MAX + 128];

		/* Coalesced: refusals repeated by a client are one row. */
		snprintf(what, sizeof(what), "group=%s rule=%s",
		    p->name ? p->name : "(none)", rule);
		audit_hit(s->srv, "policy", s->user, s->addr, what, NULL);
	}
	reply = stanza_error_reply_type(orig, ERR_POLICY_VIOLATION, "cancel",
	    text);
	if (reply != NULL) {
		xml_set_attr(reply, xml_root(reply), "to", s->full);
		session_send(s, xml_root(reply));
		xml_stanza_free(reply);
	}
	return 1;
}

static int domain_listed(const struct domain_list *l, const char *d)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], d) == 0)
			return 1;
	return 0;
}

int policy_contact_refused(struct session *s, const struct xml_node *orig,
    const char *contact_domain)
{
	const struct group_policy *p;

	if (strcmp(contact_domain, s->srv->cfg->domain) == 0)
		return 0;
	p = policy_for(s->srv, s->user);
	if (p->remote_contacts)
		return 0;
	return policy_refuse(s, orig, p, "remote_contacts = deny", NULL);
}

int policy_remote_refused(struct session *s, const struct xml_node *st,
    const struct jid *to)
{
	const struct group_policy *p = policy_for(s->srv, s->user);
	const char *type = xml_attr(st, "type");
	char detail[PARLEY_JID_PART_MAX + 64];
	int contact;

	/* Errors and IQ results are never answered with errors; the
	 * router deals with them as before. */
	if (type != NULL && (strcmp(type, "error") == 0 ||
	    (strcmp(st->name, "iq") == 0 && strcmp(type, "result") == 0)))
		return 0;
	/* Writing to someone there, or asking for (or granting) a
	 * subscription, is having a remote contact. */
	contact = to->local != NULL && ((strcmp(st->name, "message") == 0 &&
	    (type == NULL || strcmp(type, "groupchat") != 0)) ||
	    (strcmp(st->name, "presence") == 0 && type != NULL &&
	    (strcmp(type, "subscribe") == 0 ||
	    strcmp(type, "subscribed") == 0)));
	if (contact && !p->remote_contacts)
		return policy_refuse(s, st, p, "remote_contacts = deny", NULL);
	if (p->federate != NULL && !domain_listed(p->federate, to->domain)) {
		snprintf(detail, sizeof(detail), "(%s is not on it)",
		    to->domain);
		return policy_refuse(s, st, p, p->federate->n == 0 ?
		    "federate = (no domain)" : "federate allow-list", detail);
	}
	return 0;
}

int policy_is_activity(const struct xml_node *st)
{
	const char *type = xml_attr(st, "type");
	const struct xml_node *c;

	if (strcmp(st->name, "iq") == 0) {
		if (type == NULL || (strcmp(type, "get") != 0 &&
		    strcmp(type, "set") != 0))
			return 0;
		c = xml_first_elem(st);
		return c == NULL || strcmp(c->ns, NS_PING) != 0 ||
		    strcmp(c->name, "ping") != 0;
	}
	if (strcmp(st->name, "message") == 0) {
		if (type != NULL && strcmp(type, "error") == 0)
			return 0;
		for (c = xml_first_elem(st); c != NULL; c = xml_next_elem(c)) {
			if (strcmp(c->ns, NS_CLIENT) == 0 &&
			    (strcmp(c->name, "body") == 0 ||
			    strcmp(c->name, "subject") == 0))
				return 1;
			if (strcmp(c->ns, NS_CHATSTATES) == 0 &&
			    (strcmp(c->name, "composing") == 0 ||
			    strcmp(c->name, "paused") == 0))
				return 1;
		}
		return 0;
	}
	if (strcmp(st->name, "presence") == 0) {
		if (type == NULL) {
			struct buf b = BUF_INIT;
			int away = 0;

			c = xml_child(st, NS_CLIENT, "show");
			if (c != NULL) {
				xml_text(c, &b);
				away = strcmp(buf_str(&b), "away") == 0 ||
				    strcmp(buf_str(&b), "xa") == 0;
				buf_free(&b);
			}
			return !away;
		}
		return strcmp(type, "subscribe") == 0 ||
		    strcmp(type, "subscribed") == 0 ||
		    strcmp(type, "unsubscribe") == 0 ||
		    strcmp(type, "unsubscribed") == 0;
	}
	return 0;
}

static void log_off(struct session *s, const struct group_policy *p,
    const char *rule, const char *why)
{
	char g[CONFIG_GROUP_NAME_MAX + 16];

	if (p->name != NULL)
		snprintf(g, sizeof(g), "group '%s'", p->name);
	else
		snprintf(g, sizeof(g), "[c2s]");
	server_audit(s->srv, "policy", s->user, NULL, "group=%s rule=%s",
	    p->name ? p->name : "(none)", rule);
	{
		char text[256];

		snprintf(text, sizeof(text), "%s (%s of %s)", why, rule, g);
		session_stream_error(s, SE_POLICY_VIOLATION, text);
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	uint64_t now = clock_mono_ms();
	struct session *s, *next;
	char d[32], why[128];

	for (s = srv->sessions; s != NULL; s = next) {
		const struct group_policy *p;

		next = s->all_next;
		if (s->state != SS_ACTIVE)
			continue;
		p = policy_for(srv, s->user);
		if (p->max_session != 0 && now - s->bound_ms >=
		    (uint64_t)p->max_session * 1000) {
			config_duration_str(p->max_session, d, sizeof(d));
			snprintf(why, sizeof(why), "session time limit: a "
			    "session may last %s; log in again", d);
			log_off(s, p, "max_session", why);
		} else if (p->idle_logoff != 0 && now - s->active_ms >=
		    (uint64_t)p->idle_logoff * 1000) {
			config_duration_str(p->idle_logoff, d, sizeof(d));
			snprintf(why, sizeof(why), "logged off after %s "
			    "without activity", d);
			log_off(s, p, "idle_logoff", why);
		}
	}
}
