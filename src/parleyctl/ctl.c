/* ctl.c - see ctl.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/log.h"
#include "parleyctl/ctl.h"
#include "xmpp/jid.h"

void complain(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One error, one line, whatever the message carries. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "parleyctl: %s\n", line);
}

void die(int code, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	complain("%s", line);
	exit(code);
}

void ctl_usage_line(char *line, size_t cap, const char *cmd)
{
	size_t off;
	const struct ctl_cmd *k;
	int first = 1;

	off = (size_t)snprintf(line, cap, "usage: parleyctl [-c FILE]");
	for (k = ctl_cmds; k->name != NULL && off < cap; k++) {
		if (cmd != NULL && strcmp(cmd, k->name) != 0)
			continue;
		off += (size_t)snprintf(line + off, cap - off, "%s %s",
		    first ? "" : " |", k->usage);
		first = 0;
	}
}

void ctl_usage(const char *cmd)
{
	char line[1024];

	ctl_usage_line(line, sizeof(line), cmd);
	die(RC_USAGE, "%s", line);
}

/* The argument as printable text, so an error stays one line. */
const char *shown(const char *s)
{
	static char out[256];

	return log_escape(out, sizeof(out), s, strlen(s));
}

/* mkdir -p, creating missing directories with mode 0700. */
static int mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	struct stat sb;
	int ret = -1;

	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			complain("cannot create %s: %s", shown(p),
			    strerror(errno));
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		complain("%s: not a directory", shown(path));
		goto out;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

struct store *ctl_store(struct ctl *c)
{
	char err[512];

	if (c->st != NULL)
		return c->st;
	if (mkdirs(c->cfg.data_dir) != 0)
		exit(RC_ERR);
	if ((c->st = store_open(c->cfg.database, err, sizeof(err))) == NULL)
		die(RC_ERR, "%s", err);
	return c->st;
}

/*
 * Turns the JID argument into a normalised localpart of this server.
 * "alice" is taken as a localpart; anything with '@' or '/' must be a
 * bare JID on our domain.
 */
char *account_localpart(const struct config *cfg, const char *arg)
{
	struct jid j;
	char *lp;

	if (strchr(arg, '@') == NULL && strchr(arg, '/') == NULL) {
		if ((lp = jid_localpart_prep(arg)) == NULL)
			die(RC_BADJID, "%s: bad JID", shown(arg));
		return lp;
	}
	if (jid_parse(arg, &j) != 0)
		die(RC_BADJID, "%s: bad JID", shown(arg));
	if (j.resource != NULL || j.local == NULL) {
		jid_free(&j);
		die(RC_BADJID, "%s: bad JID (expected user or user@%s)",
		    shown(arg), cfg->domain);
	}
	if (strcmp(j.domain, cfg->domain) != 0) {
		jid_free(&j);
		die(RC_BADJID, "%s: not this server's domain (%s)",
		    shown(arg), cfg->domain);
	}
	lp = xstrdup(j.local);
	jid_free(&j);
	return lp;
}

int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

int store_fail(struct store *st, enum store_rc rc, const char *lp,
    const char *domain)
{
	switch (rc) {
	case STORE_OK:
		return RC_OK;
	case STORE_EXISTS:
		complain("%s@%s: account exists", lp, domain);
		return RC_EXISTS;
	case STORE_NOT_FOUND:
		complain("%s@%s: no such account", lp, domain);
		return RC_NOTFOUND;
	case STORE_FULL:
	case STORE_ERR:
		break;
	}
	complain("database: %s", store_errmsg(st));
	return RC_ERR;
}

