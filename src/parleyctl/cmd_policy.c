/*
 * cmd_policy.c - parleyctl user policy JID [KEY=VALUE]: an account's own
 * policy settings, shown or set.
 *
 * The one key so far is first_contact (who may write to the account
 * without its consent, im/consent.c): auto, contacts, domain or anyone
 * for the account, or default to follow [policy] first_contact again.
 * parleyd notices the change within a second, without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "parleyctl/ctl.h"
#include "store/settings.h"

#define KEY	"first_contact"

/* What the server's setting means, e.g. "auto: domain". */
static void server_default(const struct config *cfg, char *out, size_t cap)
{
	enum first_contact fc = cfg->first_contact;

	if (fc != FC_AUTO) {
		snprintf(out, cap, "%s", first_contact_names[fc]);
		return;
	}
	snprintf(out, cap, "auto: %s", first_contact_names[
	    cfg->register_mode == REGISTER_OPEN ? FC_CONTACTS : FC_DOMAIN]);
}

static int show(struct ctl *c, struct store *st, const char *lp)
{
	struct buf v = BUF_INIT;
	enum store_rc rc = store_user_exists(st, lp);
	char def[64];

	if (rc != STORE_OK)
		return store_fail(st, rc, lp, c->cfg.domain);
	rc = store_setting_get(st, lp, KEY, &v);
	if (rc == STORE_NOT_FOUND) {
		server_default(&c->cfg, def, sizeof(def));
		printf("%s@%s %s=default (%s)\n", lp, c->cfg.domain, KEY, def);
		return RC_OK;
	}
	if (rc == STORE_OK)
		printf("%s@%s %s=%s\n", lp, c->cfg.domain, KEY, buf_str(&v));
	buf_free(&v);
	return store_fail(st, rc, lp, c->cfg.domain);
}

int cmd_user_policy(struct ctl *c, int argc, char **argv)
{
	struct store *st;
	const char *eq, *value = NULL;
	char *lp;
	int ex = RC_OK;

	/* argv: "user" "policy" JID [KEY=VALUE] */
	if (argc != 3 && argc != 4)
		ctl_usage("user policy");
	if (argc == 4) {
		eq = strchr(argv[3], '=');
		if (eq == NULL || (size_t)(eq - argv[3]) != strlen(KEY) ||
		    strncmp(argv[3], KEY, strlen(KEY)) != 0)
			die(RC_USAGE, "%s: unknown setting (the one there is: "
			    KEY "=VALUE)", shown(argv[3]));
		value = eq + 1;
		if (strcmp(value, "default") != 0 &&
		    first_contact_parse(value) < 0)
			die(RC_USAGE, "%s: must be auto, contacts, domain, "
			    "anyone or default", shown(argv[3]));
	}
	lp = account_localpart(&c->cfg, argv[2]);
	st = ctl_store(c);
	if (value != NULL)
		ex = store_fail(st, store_setting_set(st, lp, KEY,
		    strcmp(value, "default") == 0 ? NULL : value), lp,
		    c->cfg.domain);
	if (ex == RC_OK)
		ex = show(c, st, lp);
	free(lp);
	return ex;
}
