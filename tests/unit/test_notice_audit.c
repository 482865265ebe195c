/* test_notice_audit.c - tests for store/notice.h and store/audit.h. */
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
#include "store/audit.h"
#include "store/notice.h"
#include "store/store.h"

#include "store_fixture.h"

struct seen {
	struct buf	b;
	int64_t		last;
};

static void cat_notice(void *ud, int64_t id, int64_t stamp, const char *kind,
    const char *text)
{
	struct seen *s = ud;
	char line[256];

	snprintf(line, sizeof(line), "%lld %s %s;", (long long)stamp, kind,
	    text);
	buf_puts(&s->b, line);
	s->last = id;
}

static void test_notices(void **state)
{
	struct store *st = fixture_open();
	struct seen s = { BUF_INIT, 0 };

	fixture_add_user(st, "alice");
	fixture_add_user(st, "bob");
	assert_int_equal(store_notice_add(st, "nobody", 5, "k", "t"),
	    STORE_NOT_FOUND);
	assert_int_equal(store_notice_add(st, "alice", 10, "archive-export",
	    "exported"), STORE_OK);
	assert_int_equal(store_notice_add(st, "bob", 11, "audit-read", "read"),
	    STORE_OK);
	assert_int_equal(store_notice_add(st, "alice", 12, "audit-read",
	    "read"), STORE_OK);
	assert_int_equal(store_notice_list(st, "alice", cat_notice, &s),
	    STORE_OK);
	assert_string_equal(buf_str(&s.b),
	    "10 archive-export exported;12 audit-read read;");
	/* A notice written after the list was read stays for next time. */
	assert_int_equal(store_notice_add(st, "alice", 13, "x", "later"),
	    STORE_OK);
	assert_int_equal(store_notice_delete_upto(st, "alice", s.last),
	    STORE_OK);
	buf_reset(&s.b);
	assert_int_equal(store_notice_list(st, "alice", cat_notice, &s),
	    STORE_OK);
	assert_string_equal(buf_str(&s.b), "13 x later;");
	/* Bob's are untouched; they go with his account. */
	buf_reset(&s.b);
	assert_int_equal(store_notice_list(st, "bob", cat_notice, &s),
	    STORE_OK);
	assert_string_equal(buf_str(&s.b), "11 audit-read read;");
	assert_int_equal(store_user_delete(st, "bob"), STORE_OK);
	fixture_add_user(st, "bob");
	buf_reset(&s.b);
	assert_int_equal(store_notice_list(st, "bob", cat_notice, &s),
	    STORE_OK);
	assert_string_equal(buf_str(&s.b), "");
	buf_free(&s.b);
	store_close(st);
}

static void cat_audit(void *ud, const struct audit_row *r)
{
	struct buf *b = ud;
	char line[256];

	snprintf(line, sizeof(line), "%lld %s %s %s %s;", (long long)r->stamp,
	    r->kind, r->account ? r->account : "-", r->addr ? r->addr : "-",
	    r->detail ? r->detail : "-");
	buf_puts(b, line);
}

static void test_audit(void **state)
{
	struct store *st = fixture_open();
	struct buf b = BUF_INIT;
	int64_t n = -1;

	assert_int_equal(store_audit_add(st, 100, "login", "alice",
	    "127.0.0.1", NULL), STORE_OK);
	assert_int_equal(store_audit_add(st, 200, "auth-fail", NULL,
	    "127.0.0.2", "unknown name"), STORE_OK);
	assert_int_equal(store_audit_add(st, 300, "block", "bob", NULL,
	    "eve@localhost"), STORE_OK);
	assert_int_equal(store_audit_list(st, NULL, 0, cat_audit, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "100 login alice 127.0.0.1 -;"
	    "200 auth-fail - 127.0.0.2 unknown name;"
	    "300 block bob - eve@localhost;");
	buf_reset(&b);
	assert_int_equal(store_audit_list(st, "alice", 0, cat_audit, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "100 login alice 127.0.0.1 -;");
	buf_reset(&b);
	assert_int_equal(store_audit_list(st, NULL, 150, cat_audit, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "200 auth-fail - 127.0.0.2 unknown "
	    "name;300 block bob - eve@localhost;");
	assert_int_equal(store_audit_prune(st, 250, &n), STORE_OK);
	assert_int_equal(n, 2);
	buf_reset(&b);
	assert_int_equal(store_audit_list(st, NULL, 0, cat_audit, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "300 block bob - eve@localhost;");
	buf_free(&b);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notices),
		cmocka_unit_test(test_audit),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
