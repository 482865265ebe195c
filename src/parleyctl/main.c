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
	{ "user", "user add|delete|passwd|list [JID]", cmd_user },
	{ NULL, NULL, NULL }
};

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
		if (strcmp(argv[0], k->name) == 0)
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
