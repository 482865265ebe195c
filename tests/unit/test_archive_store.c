/* test_archive_store.c - tests for store/archive.h (SQLite back-end):
 * paging both ways, filters, time bounds, the quota, expiry,
 * preferences, disclosure records and purges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "store/archive.h"
#include "store/store.h"

#include "store_fixture.h"

static struct store *open_new(void)
{
	struct store *st = fixture_open();

	fixture_add_user(st, "alice");
	fixture_add_user(st, "bob");
	return st;
}

/* Adds message "<m>N</m>" to owner's archive at stamp ms. */
static void add(struct store *st, const char *owner, const char *peer,
    int n, int64_t ms, int64_t expires, unsigned max, char *sid)
{
	char xml[32], tmp[ARCHIVE_SID_LEN + 1];
	struct archive_msg m = { owner, peer, n % 2, ms, expires, xml, 0 };

	m.len = (size_t)snprintf(xml, sizeof(xml), "<m>%d</m>", n);
	assert_int_equal(store_archive_add(st, &m, max, sid ? sid : tmp,
	    NULL), STORE_OK);
	assert_int_equal(strlen(sid ? sid : tmp), ARCHIVE_SID_LEN);
}

struct got {
	struct buf	b;
	char		sids[64][ARCHIVE_SID_LEN + 1];
	int		n;
};

static void cat_row(void *ud, const struct archive_row *r)
{
	struct got *g = ud;

	buf_append(&g->b, r->xml, r->len);
	if (g->n < 64)
		strcpy(g->sids[g->n], r->sid);
	g->n++;
}

static const char *run(struct store *st, const struct archive_query *q,
    struct got *g, int *more)
{
	buf_reset(&g->b);
	g->n = 0;
	assert_int_equal(store_archive_query(st, q, cat_row, g, more),
	    STORE_OK);
	return buf_str(&g->b);
}

static struct archive_query base_q(void)
{
	struct archive_query q = { "alice", NULL, INT64_MIN, INT64_MAX, NULL,
	    NULL, 3, 0 };

	return q;
}

static void test_paging(void **state)
{
	struct store *st = open_new();
	struct archive_query q = base_q();
	struct got g = { BUF_INIT };
	char sid[10][ARCHIVE_SID_LEN + 1];
	int more;
	int64_t n;

	for (int i = 0; i < 10; i++)
		add(st, "alice", i < 5 ? "bob@x" : "carol@x", i, 1000 + i, 0,
		    0, sid[i]);
	add(st, "bob", "alice@x", 99, 5000, 0, 0, NULL);
	assert_int_equal(store_archive_count(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 10);
	/* Forward, three at a time. */
	assert_string_equal(run(st, &q, &g, &more), "<m>0</m><m>1</m><m>2</m>");
	assert_true(more);
	q.after_sid = sid[2];
	assert_string_equal(run(st, &q, &g, &more), "<m>3</m><m>4</m><m>5</m>");
	q.after_sid = sid[6];
	assert_string_equal(run(st, &q, &g, &more), "<m>7</m><m>8</m><m>9</m>");
	assert_false(more);
	/* Backwards from the end, then before a given id. */
	q = base_q();
	q.backwards = 1;
	assert_string_equal(run(st, &q, &g, &more), "<m>9</m><m>8</m><m>7</m>");
	assert_true(more);
	q.before_sid = sid[2];
	assert_string_equal(run(st, &q, &g, &more), "<m>1</m><m>0</m>");
	assert_false(more);
	/* One contact, and both bounds. */
	q = base_q();
	q.with = "bob@x";
	q.max = 10;
	assert_string_equal(run(st, &q, &g, &more),
	    "<m>0</m><m>1</m><m>2</m><m>3</m><m>4</m>");
	q.after_sid = sid[1];
	q.before_sid = sid[4];
	assert_string_equal(run(st, &q, &g, &more), "<m>2</m><m>3</m>");
	/* Another owner's id names nothing here. */
	q = base_q();
	q.owner = "bob";
	q.after_sid = sid[1];
	assert_int_equal(store_archive_query(st, &q, cat_row, &g, &more),
	    STORE_NOT_FOUND);
	q.after_sid = "0000000000000000";
	assert_int_equal(store_archive_query(st, &q, cat_row, &g, &more),
	    STORE_NOT_FOUND);
	/* max 0: no rows, but whether there are any. */
	q = base_q();
	q.max = 0;
	assert_string_equal(run(st, &q, &g, &more), "");
	assert_true(more);
	buf_free(&g.b);
	store_close(st);
}

static void test_time_bounds_and_clock_going_back(void **state)
{
	struct store *st = open_new();
	struct archive_query q = base_q();
	struct got g = { BUF_INIT };
	int more;

	add(st, "alice", "bob@x", 0, 1000, 0, 0, NULL);
	add(st, "alice", "bob@x", 1, 2000, 0, 0, NULL);
	add(st, "alice", "bob@x", 2, 1500, 0, 0, NULL);	/* clock went back */
	add(st, "alice", "bob@x", 3, 3000, 0, 0, NULL);
	add(st, "alice", "bob@x", 4, 4000, 0, 0, NULL);
	q.max = 10;
	q.start_ms = 2000;
	q.end_ms = 3000;
	/* 2 was stamped 2000, not 1500: order and range stay true. */
	assert_string_equal(run(st, &q, &g, &more),
	    "<m>1</m><m>2</m><m>3</m>");
	q.start_ms = 4001;
	q.end_ms = INT64_MAX;
	assert_string_equal(run(st, &q, &g, &more), "");
	q.start_ms = INT64_MIN;
	q.end_ms = 999;
	assert_string_equal(run(st, &q, &g, &more), "");
	q.end_ms = 1000;
	assert_string_equal(run(st, &q, &g, &more), "<m>0</m>");
	buf_free(&g.b);
	store_close(st);
}

static void test_quota_drops_oldest(void **state)
{
	struct store *st = open_new();
	struct archive_query q = base_q();
	struct got g = { BUF_INIT };
	char xml[] = "<m>x</m>", sid[ARCHIVE_SID_LEN + 1];
	struct archive_msg m = { "alice", "bob@x", 0, 1, 0, xml, 8 };
	unsigned dropped;
	int more;
	int64_t n;

	for (int i = 0; i < 8; i++)
		add(st, "alice", "bob@x", i, 1000 + i, 0, 5, NULL);
	assert_int_equal(store_archive_count(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 5);
	q.max = 10;
	assert_string_equal(run(st, &q, &g, &more),
	    "<m>3</m><m>4</m><m>5</m><m>6</m><m>7</m>");
	assert_int_equal(store_archive_add(st, &m, 5, sid, &dropped),
	    STORE_OK);
	assert_int_equal(dropped, 1);
	buf_free(&g.b);
	store_close(st);
}

static void test_expiry(void **state)
{
	struct store *st = open_new();
	int64_t n;

	add(st, "alice", "bob@x", 0, 1000, 100, 0, NULL);
	add(st, "alice", "bob@x", 1, 1001, 200, 0, NULL);
	add(st, "alice", "bob@x", 2, 1002, 0, 0, NULL);	/* never */
	add(st, "bob", "alice@x", 3, 1003, 150, 0, NULL);
	assert_int_equal(store_archive_expire(st, 99, 10, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_archive_expire(st, 150, 10, &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_archive_expire(st, 1000000, 10, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_archive_count(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_archive_count(st, "bob", &n), STORE_OK);
	assert_int_equal(n, 0);
	store_close(st);
}

static void cat_pref(void *ud, const char *jid, int always)
{
	buf_printf(ud, "%s=%d;", jid, always);
}

static void test_prefs(void **state)
{
	struct store *st = open_new();
	const char *always[] = { "x@y", "both@y" }, *never[] = { "both@y" };
	enum archive_default d;
	struct buf b = BUF_INIT;
	int rule;

	assert_int_equal(store_archive_prefs_get(st, "alice", &d, cat_pref,
	    &b), STORE_NOT_FOUND);
	assert_int_equal(store_archive_prefs_set(st, "alice",
	    ARCH_DEFAULT_ROSTER, always, 2, never, 1), STORE_OK);
	assert_int_equal(store_archive_prefs_get(st, "alice", &d, cat_pref,
	    &b), STORE_OK);
	assert_int_equal(d, ARCH_DEFAULT_ROSTER);
	/* In both lists: never wins. */
	assert_string_equal(buf_str(&b), "both@y=0;x@y=1;");
	assert_int_equal(store_archive_prefs_rule(st, "alice", "x@y", &rule),
	    STORE_OK);
	assert_int_equal(rule, 1);
	assert_int_equal(store_archive_prefs_rule(st, "alice", "z@y", &rule),
	    STORE_OK);
	assert_int_equal(rule, -1);
	/* Replaced as a whole. */
	assert_int_equal(store_archive_prefs_set(st, "alice",
	    ARCH_DEFAULT_ALWAYS, NULL, 0, NULL, 0), STORE_OK);
	buf_reset(&b);
	assert_int_equal(store_archive_prefs_get(st, "alice", &d, cat_pref,
	    &b), STORE_OK);
	assert_int_equal(d, ARCH_DEFAULT_ALWAYS);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
	store_close(st);
}

static void cat_told(void *ud, const char *owner, const char *peer,
    const char *state)
{
	buf_printf(ud, "%s/%s=%s;", owner, peer, state);
}

static void test_disclosure_and_purge_all(void **state)
{
	struct store *st = open_new();
	const char *always[] = { "x@y" };
	struct buf b = BUF_INIT;
	enum archive_default d;
	char s[48];
	int64_t n;

	assert_int_equal(store_archive_disclosed_get(st, "alice", "bob@x", s,
	    sizeof(s)), STORE_NOT_FOUND);
	assert_int_equal(store_archive_disclosed_set(st, "alice", "bob@x",
	    "user:30d", 1), STORE_OK);
	assert_int_equal(store_archive_disclosed_set(st, "bob", "alice@x",
	    "org:90d", 1), STORE_OK);
	assert_int_equal(store_archive_disclosed_get(st, "alice", "bob@x", s,
	    sizeof(s)), STORE_OK);
	assert_string_equal(s, "user:30d");
	assert_int_equal(store_archive_disclosed_each(st, "alice", cat_told,
	    &b), STORE_OK);
	assert_string_equal(buf_str(&b), "alice/bob@x=user:30d;");
	assert_int_equal(store_archive_prefs_set(st, "alice",
	    ARCH_DEFAULT_ALWAYS, always, 1, NULL, 0), STORE_OK);
	add(st, "alice", "bob@x", 0, 1, 0, 0, NULL);
	add(st, "alice", "bob@x", 1, 2, 0, 0, NULL);
	add(st, "bob", "alice@x", 2, 3, 0, 0, NULL);
	assert_int_equal(store_archive_purge_all(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_archive_count(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_archive_prefs_get(st, "alice", &d, NULL, NULL),
	    STORE_NOT_FOUND);
	buf_reset(&b);
	assert_int_equal(store_archive_disclosed_each(st, NULL, cat_told, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "bob/alice@x=org:90d;");
	/* bob's archive is untouched; deleting bob takes it all. */
	assert_int_equal(store_archive_count(st, "bob", &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_user_delete(st, "bob"), STORE_OK);
	buf_reset(&b);
	assert_int_equal(store_archive_disclosed_each(st, NULL, cat_told, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(store_archive_count(st, "bob", &n), STORE_OK);
	assert_int_equal(n, 0);
	/* Purging one contact only. */
	add(st, "alice", "bob@x", 3, 4, 0, 0, NULL);
	add(st, "alice", "carol@x", 4, 5, 0, 0, NULL);
	assert_int_equal(store_archive_purge(st, "alice", "carol@x", &n),
	    STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_archive_count(st, "alice", &n), STORE_OK);
	assert_int_equal(n, 1);
	buf_free(&b);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging),
		cmocka_unit_test(test_time_bounds_and_clock_going_back),
		cmocka_unit_test(test_quota_drops_oldest),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_prefs),
		cmocka_unit_test(test_disclosure_and_purge_all),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
