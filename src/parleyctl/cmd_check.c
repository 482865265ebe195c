/*
 * cmd_check.c - `parleyctl check`: an audit of the configuration that
 * parleyd would run with (the same -c FILE and defaults).
 *
 * Prints one line per risky setting, "risky: SETTING: why", and exits
 * RC_RISKY if there is any; otherwise one "ok" line and 0, so that it can
 * gate a deployment script.  Each check is one row of the table below: the
 * setting as the admin would write it, a test on the loaded configuration,
 * and the reason in a sentence.  A new check is a new row.
 *
 * Some risks are in the state, not the file (the certificate's expiry,
 * the age of the last backup): their rows have a probe instead, which may
 * read files and the database and writes its own reason.  A probe never
 * creates the database: a server that has none has nothing to back up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/config.h"
#include "parleyctl/ctl.h"
#include "store/backup.h"

/* The certificate is flagged when it expires within this many days. */
#define CERT_WARN_DAYS	30

struct check {
	const char	*setting;
	int		(*risky)(const struct config *c);
	const char	*why;
	/* or, for a risk in the state: 1 and a reason in why, or 0 */
	int		(*probe)(struct ctl *c, char *why, size_t cap);
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

static int register_open(const struct config *c)
{
	return c->register_mode == REGISTER_OPEN;
}

static int audit_forever(const struct config *c)
{
	return c->audit_retention == 0;
}

static void utc(struct buf *b, time_t t)
{
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm);
	buf_puts(b, s);
}

/* The certificate parleyd serves: expired, or expiring soon.  A generated
 * one that does not exist yet will be made at start, valid for years. */
static int cert_expiring(struct ctl *c, char *why, size_t cap)
{
	const char *path = c->cfg.cert;
	struct buf when = BUF_INIT;
	X509 *x = NULL;
	FILE *f;
	int days = 0, secs = 0, risky = 0;
	struct tm tm;

	if (c->cfg.cert_is_generated && access(path, F_OK) != 0)
		return 0;
	if ((f = fopen(path, "r")) == NULL ||
	    (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		snprintf(why, cap, "cannot read the certificate %s: %s",
		    shown(path), f == NULL ? strerror(errno) :
		    "not a PEM certificate");
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
		snprintf(why, cap, "cannot read the expiry of %s", shown(path));
		X509_free(x);
		return 1;
	}
	utc(&when, timegm(&tm));
	if (days < 0 || (days == 0 && secs <= 0)) {
		snprintf(why, cap, "%s expired on %s: clients refuse to "
		    "connect, or learn to click through warnings",
		    shown(path), buf_str(&when));
		risky = 1;
	} else if (days < CERT_WARN_DAYS) {
		snprintf(why, cap, "%s expires in %d day%s (%s): renew it "
		    "before clients refuse to connect", shown(path), days,
		    days == 1 ? "" : "s", buf_str(&when));
		risky = 1;
	}
	buf_free(&when);
	X509_free(x);
	return risky;
}

/* No backup within [backup] max_age (recorded by parleyctl backup), while
 * there are accounts to lose.  A new server with no account yet is not
 * flagged: there is nothing to back up. */
static int backup_old(struct ctl *c, char *why, size_t cap)
{
	struct buf file = BUF_INIT, when = BUF_INIT;
	struct store *st;
	int64_t n = 0, last = 0, now = (int64_t)time(NULL);
	enum store_rc rc;
	int risky = 0;

	if (access(c->cfg.database, F_OK) != 0)
		return 0;
	st = ctl_store(c);
	if (store_user_count(st, &n) != STORE_OK) {
		snprintf(why, cap, "cannot read the database: %s",
		    store_errmsg(st));
		return 1;
	}
	if (n == 0)
		return 0;
	rc = store_backup_last(st, &last, &file);
	if (rc == STORE_NOT_FOUND) {
		snprintf(why, cap, "no backup was ever made of the %lld "
		    "account%s here (parleyctl backup FILE, e.g. from cron)",
		    (long long)n, n == 1 ? "" : "s");
		risky = 1;
	} else if (rc != STORE_OK) {
		snprintf(why, cap, "cannot read the database: %s",
		    store_errmsg(st));
		risky = 1;
	} else if (now - last > (int64_t)c->cfg.backup_max_age) {
		utc(&when, (time_t)last);
		snprintf(why, cap, "the last backup (%s) is %lld days old, "
		    "more than [backup] max_age (%us)", buf_str(&when),
		    (long long)((now - last) / 86400), c->cfg.backup_max_age);
		risky = 1;
	} else if (access(buf_str(&file), F_OK) != 0) {
		snprintf(why, cap, "the last backup, %s, is no longer there",
		    shown(buf_str(&file)));
		risky = 1;
	}
	buf_free(&file);
	buf_free(&when);
	return risky;
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
	{ "[register] mode = open", register_open,
	    "anyone can create an account: spammers too, and every stranger "
	    "then counts as a contact request" },
	{ "[archive] disclose = off", archive_undisclosed,
	    "conversations are archived (by a user's choice or forced by "
	    "[archive] force_domains) without telling the people in them" },
	{ "[audit] retention = off", audit_forever,
	    "the audit trail keeps every client address and login time "
	    "forever" },
	{ "[tls] cert", NULL, NULL, cert_expiring },
	{ "backup", NULL, NULL, backup_old },
};

#define NCHECKS	(sizeof(checks) / sizeof(checks[0]))

int cmd_check(struct ctl *c, int argc, char **argv)
{
	size_t nrisky = 0;

	if (argc != 1)
		ctl_usage("check");
	for (size_t i = 0; i < NCHECKS; i++) {
		char why[512];

		if (checks[i].probe != NULL) {
			if (!checks[i].probe(c, why, sizeof(why)))
				continue;
		} else if (checks[i].risky(&c->cfg)) {
			snprintf(why, sizeof(why), "%s", checks[i].why);
		} else {
			continue;
		}
		printf("risky: %s: %s\n", checks[i].setting, why);
		nrisky++;
	}
	if (nrisky > 0)
		return RC_RISKY;
	printf("ok: %zu settings checked, none risky (%s)\n", NCHECKS,
	    c->conf != NULL ? c->conf : "embedded defaults");
	return RC_OK;
}
