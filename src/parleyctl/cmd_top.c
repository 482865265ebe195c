/*
 * cmd_top.c - parleyctl top [--by messages|bytes|files] [--window 1h|24h|7d]
 * [--limit N] [--json]: the accounts that sent the most in the window,
 * from the per-account traffic counts parleyd flushes to the database
 * (admin/traffic.h; store/traffic.h says how exact a window is).  Counts
 * of the last [metrics] flush_interval are not in the database yet.
 *
 * Plain output is a header line and one line per account, most first:
 *
 *   RANK  ACCOUNT              MESSAGES       BYTES  FILES  FILE_BYTES
 *      1  alice@example.org          30        5120      0           0
 *
 * --json prints one array of objects {rank, account, messages, bytes,
 * files, file_bytes}.  Metadata only: no body, no recipient, no address.
 * Defaults: --by messages --window 24h --limit 10.  A bad argument is
 * one line on stderr and exit status 2.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "parleyctl/ctl.h"
#include "store/traffic.h"

#define TOP_LIMIT_MAX	1000

struct top_out {
	const char	*domain;
	int		 json;
	unsigned	 n;
};

/* An account as a JSON string: UTF-8 passes (localparts are normalised
 * UTF-8), the quote, the backslash and control bytes are escaped. */
static void put_json(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void show(void *ud, const struct traffic_row *r)
{
	struct top_out *o = ud;
	struct buf jid = BUF_INIT, b = BUF_INIT;

	buf_printf(&jid, "%s@%s", r->account, o->domain);
	o->n++;
	if (o->json) {
		buf_printf(&b, "%s{\"rank\":%u,\"account\":", o->n > 1 ?
		    ",\n" : "", o->n);
		put_json(&b, jid.data);
		buf_printf(&b, ",\"messages\":%llu,\"bytes\":%llu,"
		    "\"files\":%llu,\"file_bytes\":%llu}",
		    (unsigned long long)r->c.messages,
		    (unsigned long long)r->c.bytes,
		    (unsigned long long)r->c.files,
		    (unsigned long long)r->c.file_bytes);
	} else {
		/* shown() keeps a strange name on its line. */
		buf_printf(&b, "%4u  %-28s %9llu %12llu %6llu %12llu\n", o->n,
		    shown(jid.data), (unsigned long long)r->c.messages,
		    (unsigned long long)r->c.bytes,
		    (unsigned long long)r->c.files,
		    (unsigned long long)r->c.file_bytes);
	}
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	buf_free(&jid);
}

/* The value of option name at argv[*i] ("--by X" or "--by=X"), or NULL
 * when argv[*i] is not that option; dies when the value is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		die(RC_USAGE, "top: %s needs a value", name);
	return argv[++*i];
}

int cmd_top(struct ctl *c, int argc, char **argv)
{
	static const struct { const char *name; int64_t s; } windows[] = {
		{ "1h", 3600 }, { "24h", 86400 }, { "7d", 7 * 86400 },
	};
	struct top_out o = { c->cfg.domain, 0, 0 };
	enum traffic_by by = TRAFFIC_BY_MESSAGES;
	int64_t window = 86400;
	unsigned long limit = 10;
	const char *v;
	struct store *st;
	enum store_rc rc;

	/* argv: "top" [options] */
	for (int i = 1; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--by")) != NULL) {
			if (strcmp(v, "messages") == 0)
				by = TRAFFIC_BY_MESSAGES;
			else if (strcmp(v, "bytes") == 0)
				by = TRAFFIC_BY_BYTES;
			else if (strcmp(v, "files") == 0)
				by = TRAFFIC_BY_FILES;
			else
				die(RC_USAGE, "top: --by %s: must be messages, "
				    "bytes or files", shown(v));
		} else if ((v = opt_value(argc, argv, &i, "--window")) !=
		    NULL) {
			size_t k;

			for (k = 0; k < sizeof(windows) / sizeof(windows[0]);
			    k++)
				if (strcmp(v, windows[k].name) == 0)
					break;
			if (k == sizeof(windows) / sizeof(windows[0]))
				die(RC_USAGE, "top: --window %s: must be 1h, "
				    "24h or 7d", shown(v));
			window = windows[k].s;
		} else if ((v = opt_value(argc, argv, &i, "--limit")) !=
		    NULL) {
			char *end;

			limit = v[0] >= '0' && v[0] <= '9' ?
			    strtoul(v, &end, 10) : 0;
			if (limit < 1 || limit > TOP_LIMIT_MAX || *end != '\0')
				die(RC_USAGE, "top: --limit %s: must be a "
				    "number from 1 to %d", shown(v),
				    TOP_LIMIT_MAX);
		} else if (strcmp(argv[i], "--json") == 0) {
			o.json = 1;
		} else {
			die(RC_USAGE, "top: %s: unknown argument (usage: "
			    "parleyctl top [--by messages|bytes|files] "
			    "[--window 1h|24h|7d] [--limit N] [--json])",
			    shown(argv[i]));
		}
	}
	st = ctl_store(c);
	if (o.json)
		fputs("[\n", stdout);
	else
		printf("RANK  %-28s %9s %12s %6s %12s\n", "ACCOUNT", "MESSAGES",
		    "BYTES", "FILES", "FILE_BYTES");
	rc = store_traffic_top(st, (int64_t)time(NULL), window, by,
	    (unsigned)limit, show, &o);
	if (o.json)
		fputs(o.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != STORE_OK) {
		complain("reading traffic counts: %s", store_errmsg(st));
		return RC_ERR;
	}
	return RC_OK;
}
