/*
 * parleyd - the Parley XMPP server.
 *
 * parleyd [-c FILE]: runs in the foreground, logs to stderr.  Without -c
 * it uses the embedded defaults (docs/CONFIG.md).  A bad configuration is
 * one line on stderr and exit status 1; SIGTERM or SIGINT shut down
 * cleanly (every client gets a system-shutdown stream error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "xmpp/server.h"

static void usage(void)
{
	fprintf(stderr, "usage: parleyd [-c config-file]\n");
	exit(2);
}

/* Each connection is a descriptor; the soft limit is often 1024 while
 * the hard one allows far more sessions. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open-files limit to %llu",
			    (unsigned long long)rl.rlim_max);
	}
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct server srv;
	const char *path = NULL;
	char err[1024];
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	config_defaults(&cfg);
	if ((path != NULL && config_load(&cfg, path, err, sizeof(err)) != 0) ||
	    config_finish(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "parleyd: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	log_set_level(cfg.log_level);
	raise_nofile();
	if (server_init(&srv, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "parleyd: %s\n", err);
		server_free(&srv);
		config_free(&cfg);
		return 1;
	}
	rc = server_run(&srv);
	server_free(&srv);
	config_free(&cfg);
	return rc;
}
