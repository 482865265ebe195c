/*
 * archive_policy.c - THE decision whether an archive records a
 * conversation (DESIGN danger 6): im_archive_decide().
 *
 * Everything that archives or discloses asks this one function: the
 * archiving of each message (im/mam.c), the disclosure notices, the
 * on-demand state query, the disco form.  Its order:
 *
 *   1. Organisation policy ([archive] force_domains): when the server's
 *      own domain or the peer's domain is listed, the owner's archive
 *      records the conversation whatever the user chose, kept for
 *      [archive] force_retention.  Set only by the admin, and disclosed
 *      like any other archiving.
 *   2. The owner's XEP-0313 preferences: a JID in the 'never' list is
 *      not archived, one in 'always' is; otherwise the default: always,
 *      never, or roster (the peer is an item of the owner's roster).
 *      Without preferences of their own, [archive] default applies,
 *      which is 'never' unless the admin changed it.  Kept for [archive]
 *      retention.
 *
 *   1b. The owner's group ([group.NAME] archive, xmpp/policy.h): 'always'
 *      records every conversation of the group's accounts, as an
 *      organisation policy (kept for [archive] force_retention, and
 *      disclosed as policy='org'); 'off' records none, whatever the
 *      preferences say (im/mam.c refuses preferences that would archive,
 *      naming the policy); 'user' (the default) goes on to step 2.
 *
 * Cost: no store access for an account that never set preferences and
 * no policy; the accounts with preferences are kept in memory and
 * reloaded when another process (parleyctl) committed to the database.
 */
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "im/im.h"
#include "store/archive.h"
#include "store/roster.h"
#include "store/store.h"
#include "xmpp/policy.h"
#include "xmpp/server.h"

#define RECHECK_MS	1000

static struct {
	struct hmap	*dflt;		/* localpart -> (void *)(default + 1) */
	int64_t		 data_version;
	uint64_t	 checked_ms;
	int		 loaded;
} ap;

static void load_user(void *ud, const char *user, enum archive_default d)
{
	hmap_put(ap.dflt, user, (void *)(uintptr_t)(d + 1));
}

static void refresh(struct server *srv)
{
	uint64_t now = clock_mono_ms();
	int64_t v;

	if (ap.dflt == NULL)
		ap.dflt = hmap_new();
	if (ap.loaded && now - ap.checked_ms < RECHECK_MS)
		return;
	ap.checked_ms = now;
	if (store_data_version(srv->store, &v) != STORE_OK) {
		log_error("archive: %s", store_errmsg(srv->store));
		return;
	}
	if (ap.loaded && v == ap.data_version)
		return;
	ap.data_version = v;
	ap.loaded = 1;
	hmap_free(ap.dflt);
	ap.dflt = hmap_new();
	if (store_archive_prefs_users(srv->store, load_user, NULL) != STORE_OK)
		log_error("archive: reading preferences: %s",
		    store_errmsg(srv->store));
}

void im_archive_prefs_changed(struct server *srv, const char *user,
    int dflt)
{
	refresh(srv);
	if (dflt < 0)
		hmap_del(ap.dflt, user);
	else
		hmap_put(ap.dflt, user, (void *)(uintptr_t)(dflt + 1));
}

int im_archive_user_default(struct server *srv, const char *user,
    int *own)
{
	void *v;

	refresh(srv);
	v = hmap_get(ap.dflt, user);
	*own = v != NULL;
	return v != NULL ? (int)((uintptr_t)v - 1) : srv->cfg->archive_default;
}

int im_archive_idle(struct server *srv)
{
	const struct config *c = srv->cfg;

	if (c->archive_default != ARCH_DEFAULT_NEVER ||
	    c->archive_force_domains.n > 0)
		return 0;
	for (size_t i = 0; i < c->ngroups; i++)
		if ((c->groups[i].set & GK_ARCHIVE) &&
		    c->groups[i].archive == ARCHIVE_ALWAYS)
			return 0;
	refresh(srv);
	return hmap_count(ap.dflt) == 0;
}

static const char *domain_of(const char *jid)
{
	const char *at = strchr(jid, '@');

	return at != NULL ? at + 1 : jid;
}

int im_archive_forced(const struct server *srv, const char *peer_bare)
{
	const struct domain_list *l = &srv->cfg->archive_force_domains;
	const char *pd = peer_bare != NULL ? domain_of(peer_bare) : NULL;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], srv->cfg->domain) == 0 ||
		    (pd != NULL && strcmp(l->v[i], pd) == 0))
			return 1;
	return 0;
}

static int in_roster(struct server *srv, const char *owner,
    const char *peer)
{
	struct roster_item it;
	int yes;

	if (store_roster_get(srv->store, owner, peer, &it) != STORE_OK)
		return 0;
	yes = it.visible;
	roster_item_clear(&it);
	return yes;
}

int im_archive_decide(struct server *srv, const char *owner,
    const char *peer_bare, struct archive_decision *d)
{
	int own, rule = -1, dflt;

	memset(d, 0, sizeof(*d));
	if (im_archive_forced(srv, peer_bare)) {
		d->on = 1;
		d->by = ARCH_BY_ORG;
		d->retention = srv->cfg->archive_force_retention;
		return 1;
	}
	switch (policy_archive(srv, owner)) {
	case ARCHIVE_ALWAYS:
		d->on = 1;
		d->by = ARCH_BY_ORG;
		d->retention = srv->cfg->archive_force_retention;
		return 1;
	case ARCHIVE_OFF:
		d->by = ARCH_BY_ORG;
		return 0;
	case ARCHIVE_USER:
		break;
	}
	d->by = ARCH_BY_USER;
	d->retention = srv->cfg->archive_retention;
	dflt = im_archive_user_default(srv, owner, &own);
	if (own && store_archive_prefs_rule(srv->store, owner, peer_bare,
	    &rule) != STORE_OK) {
		/* Unknown is not consent: record nothing. */
		log_error("archive: preferences of %s: %s", owner,
		    store_errmsg(srv->store));
		return 0;
	}
	if (rule >= 0)
		d->on = rule;
	else if (dflt == ARCH_DEFAULT_ALWAYS)
		d->on = 1;
	else if (dflt == ARCH_DEFAULT_ROSTER)
		d->on = in_roster(srv, owner, peer_bare);
	return d->on;
}
