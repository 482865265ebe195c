/*
 * cmd_group.c - parleyctl user group JID [NAME|--none], and parleyctl
 * groups: which group of accounts ([group.NAME] in the configuration,
 * xmpp/policy.h) an account is in, and who is in each.
 *
 * The assignment is the account's setting "group" (store/settings.h);
 * parleyd notices it within a second, for sessions already open too.
 * A name the configuration does not define is refused, so that a typo
 * cannot silently leave an account under the default policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "parleyctl/ctl.h"
#include "store/settings.h"

#define KEY	"group"

/* What an account in no group follows. */
static const char *fallback(const struct config *cfg)
{
	return config_group_find(cfg, "default") != NULL ?
	    "[group.default]" : "the global settings";
}

static int show(struct ctl *c, struct store *st, const char *lp)
{
	struct buf v = BUF_INIT;
	enum store_rc rc = store_user_exists(st, lp);

	if (rc != STORE_OK)
		return store_fail(st, rc, lp, c->cfg.domain);
	rc = store_setting_get(st, lp, KEY, &v);
	if (rc == STORE_NOT_FOUND) {
		printf("%s@%s group=(none): follows %s\n", lp, c->cfg.domain,
		    fallback(&c->cfg));
		return RC_OK;
	}
	if (rc == STORE_OK) {
		if (config_group_find(&c->cfg, buf_str(&v)) == NULL)
			printf("%s@%s group=%s (not in the configuration: "
			    "follows %s)\n", lp, c->cfg.domain, buf_str(&v),
			    fallback(&c->cfg));
		else
			printf("%s@%s group=%s\n", lp, c->cfg.domain,
			    buf_str(&v));
	}
	buf_free(&v);
	return store_fail(st, rc, lp, c->cfg.domain);
}

/* "a, b or c" of the configured groups, for an error line. */
static void group_names(const struct config *cfg, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cfg->ngroups && off + 1 < cap; i++) {
		int n = snprintf(out + off, cap - off, "%s%s",
		    i == 0 ? "" : ", ", cfg->groups[i].name);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int cmd_user_group(struct ctl *c, int argc, char **argv)
{
	struct store *st;
	const char *name = NULL;
	char names[1024];
	char *lp;
	int ex = RC_OK, clear = 0;

	/* argv: "user" "group" JID [NAME|--none] */
	if (argc != 3 && argc != 4)
		ctl_usage("user group");
	if (argc == 4) {
		name = argv[3];
		if (strcmp(name, "--none") == 0) {
			clear = 1;
		} else if (config_group_find(&c->cfg, name) == NULL) {
			group_names(&c->cfg, names, sizeof(names));
			die(RC_NOTFOUND, "%s: no such group in %s (%s%s)",
			    shown(name), c->conf ? c->conf : "the "
			    "configuration", c->cfg.ngroups ? "groups: " :
			    "no [group.NAME] sections", names);
		}
	}
	lp = account_localpart(&c->cfg, argv[2]);
	st = ctl_store(c);
	if (name != NULL)
		ex = store_fail(st, store_setting_set(st, lp, KEY,
		    clear ? NULL : name), lp, c->cfg.domain);
	if (ex == RC_OK)
		ex = show(c, st, lp);
	free(lp);
	return ex;
}

struct member {
	char	*user;
	char	*group;
};

struct members {
	struct member	*v;
	size_t		 n, cap;
};

static void collect(void *ud, const char *user, const char *value)
{
	struct members *m = ud;

	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->v = xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n].user = xstrdup(user);
	m->v[m->n].group = xstrdup(value ? value : "");
	m->n++;
}

static void print_group(const struct ctl *c, const struct members *m,
    const char *name, const char *heading)
{
	size_t n = 0;

	printf("%s:", heading);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].group, name) == 0) {
			printf(" %s@%s", m->v[i].user, c->cfg.domain);
			n++;
		}
	printf(n == 0 ? " (no members)\n" : "\n");
}

int cmd_groups(struct ctl *c, int argc, char **argv)
{
	struct members m = { NULL, 0, 0 };
	struct store *st;
	char head[128];
	int ex;

	if (argc != 1)
		ctl_usage("groups");
	st = ctl_store(c);
	ex = store_fail(st, store_setting_list(st, KEY, collect, &m), NULL,
	    NULL);
	if (ex == RC_OK) {
		for (size_t i = 0; i < c->cfg.ngroups; i++) {
			snprintf(head, sizeof(head), "%s%s",
			    c->cfg.groups[i].name, strcmp(c->cfg.groups[i].name,
			    "default") == 0 ? " (also accounts in no group)" :
			    "");
			print_group(c, &m, c->cfg.groups[i].name, head);
		}
		/* Assigned to a group since taken out of the config. */
		for (size_t i = 0; i < m.n; i++)
			if (config_group_find(&c->cfg, m.v[i].group) == NULL)
				printf("%s@%s: in group '%s', which the "
				    "configuration does not define (follows "
				    "%s)\n", m.v[i].user, c->cfg.domain,
				    m.v[i].group, fallback(&c->cfg));
		if (c->cfg.ngroups == 0)
			printf("no [group.NAME] sections: every account "
			    "follows the global settings\n");
	}
	for (size_t i = 0; i < m.n; i++) {
		free(m.v[i].user);
		free(m.v[i].group);
	}
	free(m.v);
	return ex;
}
