/*
 * cmd_audit.c - parleyctl audit [--account JID] [--since T] [--json]: the
 * admin's audit trail (store/audit.h), oldest first.
 *
 * T is a time (ISO 8601, UTC unless it says otherwise: 2026-11-20,
 * 2026-11-20T08:00, 2026-11-20T08:00:00+01:00) or an age (90s, 30m, 24h,
 * 7d: that long before now).  Without --since, everything still kept.
 *
 * Plain output is a header line and one line per event:
 *
 *   TIME                  KIND            ACCOUNT          ADDRESS  DETAIL
 *
 * with '-' for what an event does not have.  --json prints one JSON array,
 * one object per line: {"id":N,"time":"...","kind":"...","account":JID or
 * null,"address":"..." or null,"detail":"..." or null}.  Text a client
 * chose (a resource, a JID) is escaped as out.h says.
 *
 * Reading someone's trail is not silent: every account whose events were
 * shown gets one notice (store/notice.h), told at its next login, saying
 * that the administrator read its audit trail, when, and how much; and
 * the read itself becomes an audit event (kind admin).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/hmap.h"
#include "parleyctl/ctl.h"
#include "parleyctl/out.h"
#include "store/audit.h"
#include "store/notice.h"

/* The oldest --since age accepted. */
#define SINCE_MAX_S	(3650ull * 86400)

struct shown {
	int		 json;
	const char	*domain;
	size_t		 n;
	struct hmap	*accounts;	/* localpart -> count (as a pointer) */
};

static void show(void *ud, const struct audit_row *r)
{
	struct shown *o = ud;
	struct buf b = BUF_INIT, jid = BUF_INIT;

	if (r->account != NULL) {
		uintptr_t k = (uintptr_t)hmap_get(o->accounts, r->account);

		hmap_put(o->accounts, r->account, (void *)(k + 1));
		buf_printf(&jid, "%s@%s", r->account, o->domain);
	}
	if (o->json) {
		buf_printf(&b, "%s{\"id\":%lld,\"time\":", o->n ? ",\n" : "",
		    (long long)r->id);
		out_time(&b, r->stamp, 1);
		buf_puts(&b, ",\"kind\":");
		out_json(&b, r->kind);
		buf_puts(&b, ",\"account\":");
		out_json(&b, r->account ? buf_str(&jid) : NULL);
		buf_puts(&b, ",\"address\":");
		out_json(&b, r->addr);
		buf_puts(&b, ",\"detail\":");
		out_json(&b, r->detail);
		buf_putc(&b, '}');
	} else {
		struct buf kind = BUF_INIT, acct = BUF_INIT, addr = BUF_INIT;

		out_plain(&kind, r->kind);
		out_plain(&acct, r->account ? buf_str(&jid) : NULL);
		out_plain(&addr, r->addr);
		out_time(&b, r->stamp, 0);
		buf_printf(&b, "  %-15s %-24s %-15s ", buf_str(&kind),
		    buf_str(&acct), buf_str(&addr));
		out_plain(&b, r->detail);
		buf_putc(&b, '\n');
		buf_free(&kind);
		buf_free(&acct);
		buf_free(&addr);
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	buf_free(&jid);
	o->n++;
}

/* --since: an age or a time; dies with one line when it is neither. */
static int64_t parse_since(const char *arg, int64_t now)
{
	unsigned long long age;
	int64_t t;

	if (config_parse_duration(arg, SINCE_MAX_S, &age) == 0 &&
	    strchr("smhd", arg[strlen(arg) - 1]) != NULL)
		return now - (int64_t)age;
	if (out_parse_time(arg, &t) == 0)
		return t;
	die(RC_USAGE, "--since %s: expected a time (2026-11-20, "
	    "2026-11-20T08:00:00Z) or an age (24h, 7d)", shown(arg));
}

struct notify {
	struct store	*st;
	int64_t		 now, since;
	unsigned	 failed;
};

static void tell(void *ud, const char *user, void *val)
{
	struct notify *nt = ud;
	struct buf text = BUF_INIT;
	enum store_rc rc;

	buf_puts(&text, "The administrator read the audit trail of your "
	    "account on ");
	out_time(&text, nt->now, 0);
	buf_printf(&text, ": %lu event%s (logins and logouts with the "
	    "addresses they came from, failed logins, blocks, reports, "
	    "rate-limit hits, policy refusals, uploads)", (unsigned long)
	    (uintptr_t)val, (uintptr_t)val == 1 ? "" : "s");
	if (nt->since > 0) {
		buf_puts(&text, " since ");
		out_time(&text, nt->since, 0);
	}
	buf_puts(&text, ". It never holds the content of your messages.");
	rc = store_notice_add(nt->st, user, nt->now, "audit-read",
	    buf_str(&text));
	/* An account deleted since its events were recorded has nobody
	 * left to tell. */
	if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
		complain("cannot leave a notice for %s: %s", user,
		    store_errmsg(nt->st));
		nt->failed++;
	}
	buf_free(&text);
}

int cmd_audit(struct ctl *c, int argc, char **argv)
{
	struct shown o = { 0, c->cfg.domain, 0, NULL };
	struct notify nt;
	char *account = NULL;
	int64_t now = (int64_t)time(NULL), since = 0;
	struct store *st;
	enum store_rc rc;
	int i;

	/* argv: "audit" [--account JID] [--since T] [--json] */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && !o.json) {
			o.json = 1;
		} else if (strcmp(argv[i], "--account") == 0 && i + 1 < argc &&
		    account == NULL) {
			account = account_localpart(&c->cfg, argv[++i]);
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc &&
		    since == 0) {
			since = parse_since(argv[++i], now);
			if (since <= 0)
				since = 1;	/* before any event */
		} else if (strcmp(argv[i], "--account") == 0 ||
		    strcmp(argv[i], "--since") == 0) {
			die(RC_USAGE, "%s: %s (usage: parleyctl audit "
			    "[--account JID] [--since T] [--json])",
			    argv[i], i + 1 < argc ? "given twice" :
			    "needs a value");
		} else {
			die(RC_USAGE, "%s: unknown argument (usage: parleyctl "
			    "audit [--account JID] [--since T] [--json])",
			    shown(argv[i]));
		}
	}
	st = ctl_store(c);
	o.accounts = hmap_new();
	if (o.json)
		fputs("[\n", stdout);
	else
		printf("%-20s  %-15s %-24s %-15s %s\n", "TIME", "KIND",
		    "ACCOUNT", "ADDRESS", "DETAIL");
	rc = store_audit_list(st, account, since, show, &o);
	if (o.json)
		fputs(o.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != STORE_OK) {
		complain("reading the audit trail: %s", store_errmsg(st));
		hmap_free(o.accounts);
		free(account);
		return RC_ERR;
	}
	nt = (struct notify){ st, now, since, 0 };
	hmap_each(o.accounts, tell, &nt);
	{
		struct buf d = BUF_INIT;

		buf_printf(&d, "audit read: %zu events of %zu accounts", o.n,
		    hmap_count(o.accounts));
		if (account != NULL)
			buf_printf(&d, " account=%s", account);
		if (since > 1) {
			buf_puts(&d, " since=");
			out_time(&d, since, 0);
		}
		if (store_audit_add(st, now, "admin", NULL, NULL,
		    buf_str(&d)) != STORE_OK)
			complain("cannot record the read: %s",
			    store_errmsg(st));
		buf_free(&d);
	}
	hmap_free(o.accounts);
	free(account);
	return nt.failed > 0 ? RC_ERR : RC_OK;
}
