/*
 * cmd_reports.c - parleyctl reports [--json]: the spam and abuse reports
 * users sent with a block (XEP-0377, im/blocking.c), oldest first.
 *
 * Plain output is one line per report and nothing at all for an empty
 * queue, so that `parleyctl reports | wc -l` counts them:
 *
 *   #ID TIME REPORTER -> REPORTED REASON received=N since=TIME
 *       offline_deleted=N held_deleted=N roster=STATE created=TIME
 *       ids=ID,ID text="..."                     (on one line)
 *
 * where a value the server does not know is '-'.  --json prints one JSON
 * array of objects with the same fields (null when unknown).  Everything
 * a user wrote (text, ids) is escaped so that it stays on its line and
 * cannot drive the terminal: plain output shows bytes outside printable
 * ASCII as \xNN, JSON only ASCII with \u escapes.  No report holds a
 * message body.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "parleyctl/ctl.h"
#include "parleyctl/out.h"
#include "store/block.h"

struct out {
	int	 json;
	size_t	 n;
};

static void put_str(struct buf *b, const char *s, int json)
{
	if (json)
		out_json(b, s);
	else
		out_plain(b, s);
}

static void put_int(struct buf *b, int64_t v, int json)
{
	if (v < 0)
		buf_puts(b, json ? "null" : "-");
	else
		buf_printf(b, "%lld", (long long)v);
}

/* The ids, split at REPORT_ID_SEP: a JSON array, or a,b,c. */
static void put_ids(struct buf *b, const char *ids, int json)
{
	const char *p = ids, *e;

	if (json)
		buf_putc(b, '[');
	while (p != NULL && *p != '\0') {
		struct buf one = BUF_INIT;

		e = strchr(p, REPORT_ID_SEP);
		buf_append(&one, p, e ? (size_t)(e - p) : strlen(p));
		if (p != ids)
			buf_putc(b, ',');
		put_str(b, buf_str(&one), json);
		buf_free(&one);
		p = e ? e + 1 : NULL;
	}
	if (json)
		buf_putc(b, ']');
	else if (ids == NULL || *ids == '\0')
		buf_putc(b, '-');
}

static void show_plain(struct buf *b, const struct block_report *r)
{
	buf_printf(b, "#%lld ", (long long)r->id);
	out_time(b, r->stamp, 0);
	buf_putc(b, ' ');
	put_str(b, r->reporter, 0);
	buf_puts(b, " -> ");
	put_str(b, r->reported, 0);
	buf_putc(b, ' ');
	put_str(b, r->reason, 0);
	buf_puts(b, " received=");
	put_int(b, r->received, 0);
	buf_puts(b, " since=");
	out_time(b, r->received_since, 0);
	buf_printf(b, " offline_deleted=%u held_deleted=%u roster=",
	    r->offline_deleted, r->held_deleted);
	put_str(b, r->roster, 0);
	buf_puts(b, " created=");
	out_time(b, r->reported_created, 0);
	buf_puts(b, " ids=");
	put_ids(b, r->stanza_ids, 0);
	buf_puts(b, " text=");
	if (r->text != NULL)
		buf_putc(b, '"');
	put_str(b, r->text, 0);
	if (r->text != NULL)
		buf_putc(b, '"');
	buf_putc(b, '\n');
}

static void show_json(struct buf *b, const struct block_report *r,
    int first)
{
	buf_printf(b, "%s{\"id\":%lld,\"time\":", first ? "" : ",\n",
	    (long long)r->id);
	out_time(b, r->stamp, 1);
	buf_puts(b, ",\"reporter\":");
	out_json(b, r->reporter);
	buf_puts(b, ",\"reported\":");
	out_json(b, r->reported);
	buf_puts(b, ",\"reason\":");
	out_json(b, r->reason);
	buf_puts(b, ",\"text\":");
	put_str(b, r->text, 1);
	buf_puts(b, ",\"stanza_ids\":");
	put_ids(b, r->stanza_ids, 1);
	buf_puts(b, ",\"received\":");
	put_int(b, r->received, 1);
	buf_puts(b, ",\"received_since\":");
	out_time(b, r->received_since, 1);
	buf_printf(b, ",\"offline_deleted\":%u,\"held_deleted\":%u",
	    r->offline_deleted, r->held_deleted);
	buf_puts(b, ",\"roster\":");
	put_str(b, r->roster, 1);
	buf_puts(b, ",\"reported_created\":");
	out_time(b, r->reported_created, 1);
	buf_putc(b, '}');
}

static void show(void *ud, const struct block_report *r)
{
	struct out *o = ud;
	struct buf b = BUF_INIT;

	if (o->json)
		show_json(&b, r, o->n == 0);
	else
		show_plain(&b, r);
	fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	o->n++;
}

int cmd_reports(struct ctl *c, int argc, char **argv)
{
	struct out o = { 0, 0 };
	struct store *st;
	enum store_rc rc;

	/* argv: "reports" [--json] */
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0))
		ctl_usage("reports");
	o.json = argc == 2;
	st = ctl_store(c);
	if (o.json)
		fputs("[\n", stdout);
	rc = store_report_list(st, show, &o);
	if (o.json)
		fputs(o.n > 0 ? "\n]\n" : "]\n", stdout);
	if (rc != STORE_OK) {
		complain("reading reports: %s", store_errmsg(st));
		return RC_ERR;
	}
	return RC_OK;
}
