/*
 * main.c - parleyctl, the admin tool: options, configuration, and the
 * table of commands (each in its own cmd_*.c; shared helpers in ctl.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "parleyctl/ctl.h"

const struct ctl_cmd ctl_cmds[] = {
	{ "user policy", "user policy JID [first_contact=auto|contacts|"
	    "domain|anyone|default]", cmd_user_policy },
	{ "user group", "user group JID [NAME|--none]", cmd_user_group },
	{ "user", "user add|delete|passwd|list [JID]", cmd_user },
	{ "groups", "groups", cmd_groups },
	{ "invite", "invite [--uses N] [--expires 7d]|list|revoke TOKEN|ID",
	    cmd_invite },
	{ "check", "check", cmd_check },
	{ "reports", "reports [--json]", cmd_reports },
	{ "top", "top [--by messages|bytes|files] [--window 1h|24h|7d] "
	    "[--limit N] [--json]", cmd_top },
	{ "audit", "audit [--account JID] [--since T] [--json]", cmd_audit },
	{ "backup", "backup [--force] FILE", cmd_backup },
	{ "restore", "restore FILE", cmd_restore },
	{ "archive export", "archive export JID [--out FILE]",
	    cmd_archive_export },
	{ "archive purge", "archive purge JID", cmd_archive_purge },
	{ NULL, NULL, NULL }
};

/* A two-word name is a subcommand with a file of its own; it comes before
 * its one-word command in the table. */
static int named(const struct ctl_cmd *k, int argc, char **argv)
{
	const char *sp = strchr(k->name, ' ');
	size_t n = sp ? (size_t)(sp - k->name) : strlen(k->name);

	if (strlen(argv[0]) != n || strncmp(argv[0], k->name, n) != 0)
		return 0;
	return sp == NULL || (argc > 1 && strcmp(argv[1], sp + 1) == 0);
}

int main(int argc, char *argv[])
{
	const struct ctl_cmd *k;
	struct ctl c = { 0 };
	char err[512];
	int ch, ex;

	/* getopt's own messages would make a second line. */
	opterr = 0;
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			c.conf = optarg;
			break;
		case 'h':
			ctl_usage_line(err, sizeof(err), NULL);
			printf("%s\n", err);
			return RC_OK;
		default:
			if (optopt == 'c')
				die(RC_USAGE, "-c needs a FILE");
			die(RC_USAGE, "-%c: unknown option",
			    isprint(optopt) ? optopt : '?');
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ctl_usage(NULL);
	for (k = ctl_cmds; k->name != NULL; k++)
		if (named(k, argc, argv))
			break;
	if (k->name == NULL)
		ctl_usage(NULL);

	/* Same defaults and file as parleyd, so both find one database. */
	config_defaults(&c.cfg);
	if (c.conf != NULL && config_load(&c.cfg, c.conf, err,
	    sizeof(err)) != 0)
		die(RC_ERR, "%s", err);
	if (config_finish(&c.cfg, err, sizeof(err)) != 0)
		die(RC_ERR, "%s: %s", c.conf ? c.conf : "defaults", err);

	ex = k->run(&c, argc, argv);
	if (c.st != NULL)
		store_close(c.st);
	config_free(&c.cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		complain("cannot write output: %s", strerror(errno));
		return RC_ERR;
	}
	return ex;
}
