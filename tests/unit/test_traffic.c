/* test_traffic.c - tests for admin/traffic.h, store/traffic.h (the
 * per-account buckets and their windows) and admin/metrics.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "admin/metrics.h"
#include "admin/traffic.h"
#include "core/buf.h"
#include "store/store.h"
#include "store/traffic.h"

#include "store_fixture.h"

/* A Monday, 10:17:23 UTC: not on any bucket boundary. */
#define NOW	((int64_t)1795947443)

/* Rows of the traffic table, read behind the store's back. */
static int64_t count_rows(const char *where)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[256];
	int64_t n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM traffic WHERE %s",
	    where);
	assert_int_equal(sqlite3_open(fixture_db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* What store_traffic_top() gave, flattened to "acct:value,...". */
struct got {
	enum traffic_by	 by;
	char		 s[512];
};

static void note(void *ud, const struct traffic_row *r)
{
	struct got *g = ud;
	size_t off = strlen(g->s);
	uint64_t v = g->by == TRAFFIC_BY_MESSAGES ? r->c.messages :
	    g->by == TRAFFIC_BY_BYTES ? r->c.bytes : r->c.files;

	snprintf(g->s + off, sizeof(g->s) - off, "%s%s:%llu", off ? "," : "",
	    r->account, (unsigned long long)v);
}

static const char *top(struct store *st, int64_t now, int64_t window,
    enum traffic_by by, unsigned limit)
{
	static struct got g;

	memset(&g, 0, sizeof(g));
	g.by = by;
	assert_int_equal(store_traffic_top(st, now, window, by, limit, note,
	    &g), STORE_OK);
	return g.s;
}

static void test_window_arithmetic(void **state)
{
	int64_t span, from;
	int64_t minute = NOW - NOW % 60, hour = NOW - NOW % 3600;

	/* 1h: the last 60 minute buckets, this one included. */
	traffic_window(NOW, 3600, &span, &from);
	assert_int_equal(span, 60);
	assert_int_equal(from, minute - 59 * 60);
	/* Covers between 59 and 60 minutes. */
	assert_true(NOW - from > 59 * 60 && NOW - from <= 3600);
	traffic_window(NOW, 86400, &span, &from);
	assert_int_equal(span, 60);
	assert_int_equal(from, minute - 1439 * 60);
	/* 7d: the last 168 hour buckets. */
	traffic_window(NOW, 7 * 86400, &span, &from);
	assert_int_equal(span, 3600);
	assert_int_equal(from, hour - 167 * 3600);
	assert_true(NOW - from > 167 * 3600 && NOW - from <= 168 * 3600);
	/* On a boundary, the current bucket has just begun. */
	traffic_window(minute, 3600, &span, &from);
	assert_int_equal(from, minute - 59 * 60);
}

static void test_rank_by_each_measure(void **state)
{
	struct store *st = fixture_open();
	struct traffic *t = traffic_new();
	int i;

	/* alice sends the most messages, bob the most bytes, carol the
	 * only file; dave only presence (bytes, no messages). */
	for (i = 0; i < 30; i++)
		traffic_stanza(t, "alice", 1, 100);
	for (i = 0; i < 20; i++)
		traffic_stanza(t, "bob", 1, 1000);
	for (i = 0; i < 10; i++)
		traffic_stanza(t, "carol", 1, 50);
	traffic_stanza(t, "dave", 0, 300);
	traffic_file(t, "carol", 12345);
	assert_int_equal(traffic_pending(t), 4);
	assert_int_equal(traffic_flush(t, st, NOW), STORE_OK);
	assert_int_equal(traffic_pending(t), 0);

	assert_string_equal(top(st, NOW, 3600, TRAFFIC_BY_MESSAGES, 10),
	    "alice:30,bob:20,carol:10");
	assert_string_equal(top(st, NOW, 3600, TRAFFIC_BY_BYTES, 10),
	    "bob:20000,alice:3000,carol:500,dave:300");
	assert_string_equal(top(st, NOW, 3600, TRAFFIC_BY_FILES, 10),
	    "carol:1");
	assert_string_equal(top(st, NOW, 86400, TRAFFIC_BY_MESSAGES, 2),
	    "alice:30,bob:20");

	/* A second flush in the same minute adds to the same buckets. */
	for (i = 0; i < 25; i++)
		traffic_stanza(t, "carol", 1, 10);
	assert_int_equal(traffic_flush(t, st, NOW + 5), STORE_OK);
	assert_string_equal(top(st, NOW + 5, 3600, TRAFFIC_BY_MESSAGES, 10),
	    "carol:35,alice:30,bob:20");
	assert_int_equal(count_rows("account = 'carol'"), 2);

	traffic_free(t);
	store_close(st);
}

static void test_windows_and_pruning(void **state)
{
	struct store *st = fixture_open();
	struct traffic *t = traffic_new();
	int64_t minute = NOW - NOW % 60;

	/* old: 8 days ago; week: 2 days ago; day: 2 hours ago; edge: the
	 * first second of the oldest minute the 1h window reads; out: the
	 * last second before it. */
	traffic_stanza(t, "old", 1, 1);
	assert_int_equal(traffic_flush(t, st, NOW - 8 * 86400), STORE_OK);
	traffic_stanza(t, "week", 1, 1);
	assert_int_equal(traffic_flush(t, st, NOW - 2 * 86400), STORE_OK);
	traffic_stanza(t, "day", 1, 1);
	assert_int_equal(traffic_flush(t, st, NOW - 2 * 3600), STORE_OK);
	traffic_stanza(t, "out", 1, 1);
	assert_int_equal(traffic_flush(t, st, minute - 59 * 60 - 1),
	    STORE_OK);
	traffic_stanza(t, "edge", 1, 1);
	assert_int_equal(traffic_flush(t, st, minute - 59 * 60), STORE_OK);

	assert_string_equal(top(st, NOW, 3600, TRAFFIC_BY_MESSAGES, 10),
	    "edge:1");
	assert_string_equal(top(st, NOW, 86400, TRAFFIC_BY_MESSAGES, 10),
	    "day:1,edge:1,out:1");
	assert_string_equal(top(st, NOW, 7 * 86400, TRAFFIC_BY_MESSAGES, 10),
	    "day:1,edge:1,out:1,week:1");

	/* The old minute rows went when later flushes pruned: minute rows
	 * live a day, hour rows a week. */
	assert_int_equal(count_rows("account = 'old'"), 0);
	assert_int_equal(count_rows("account = 'week' AND span = 60"), 0);
	assert_int_equal(count_rows("account = 'week' AND span = 3600"), 1);
	/* An idle flush a week later prunes everything. */
	assert_int_equal(traffic_flush(t, st, NOW + 8 * 86400), STORE_OK);
	assert_int_equal(count_rows("1"), 0);
	assert_string_equal(top(st, NOW + 8 * 86400, 7 * 86400,
	    TRAFFIC_BY_MESSAGES, 10), "");

	traffic_free(t);
	store_close(st);
}

/* A failed flush keeps the counts for the next one. */
static void test_failed_flush_keeps_counts(void **state)
{
	struct store *st = fixture_open();
	struct traffic *t = traffic_new();
	sqlite3 *db;

	traffic_stanza(t, "alice", 1, 10);
	/* The table is away for a moment: the flush fails. */
	assert_int_equal(sqlite3_open(fixture_db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE traffic RENAME TO t2",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(traffic_flush(t, st, NOW), STORE_OK);
	assert_int_equal(traffic_pending(t), 1);
	assert_int_equal(sqlite3_exec(db, "ALTER TABLE t2 RENAME TO traffic",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	traffic_stanza(t, "alice", 1, 10);
	assert_int_equal(traffic_flush(t, st, NOW), STORE_OK);
	assert_string_equal(top(st, NOW, 3600, TRAFFIC_BY_MESSAGES, 10),
	    "alice:2");
	traffic_free(t);
	store_close(st);
}

static void test_histogram_and_page(void **state)
{
	struct metrics_gauges g = { 1, 2, 3, 4, 5, 6, 7 };
	struct buf b = BUF_INIT;

	metrics_reset();
	/* A bound is inclusive (le). */
	metrics_observe(&metrics.stanza_time, 5000);
	metrics_observe(&metrics.stanza_time, 5001);
	metrics_observe(&metrics.stanza_time, 2000000000);
	metrics.stanzas_in[MK_PRESENCE] = 7;
	metrics.rate_limited[ML_RECIPIENTS] = 2;
	metrics_render(&metrics, &g, &b);
	assert_non_null(strstr(b.data,
	    "parley_stanza_handling_seconds_bucket{le=\"5e-06\"} 1\n"
	    "parley_stanza_handling_seconds_bucket{le=\"1e-05\"} 2\n"));
	assert_non_null(strstr(b.data,
	    "parley_stanza_handling_seconds_bucket{le=\"0.25\"} 2\n"
	    "parley_stanza_handling_seconds_bucket{le=\"+Inf\"} 3\n"
	    "parley_stanza_handling_seconds_sum 2.000010001\n"
	    "parley_stanza_handling_seconds_count 3\n"));
	assert_non_null(strstr(b.data,
	    "parley_stanzas_received_total{kind=\"presence\"} 7\n"));
	assert_non_null(strstr(b.data,
	    "parley_rate_limited_total{limit=\"recipients\"} 2\n"));
	assert_non_null(strstr(b.data,
	    "parley_sessions{state=\"authenticated\"} 2\n"));
	assert_non_null(strstr(b.data, "# UNIT parley_sent_bytes bytes\n"));
	assert_true(b.len > 6 && strcmp(b.data + b.len - 6, "# EOF\n") == 0);
	buf_free(&b);

	/* An unknown gauge is left out, its family stays. */
	g.offline_messages = -1;
	metrics_render(&metrics, &g, &b);
	assert_non_null(strstr(b.data, "# TYPE parley_offline_messages "
	    "gauge\n"));
	assert_null(strstr(b.data, "\nparley_offline_messages "));
	buf_free(&b);
	metrics_reset();
	assert_int_equal(metrics.stanza_time.count, 0);
	assert_int_equal(metrics.stanzas_in[MK_PRESENCE], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_arithmetic),
		cmocka_unit_test(test_rank_by_each_measure),
		cmocka_unit_test(test_windows_and_pruning),
		cmocka_unit_test(test_failed_flush_keeps_counts),
		cmocka_unit_test(test_histogram_and_page),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
