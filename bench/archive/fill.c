/*
 * fill.c - fills one account's message archive through the store API
 * (store/archive.h), for the 1,000,000-message MAM benchmark
 * (bench/archive/run.sh, docs/BENCHMARKS.md).
 *
 *   archive-fill DB OWNER N CONTACTS SPAN_DAYS
 *
 * OWNER (a localpart) must exist (parleyctl user add).  N messages,
 * alternately sent and received, with CONTACTS contacts c0@DOMAIN ...
 * in turn, stamped evenly over the last SPAN_DAYS days, of about the
 * size of an ordinary chat message with a XEP-0359 origin-id.  Rows
 * never expire.  Commits every 20,000 rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/archive.h"
#include "store/store.h"

#define BATCH	20000

int main(int argc, char **argv)
{
	struct store *st;
	char err[512], peer[64], xml[512], sid[ARCHIVE_SID_LEN + 1];
	long n, contacts, span;
	int64_t now, first, step;
	struct archive_msg m;

	if (argc != 6) {
		fprintf(stderr, "usage: archive-fill DB OWNER N CONTACTS "
		    "SPAN_DAYS\n");
		return 2;
	}
	n = atol(argv[3]);
	contacts = atol(argv[4]);
	span = atol(argv[5]);
	if (n <= 0 || contacts <= 0 || span <= 0) {
		fprintf(stderr, "archive-fill: N, CONTACTS and SPAN_DAYS must "
		    "be positive\n");
		return 2;
	}
	if ((st = store_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "archive-fill: %s\n", err);
		return 1;
	}
	if (store_user_exists(st, argv[2]) != STORE_OK) {
		fprintf(stderr, "archive-fill: %s: no such account\n", argv[2]);
		return 1;
	}
	now = (int64_t)time(NULL) * 1000;
	first = now - (int64_t)span * 86400 * 1000;
	step = (now - first) / n;
	for (long i = 0; i < n; i++) {
		int out = (int)(i % 2);

		if (i % BATCH == 0 && store_archive_begin(st) != STORE_OK)
			goto fail;
		snprintf(peer, sizeof(peer), "c%ld@localhost", i % contacts);
		m.owner = argv[2];
		m.peer = peer;
		m.outgoing = out;
		m.stamp_ms = first + i * step;
		m.expires = 0;
		m.len = (size_t)snprintf(xml, sizeof(xml),
		    "<message xmlns='jabber:client' from='%s@localhost/phone' "
		    "to='%s' type='chat' id='m%ld'><body>Message number %ld "
		    "of the benchmark archive, about as long as a typical "
		    "chat line.</body><origin-id xmlns='urn:xmpp:sid:0' "
		    "id='o%ld'/></message>", out ? argv[2] : "c",
		    out ? peer : argv[2], i, i, i);
		m.xml = xml;
		if (store_archive_add(st, &m, 0, sid, NULL) != STORE_OK)
			goto fail;
		if ((i + 1) % BATCH == 0 || i + 1 == n) {
			if (store_archive_commit(st) != STORE_OK)
				goto fail;
			if ((i + 1) % 200000 == 0 || i + 1 == n)
				fprintf(stderr, "%ld\n", i + 1);
		}
	}
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "archive-fill: %s\n", store_errmsg(st));
	store_close(st);
	return 1;
}
