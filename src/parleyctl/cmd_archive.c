/*
 * cmd_archive.c - parleyctl archive export|purge JID: a user's message
 * archive (XEP-0313, im/mam.c) handed over or deleted on request.
 *
 * export JID [--out FILE] writes JSON lines, one archived message per
 * line, oldest first:
 *
 *   {"id":"5f0c...","stamp":"2026-11-27T21:40:01.123Z",
 *    "peer":"bob@example.org","direction":"in","xml":"<message ...>"}
 *
 * where id is the MAM and stanza id, stamp the server's time, direction
 * "in" or "out" as seen from the owner, and xml the stanza as stored
 * (self-contained, xmlns='jabber:client'): a person reads it with any
 * pager, a program with any JSON parser.  FILE is created with mode
 * 0600 and never overwritten.
 *
 * purge JID deletes every archived message, the archive preferences and
 * the disclosure records of the account: nothing of the archive stays.
 *
 * No access is silent: each command leaves a notice for the user
 * (store/notice.h, told at their next login) naming what was accessed
 * and when, and a line in the admin's audit trail.  After a purge, the
 * local contacts who had been told that this archive records their
 * conversation are told at their next login that it no longer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/isotime.h"
#include "parleyctl/ctl.h"
#include "parleyctl/out.h"
#include "store/archive.h"
#include "store/audit.h"
#include "store/notice.h"

struct export {
	FILE		*out;
	struct buf	 line;
	long long	 n;
	int		 failed;
};

static void export_row(void *ud, const struct archive_row *r)
{
	struct export *e = ud;
	char stamp[ISOTIME_MAX];

	iso_time_str(r->stamp_ms, 1, stamp, sizeof(stamp));
	buf_reset(&e->line);
	buf_printf(&e->line, "{\"id\":\"%s\",\"stamp\":\"%s\",\"peer\":",
	    r->sid, stamp);
	out_json(&e->line, r->peer);
	buf_printf(&e->line, ",\"direction\":\"%s\",\"xml\":",
	    r->outgoing ? "out" : "in");
	out_json_n(&e->line, r->xml, r->len);
	buf_puts(&e->line, "}\n");
	if (fwrite(e->line.data, 1, e->line.len, e->out) != e->line.len)
		e->failed = 1;
	e->n++;
}

static int export(struct ctl *c, const char *lp, const char *path)
{
	struct store *st = ctl_store(c);
	struct export e = { stdout, BUF_INIT, 0, 0 };
	struct buf text = BUF_INIT;
	enum store_rc rc = store_user_exists(st, lp);
	char when[32];
	int fd;

	if (rc != STORE_OK)
		return store_fail(st, rc, lp, c->cfg.domain);
	if (path != NULL) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			die(RC_ERR, "%s: cannot create: %s", shown(path),
			    strerror(errno));
		if ((e.out = fdopen(fd, "w")) == NULL)
			die(RC_ERR, "%s: %s", shown(path), strerror(errno));
	}
	rc = store_archive_each(st, lp, export_row, &e);
	buf_free(&e.line);
	if (path != NULL && fclose(e.out) != 0)
		e.failed = 1;
	if (rc != STORE_OK)
		return store_fail(st, rc, lp, c->cfg.domain);
	if (e.failed)
		die(RC_ERR, "%s: cannot write: %s", path ? shown(path) :
		    "standard output", strerror(errno));
	iso_time_str(clock_wall_s() * 1000, 0, when, sizeof(when));
	buf_printf(&text, "On %s the server's administrator exported your "
	    "message archive (%lld messages).", when, e.n);
	if (store_notice_add(st, lp, clock_wall_s(), "archive-export",
	    text.data) != STORE_OK ||
	    store_audit_add(st, clock_wall_s(), "archive-export", lp, NULL,
	    path != NULL ? "to a file" : "to standard output") != STORE_OK) {
		buf_free(&text);
		complain("database: %s", store_errmsg(st));
		return RC_ERR;
	}
	buf_free(&text);
	if (path != NULL)
		fprintf(stderr, "exported %lld messages of %s@%s to %s; the "
		    "user will be told at their next login\n", e.n, lp,
		    c->cfg.domain, path);
	return RC_OK;
}

struct told {
	char	**peer;
	size_t	  n;
};

static void collect_told(void *ud, const char *owner, const char *peer,
    const char *state)
{
	struct told *t = ud;

	t->peer = xrealloc(t->peer, (t->n + 1) * sizeof(*t->peer));
	t->peer[t->n++] = xstrdup(peer);
}

static int purge(struct ctl *c, const char *lp)
{
	struct store *st = ctl_store(c);
	struct told t = { NULL, 0 };
	struct buf text = BUF_INIT, ptext = BUF_INIT;
	enum store_rc rc = store_user_exists(st, lp);
	size_t dl = strlen(c->cfg.domain);
	char when[32];
	int64_t n = 0;

	if (rc != STORE_OK)
		return store_fail(st, rc, lp, c->cfg.domain);
	if ((rc = store_archive_disclosed_each(st, lp, collect_told, &t)) !=
	    STORE_OK || (rc = store_archive_purge_all(st, lp, &n)) !=
	    STORE_OK)
		goto out;
	iso_time_str(clock_wall_s() * 1000, 0, when, sizeof(when));
	buf_printf(&text, "On %s the server's administrator deleted your "
	    "message archive (%lld messages) and your archive preferences.",
	    when, (long long)n);
	if ((rc = store_notice_add(st, lp, clock_wall_s(), "archive-purge",
	    text.data)) != STORE_OK)
		goto out;
	/* Contacts here who were told this archive records them. */
	for (size_t i = 0; i < t.n; i++) {
		const char *p = t.peer[i], *at = strchr(p, '@');
		char *plp;

		if (at == NULL || strcmp(at + 1, c->cfg.domain) != 0 ||
		    strlen(at + 1) != dl)
			continue;
		plp = xstrndup(p, (size_t)(at - p));
		buf_reset(&ptext);
		buf_printf(&ptext, "On %s the server's administrator deleted "
		    "the message archive of %s@%s; it no longer records your "
		    "conversation (you will be told if it does again).", when,
		    lp, c->cfg.domain);
		if (store_notice_add(st, plp, clock_wall_s(), "archiving",
		    ptext.data) == STORE_ERR)
			complain("database: %s", store_errmsg(st));
		free(plp);
	}
	rc = store_audit_add(st, clock_wall_s(), "archive-purge", lp, NULL,
	    "archive deleted by the administrator");
	if (rc == STORE_OK)
		fprintf(stderr, "deleted %lld archived messages of %s@%s; the "
		    "user will be told at their next login\n", (long long)n,
		    lp, c->cfg.domain);
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.peer[i]);
	free(t.peer);
	buf_free(&text);
	buf_free(&ptext);
	return store_fail(st, rc, lp, c->cfg.domain);
}

int cmd_archive_export(struct ctl *c, int argc, char **argv)
{
	const char *path = NULL;
	char *lp;
	int ex;

	/* argv: "archive" "export" JID [--out FILE] */
	if (argc == 5 && strcmp(argv[3], "--out") == 0)
		path = argv[4];
	else if (argc != 3)
		ctl_usage("archive export");
	lp = account_localpart(&c->cfg, argv[2]);
	ex = export(c, lp, path);
	free(lp);
	return ex;
}

int cmd_archive_purge(struct ctl *c, int argc, char **argv)
{
	char *lp;
	int ex;

	if (argc != 3)
		ctl_usage("archive purge");
	lp = account_localpart(&c->cfg, argv[2]);
	ex = purge(c, lp);
	free(lp);
	return ex;
}
