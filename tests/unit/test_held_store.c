/* test_held_store.c - tests for store/held.h and store/settings.h
 * (first-contact consent). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/held.h"
#include "store/settings.h"
#include "store/store.h"

#include "store_fixture.h"

/* A fresh database with accounts r1, r2, r3, r4. */
static struct store *fresh(void)
{
	struct store *st = fixture_open();
	const char *users[] = { "r1", "r2", "r3", "r4" };

	for (size_t i = 0; i < 4; i++)
		fixture_add_user(st, users[i]);
	return st;
}

static const struct held_caps caps = { 3, 100, 2, 3600 };

static enum held_rc push(struct store *st, const char *user,
    const char *sender, const char *xml, unsigned *count)
{
	return store_held_push(st, user, sender, "preview of first", xml,
	    strlen(xml), &caps, count);
}

struct collected {
	char	 text[256];
	int64_t	 last;
	int	 n;
};

static void collect(void *ud, int64_t id, const char *xml, size_t len)
{
	struct collected *c = ud;

	strncat(c->text, xml, len);
	strcat(c->text, "|");
	c->last = id;
	c->n++;
}

static void test_hold_in_order_and_release(void **state)
{
	struct store *st = fresh();
	struct collected c = { "", 0, 0 };
	struct buf pv = BUF_INIT;
	unsigned n;

	assert_int_equal(push(st, "r1", "s@x", "<a/>", &n), HELD_OK);
	assert_int_equal(n, 1);
	assert_int_equal(push(st, "r1", "s@x", "<b/>", &n), HELD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_held_summary(st, "r1", "s@x", &pv, &n),
	    STORE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(buf_str(&pv), "preview of first");
	buf_free(&pv);
	assert_int_equal(store_held_list(st, "r1", "s@x", collect, &c),
	    STORE_OK);
	assert_string_equal(c.text, "<a/>|<b/>|");
	/* Only what was read goes. */
	assert_int_equal(push(st, "r1", "s@x", "<c/>", &n), HELD_OK);
	assert_int_equal(store_held_delete_upto(st, "r1", "s@x", c.last),
	    STORE_OK);
	memset(&c, 0, sizeof(c));
	store_held_list(st, "r1", "s@x", collect, &c);
	assert_string_equal(c.text, "<c/>|");
	assert_int_equal(store_held_forget(st, "r1", "s@x"), STORE_OK);
	assert_int_equal(store_held_summary(st, "r1", "s@x", &pv, &n),
	    STORE_NOT_FOUND);
	assert_int_equal(n, 0);
	buf_free(&pv);
	store_close(st);
}

static void test_pair_caps(void **state)
{
	struct store *st = fresh();
	struct buf pv = BUF_INIT;
	char big[120];
	unsigned n;

	for (int i = 0; i < 3; i++)
		assert_int_equal(push(st, "r1", "s@x", "<m/>", &n), HELD_OK);
	assert_int_equal(push(st, "r1", "s@x", "<m/>", &n), HELD_FULL);
	assert_int_equal(store_held_summary(st, "r1", "s@x", &pv, &n),
	    STORE_OK);
	assert_int_equal(n, 3);
	buf_free(&pv);
	/* Bytes: 100 per pair. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(push(st, "r2", "s@x", big, &n), HELD_FULL);
	assert_int_equal(push(st, "r2", "s@x", big + 30, &n), HELD_OK);
	assert_int_equal(push(st, "r2", "s@x", big + 80, &n), HELD_FULL);
	store_close(st);
}

static void test_requests_per_window(void **state)
{
	struct store *st = fresh();
	unsigned n;

	/* Two new requests in the window, a third is refused. */
	assert_int_equal(push(st, "r1", "s@x", "<m/>", &n), HELD_OK);
	assert_int_equal(push(st, "r2", "s@x", "<m/>", &n), HELD_OK);
	assert_int_equal(push(st, "r3", "s@x", "<m/>", &n), HELD_TOO_MANY);
	/* More messages to those asked are no new request. */
	assert_int_equal(push(st, "r1", "s@x", "<m/>", &n), HELD_OK);
	/* Another sender has its own count. */
	assert_int_equal(push(st, "r3", "t@x", "<m/>", &n), HELD_OK);
	/* Declined (forgotten), the same recipient cannot be asked again
	 * within the window. */
	store_held_forget(st, "r3", "t@x");
	assert_int_equal(push(st, "r3", "t@x", "<m/>", &n), HELD_AGAIN);
	store_close(st);
}

static void seen(void *ud, const char *sender)
{
	strcat(ud, sender);
	strcat(ud, "|");
}

static void test_senders_and_cascade(void **state)
{
	struct store *st = fresh();
	char out[128] = "";
	unsigned n;

	push(st, "r4", "a@x", "<m/>", &n);
	push(st, "r4", "a@x", "<m/>", &n);
	push(st, "r4", "b@x", "<m/>", &n);
	assert_int_equal(store_held_senders(st, "r4", seen, out), STORE_OK);
	assert_true(strcmp(out, "a@x|b@x|") == 0 ||
	    strcmp(out, "b@x|a@x|") == 0);
	/* Held messages go with their recipient. */
	assert_int_equal(store_user_delete(st, "r4"), STORE_OK);
	out[0] = '\0';
	assert_int_equal(store_held_senders(st, "r4", seen, out), STORE_OK);
	assert_string_equal(out, "");
	store_close(st);
}

static void list_one(void *ud, const char *user, const char *value)
{
	strcat(ud, user);
	strcat(ud, "=");
	strcat(ud, value);
	strcat(ud, "|");
}

static void test_settings(void **state)
{
	struct store *st = fresh();
	struct buf v = BUF_INIT;
	char out[128] = "";

	assert_int_equal(store_setting_get(st, "r1", "first_contact", &v),
	    STORE_NOT_FOUND);
	assert_int_equal(store_setting_set(st, "r1", "first_contact",
	    "contacts"), STORE_OK);
	assert_int_equal(store_setting_set(st, "r1", "first_contact",
	    "anyone"), STORE_OK);
	assert_int_equal(store_setting_get(st, "r1", "first_contact", &v),
	    STORE_OK);
	assert_string_equal(buf_str(&v), "anyone");
	assert_int_equal(store_setting_set(st, "nobody", "first_contact",
	    "anyone"), STORE_NOT_FOUND);
	assert_int_equal(store_setting_set(st, "r2", "first_contact",
	    "domain"), STORE_OK);
	assert_int_equal(store_setting_set(st, "r2", "other", "x"), STORE_OK);
	assert_int_equal(store_setting_list(st, "first_contact", list_one,
	    out), STORE_OK);
	assert_string_equal(out, "r1=anyone|r2=domain|");
	/* Removed, and gone with the account. */
	assert_int_equal(store_setting_set(st, "r1", "first_contact", NULL),
	    STORE_OK);
	assert_int_equal(store_user_delete(st, "r2"), STORE_OK);
	out[0] = '\0';
	store_setting_list(st, "first_contact", list_one, out);
	assert_string_equal(out, "");
	buf_free(&v);
	store_close(st);
}

static void test_data_version_moves_for_others_only(void **state)
{
	struct store *st = fresh(), *other;
	char err[256];
	int64_t a, b, c;

	assert_int_equal(store_data_version(st, &a), STORE_OK);
	assert_int_equal(store_setting_set(st, "r1", "first_contact",
	    "contacts"), STORE_OK);
	assert_int_equal(store_data_version(st, &b), STORE_OK);
	assert_true(a == b);
	other = store_open(fixture_db, err, sizeof(err));
	assert_non_null(other);
	assert_int_equal(store_setting_set(other, "r1", "first_contact",
	    "anyone"), STORE_OK);
	store_close(other);
	assert_int_equal(store_data_version(st, &c), STORE_OK);
	assert_true(c != b);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_in_order_and_release),
		cmocka_unit_test(test_pair_caps),
		cmocka_unit_test(test_requests_per_window),
		cmocka_unit_test(test_senders_and_cascade),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_data_version_moves_for_others_only),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
