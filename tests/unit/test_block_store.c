/* test_block_store.c - tests for store/block.h and the sender-aware part
 * of store/offline.h (SQLite back-end). */
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
#include "core/limits.h"
#include "store/block.h"
#include "store/offline.h"
#include "store/store.h"

#include "store_fixture.h"

static struct store *open_new(void)
{
	struct store *st = fixture_open();

	fixture_add_user(st, "alice");
	fixture_add_user(st, "bob");
	return st;
}

static void cat_jid(void *ud, const char *jid)
{
	buf_printf(ud, "%s;", jid);
}

static const char *list(struct store *st, const char *user, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(store_block_list(st, user, cat_jid, b), STORE_OK);
	return buf_str(b);
}

static void test_add_remove_clear(void **state)
{
	struct store *st = open_new();
	struct buf b = BUF_INIT;
	char *two[] = { "x@example.org", "example.net" };
	char *again[] = { "x@example.org" };
	unsigned n;

	assert_string_equal(list(st, "alice", &b), "");
	assert_int_equal(store_block_accounts(st, &n), STORE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_block_add(st, "alice", two, 2, 10, NULL, 0,
	    NULL), STORE_OK);
	/* Already listed: no change, no error. */
	assert_int_equal(store_block_add(st, "alice", again, 1, 2, NULL, 0,
	    NULL), STORE_OK);
	assert_string_equal(list(st, "alice", &b),
	    "example.net;x@example.org;");
	assert_string_equal(list(st, "bob", &b), "");
	assert_int_equal(store_block_accounts(st, &n), STORE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_block_remove(st, "alice", again, 1), STORE_OK);
	assert_int_equal(store_block_remove(st, "alice", again, 1), STORE_OK);
	assert_string_equal(list(st, "alice", &b), "example.net;");
	assert_int_equal(store_block_clear(st, "alice"), STORE_OK);
	assert_string_equal(list(st, "alice", &b), "");
	buf_free(&b);
	store_close(st);
}

struct seen {
	struct buf	 b;
	unsigned	 n;
};

static void cat_report(void *ud, const struct block_report *r)
{
	struct seen *s = ud;

	s->n++;
	buf_printf(&s->b, "%s>%s %s %s ids=%s rx=%lld since=%lld off=%u "
	    "held=%u roster=%s created=%lld;", r->reporter, r->reported,
	    r->reason, r->text ? r->text : "-",
	    r->stanza_ids ? r->stanza_ids : "-", (long long)r->received,
	    (long long)r->received_since, r->offline_deleted,
	    r->held_deleted, r->roster ? r->roster : "-",
	    (long long)r->reported_created);
}

static void test_limit_is_all_or_nothing(void **state)
{
	struct store *st = open_new();
	struct seen seen = { BUF_INIT, 0 };
	char *first[] = { "a@x", "b@x" };
	char *more[] = { "c@x", "d@x" };
	struct block_report r = {
		.stamp = 1, .reporter = "alice@x", .reported = "c@x",
		.reason = "urn:xmpp:reporting:spam", .received = -1,
		.received_since = -1, .reported_created = -1,
	};

	assert_int_equal(store_block_add(st, "alice", first, 2, 3, NULL, 0,
	    NULL), STORE_OK);
	assert_int_equal(store_block_add(st, "alice", more, 2, 3, &r, 1,
	    NULL), STORE_FULL);
	assert_string_equal(list(st, "alice", &seen.b), "a@x;b@x;");
	/* The report went with the refused block. */
	assert_int_equal(store_report_list(st, cat_report, &seen), STORE_OK);
	assert_int_equal(seen.n, 0);
	buf_free(&seen.b);
	store_close(st);
}

static void test_reports(void **state)
{
	struct store *st = open_new();
	struct seen seen = { BUF_INIT, 0 };
	char *one[] = { "spam@x" };
	char *other[] = { "evil@x" };
	struct block_report r = {
		.stamp = 100, .reporter = "alice@x", .reported = "spam@x",
		.reason = "urn:xmpp:reporting:spam", .text = "hi",
		.stanza_ids = "a\x1f" "b", .received = 3, .received_since = 50,
		.offline_deleted = 1, .held_deleted = 2, .roster = "none",
		.reported_created = -1,
	};
	unsigned dropped = 9;

	assert_int_equal(store_block_add(st, "alice", other, 1, 10, NULL, 0,
	    NULL), STORE_OK);
	assert_int_equal(store_block_add(st, "alice", one, 1, 2, &r, 1,
	    &dropped), STORE_OK);
	assert_int_equal(dropped, 0);
	/* Past the limit nothing is written: not the report either. */
	r.reported = "late@x";
	assert_int_equal(store_block_add(st, "alice",
	    (char *[]){ "late@x" }, 1, 2, &r, 1, &dropped), STORE_FULL);
	assert_int_equal(store_report_list(st, cat_report, &seen), STORE_OK);
	assert_int_equal(seen.n, 1);
	assert_string_equal(buf_str(&seen.b), "alice@x>spam@x "
	    "urn:xmpp:reporting:spam hi ids=a\x1f" "b rx=3 since=50 off=1 "
	    "held=2 roster=none created=-1;");
	/* Reports stay when the reporter's account goes; the list goes. */
	assert_int_equal(store_user_delete(st, "alice"), STORE_OK);
	buf_reset(&seen.b);
	seen.n = 0;
	assert_int_equal(store_report_list(st, cat_report, &seen), STORE_OK);
	assert_int_equal(seen.n, 1);
	buf_reset(&seen.b);
	assert_string_equal(list(st, "alice", &seen.b), "");
	buf_free(&seen.b);
	store_close(st);
}

static void test_reports_per_user_cap(void **state)
{
	struct store *st = open_new();
	struct seen seen = { BUF_INIT, 0 };
	struct block_report r = {
		.stamp = 1, .reporter = "bob@x", .reason = "r",
		.received = -1, .received_since = -1, .reported_created = -1,
	};
	unsigned dropped = 0, total = 0;
	char jid[32];
	char *one[] = { jid };

	for (unsigned i = 0; i < PARLEY_REPORTS_PER_USER + 3; i++) {
		snprintf(jid, sizeof(jid), "s%u@x", i);
		r.reported = jid;
		assert_int_equal(store_block_add(st, "bob", one, 1, 1000, &r, 1,
		    &dropped), STORE_OK);
		total += dropped;
	}
	/* Blocked all the same; only the queue is capped. */
	assert_int_equal(total, 3);
	assert_int_equal(store_report_list(st, cat_report, &seen), STORE_OK);
	assert_int_equal(seen.n, PARLEY_REPORTS_PER_USER);
	buf_free(&seen.b);
	store_close(st);
}

static int from_spammer(void *ud, const char *sender)
{
	(*(unsigned *)ud)++;
	return strncmp(sender, "spam@x/", 7) == 0;
}

static void cat_xml(void *ud, int64_t id, const char *xml, size_t len)
{
	buf_printf(ud, "%.*s;", (int)len, xml);
}

static void test_offline_forget_by_sender(void **state)
{
	struct store *st = open_new();
	struct buf b = BUF_INIT;
	unsigned asked = 0, gone = 9;

	assert_int_equal(store_offline_push(st, "alice", "spam@x/a", "<m1/>",
	    5, 10, 4096), STORE_OK);
	assert_int_equal(store_offline_push(st, "alice", "friend@x/a",
	    "<m2/>", 5, 10, 4096), STORE_OK);
	assert_int_equal(store_offline_push(st, "alice", "spam@x/b", "<m3/>",
	    5, 10, 4096), STORE_OK);
	assert_int_equal(store_offline_push(st, "bob", "spam@x/a", "<m4/>",
	    5, 10, 4096), STORE_OK);
	assert_int_equal(store_offline_forget(st, "alice", from_spammer,
	    &asked, &gone), STORE_OK);
	assert_int_equal(asked, 3);
	assert_int_equal(gone, 2);
	assert_int_equal(store_offline_list(st, "alice", cat_xml, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "<m2/>;");
	buf_reset(&b);
	assert_int_equal(store_offline_list(st, "bob", cat_xml, &b), STORE_OK);
	assert_string_equal(buf_str(&b), "<m4/>;");
	buf_free(&b);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_remove_clear),
		cmocka_unit_test(test_limit_is_all_or_nothing),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_reports_per_user_cap),
		cmocka_unit_test(test_offline_forget_by_sender),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
