/* test_pep_store.c - tests for store/pep.h (SQLite back-end). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pep.h"
#include "store/store.h"

#include "store_fixture.h"

static struct store *open_new(void)
{
	struct store *st = fixture_open();

	fixture_add_user(st, "alice");
	return st;
}

/* "id=payload;" for each item, in the order given. */
static void cat_item(void *ud, const char *item, const char *xml,
    size_t len)
{
	struct buf *b = ud;

	buf_printf(b, "%s=%.*s;", item, (int)len, xml);
}

static const char *list(struct store *st, const char *node, unsigned max,
    struct buf *b)
{
	buf_reset(b);
	assert_int_equal(store_pep_item_list(st, "alice", node, max, cat_item,
	    b), STORE_OK);
	return buf_str(b);
}

static void test_nodes(void **state)
{
	struct store *st = open_new();
	struct pep_conf c = { PEP_ACCESS_OPEN, 5, 1 }, got;

	assert_int_equal(store_pep_node_get(st, "alice", "n", &got),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_node_create(st, "alice", "n", &c, 2),
	    STORE_OK);
	assert_int_equal(store_pep_node_create(st, "alice", "n", &c, 2),
	    STORE_EXISTS);
	c.access = PEP_ACCESS_WHITELIST;
	c.send_last = 0;
	assert_int_equal(store_pep_node_create(st, "alice", "m", &c, 2),
	    STORE_OK);
	assert_int_equal(store_pep_node_create(st, "alice", "o", &c, 2),
	    STORE_FULL);
	assert_int_equal(store_pep_node_get(st, "alice", "o", &got),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_node_get(st, "alice", "m", &got), STORE_OK);
	assert_int_equal(got.access, PEP_ACCESS_WHITELIST);
	assert_int_equal(got.max_items, 5);
	assert_int_equal(got.send_last, 0);
	assert_int_equal(store_pep_node_get(st, "alice", "n", &got), STORE_OK);
	assert_int_equal(got.access, PEP_ACCESS_OPEN);
	assert_int_equal(got.send_last, 1);
	/* Nodes of a missing account cannot exist. */
	assert_int_equal(store_pep_node_create(st, "nobody", "n", &c, 2),
	    STORE_ERR);
	assert_int_equal(store_pep_node_delete(st, "alice", "m"), STORE_OK);
	assert_int_equal(store_pep_node_delete(st, "alice", "m"),
	    STORE_NOT_FOUND);
	store_close(st);
}

static void test_items_evict_replace(void **state)
{
	struct store *st = open_new();
	struct pep_conf c = { PEP_ACCESS_PRESENCE, 3, 1 };
	struct buf b = BUF_INIT, one = BUF_INIT;

	assert_int_equal(store_pep_item_put(st, "alice", "n", "a", "<x/>", 4),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_node_create(st, "alice", "n", &c, 10),
	    STORE_OK);
	assert_int_equal(store_pep_item_put(st, "alice", "n", "a", "1", 1),
	    STORE_OK);
	assert_int_equal(store_pep_item_put(st, "alice", "n", "b", "2", 1),
	    STORE_OK);
	assert_int_equal(store_pep_item_put(st, "alice", "n", "c", "3", 1),
	    STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "a=1;b=2;c=3;");
	/* Replacing makes it the newest. */
	assert_int_equal(store_pep_item_put(st, "alice", "n", "a", "4", 1),
	    STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "b=2;c=3;a=4;");
	/* A fourth evicts the oldest. */
	assert_int_equal(store_pep_item_put(st, "alice", "n", "d", "5", 1),
	    STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "c=3;a=4;d=5;");
	assert_string_equal(list(st, "n", 1, &b), "d=5;");
	assert_string_equal(list(st, "n", 2, &b), "a=4;d=5;");
	assert_int_equal(store_pep_item_get(st, "alice", "n", "a", &one),
	    STORE_OK);
	assert_string_equal(buf_str(&one), "4");
	assert_int_equal(store_pep_item_get(st, "alice", "n", "b", &one),
	    STORE_NOT_FOUND);
	/* Lowering max_items trims at once. */
	c.max_items = 1;
	assert_int_equal(store_pep_node_set(st, "alice", "n", &c), STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "d=5;");
	assert_int_equal(store_pep_node_set(st, "alice", "x", &c),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_item_delete(st, "alice", "n", "d"),
	    STORE_OK);
	assert_int_equal(store_pep_item_delete(st, "alice", "n", "d"),
	    STORE_NOT_FOUND);
	assert_string_equal(list(st, "n", 0, &b), "");
	assert_int_equal(store_pep_item_put(st, "alice", "n", "e", "6", 1),
	    STORE_OK);
	assert_int_equal(store_pep_item_purge(st, "alice", "n"), STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "");
	buf_free(&b);
	buf_free(&one);
	store_close(st);
}

static void cat_jid(void *ud, const char *jid)
{
	buf_printf(ud, "%s;", jid);
}

static void test_whitelist_and_cascade(void **state)
{
	struct store *st = open_new();
	struct pep_conf c = { PEP_ACCESS_WHITELIST, 2, 1 };
	struct buf b = BUF_INIT;

	assert_int_equal(store_pep_member_set(st, "alice", "n", "bob@x", 1,
	    2), STORE_NOT_FOUND);
	assert_int_equal(store_pep_node_create(st, "alice", "n", &c, 10),
	    STORE_OK);
	assert_int_equal(store_pep_member_set(st, "alice", "n", "bob@x", 1,
	    2), STORE_OK);
	assert_int_equal(store_pep_member_set(st, "alice", "n", "bob@x", 1,
	    2), STORE_OK);
	assert_int_equal(store_pep_member_set(st, "alice", "n", "carol@x", 1,
	    2), STORE_OK);
	assert_int_equal(store_pep_member_set(st, "alice", "n", "dave@x", 1,
	    2), STORE_FULL);
	assert_int_equal(store_pep_member_check(st, "alice", "n", "bob@x"),
	    STORE_OK);
	assert_int_equal(store_pep_member_check(st, "alice", "n", "dave@x"),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_member_list(st, "alice", "n", cat_jid, &b),
	    STORE_OK);
	assert_string_equal(buf_str(&b), "bob@x;carol@x;");
	assert_int_equal(store_pep_member_set(st, "alice", "n", "bob@x", 0,
	    2), STORE_OK);
	assert_int_equal(store_pep_member_check(st, "alice", "n", "bob@x"),
	    STORE_NOT_FOUND);
	assert_int_equal(store_pep_item_put(st, "alice", "n", "i", "x", 1),
	    STORE_OK);
	/* A node goes with its items and members; a new one starts empty. */
	assert_int_equal(store_pep_node_delete(st, "alice", "n"), STORE_OK);
	assert_int_equal(store_pep_node_create(st, "alice", "n", &c, 10),
	    STORE_OK);
	assert_int_equal(store_pep_member_check(st, "alice", "n", "carol@x"),
	    STORE_NOT_FOUND);
	assert_string_equal(list(st, "n", 0, &b), "");
	/* And everything goes with the account. */
	assert_int_equal(store_pep_item_put(st, "alice", "n", "i", "x", 1),
	    STORE_OK);
	assert_int_equal(store_user_delete(st, "alice"), STORE_OK);
	assert_string_equal(list(st, "n", 0, &b), "");
	buf_free(&b);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_items_evict_replace),
		cmocka_unit_test(test_whitelist_and_cascade),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
