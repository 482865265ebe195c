/*
 * cmd_check.c - `parleyctl check`: an audit of the configuration that
 * parleyd would run with (the same -c FILE and defaults).
 *
 * Prints one line per risky setting, "risky: SETTING: why", and exits
 * RC_RISKY if there is any; otherwise one "ok" line and 0, so that it can
 * gate a deployment script.  Each check is one row of the table below: the
 * setting as the admin would write it, a test on the loaded configuration,
 * and the reason in a sentence.  A new check is a new row.
 */
#include <stdio.h>

#include "core/config.h"
#include "parleyctl/ctl.h"

struct check {
	const char	*setting;
	int		(*risky)(const struct config *c);
	const char	*why;
};

static int rate_limits_off(const struct config *c)
{
	return !c->rate_limits;
}

static int plain_on(const struct config *c)
{
	return c->allow_plain;
}

/* Uploads are on whenever there is an HTTPS listener. */
static int scan_off(const struct config *c)
{
	return c->http_listen.n > 0 && !c->scan_enabled;
}

static int scan_fail_open(const struct config *c)
{
	return c->http_listen.n > 0 && c->scan_enabled && c->scan_fail_open;
}

static int p2p_allowed(const struct config *c)
{
	return c->p2p_allow;
}

/* Conversations recorded without telling the people in them. */
static int archive_undisclosed(const struct config *c)
{
	return !c->archive_disclose;
}

static const struct check checks[] = {

	{ "[limits] rate_limits = off", rate_limits_off,
	    "no per-account rate limits: one account (or a stolen password) "
	    "can flood every user; for benchmarks only" },
	{ "[auth] plain = on", plain_on,
	    "SASL PLAIN hands the password itself to the server on every "
	    "login; SCRAM never does" },
	{ "[scan] enabled = off", scan_off,
	    "uploaded files are served without a virus scan" },
	{ "[scan] fail_open = on", scan_fail_open,
	    "when clamd is down or fails, uploads are served unscanned" },
	{ "[policy] p2p_transfers = allow", p2p_allowed,
	    "direct transfer offers reveal users' network addresses to each "
	    "other, and their files skip the virus scan" },
	{ "[archive] disclose = off", archive_undisclosed,
	    "conversations are archived (by a user's choice or forced by "
	    "[archive] force_domains) without telling the people in them" },
};

#define NCHECKS	(sizeof(checks) / sizeof(checks[0]))

int cmd_check(struct ctl *c, int argc, char **argv)
{
	size_t nrisky = 0;

	if (argc != 1)
		ctl_usage("check");
	for (size_t i = 0; i < NCHECKS; i++) {
		if (!checks[i].risky(&c->cfg))
			continue;
		printf("risky: %s: %s\n", checks[i].setting, checks[i].why);
		nrisky++;
	}
	if (nrisky > 0)
		return RC_RISKY;
	printf("ok: %zu settings checked, none risky (%s)\n", NCHECKS,
	    c->conf != NULL ? c->conf : "embedded defaults");
	return RC_OK;
}
