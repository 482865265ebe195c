/* test_reglimit.c - tests for net/reglimit.h (per-address registration
 * limits) and xmpp/account.h (the rules for client-chosen accounts). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/reglimit.h"
#include "xmpp/account.h"

#define MIN_MS	(60u * 1000u)

static void test_accounts_per_hour(void **state)
{
	struct reglimit *rl = reglimit_new(2, 10);
	uint64_t t = 1000;

	assert_null(reglimit_check(rl, "192.0.2.1", 1, t));
	reglimit_note(rl, "192.0.2.1", RL_ACCOUNT, t);
	reglimit_note(rl, "192.0.2.1", RL_ACCOUNT, t + MIN_MS);
	assert_non_null(reglimit_check(rl, "192.0.2.1", 1, t + 2 * MIN_MS));
	/* An invitation is its own limit. */
	assert_null(reglimit_check(rl, "192.0.2.1", 0, t + 2 * MIN_MS));
	/* Another address is not affected. */
	assert_null(reglimit_check(rl, "192.0.2.2", 1, t + 2 * MIN_MS));
	/* The window slides: an hour after the first, one is free again,
	 * and not a moment before. */
	assert_non_null(reglimit_check(rl, "192.0.2.1", 1,
	    t + 60 * MIN_MS - 1));
	assert_null(reglimit_check(rl, "192.0.2.1", 1, t + 60 * MIN_MS));
	reglimit_note(rl, "192.0.2.1", RL_ACCOUNT, t + 60 * MIN_MS);
	assert_non_null(reglimit_check(rl, "192.0.2.1", 1, t + 60 * MIN_MS));
	reglimit_free(rl);
}

static void test_refused_per_hour(void **state)
{
	struct reglimit *rl = reglimit_new(5, 3);
	const char *why;

	for (int i = 0; i < 3; i++) {
		assert_null(reglimit_check(rl, "198.51.100.7", 0, 5000));
		reglimit_note(rl, "198.51.100.7", RL_REFUSED, 5000);
	}
	why = reglimit_check(rl, "198.51.100.7", 0, 5001);
	assert_non_null(why);
	assert_null(strstr(why, "198.51"));
	assert_non_null(reglimit_check(rl, "198.51.100.7", 1, 5001));
	reglimit_free(rl);
}

static void test_ipv6_counts_per_64(void **state)
{
	struct reglimit *rl = reglimit_new(1, 10);

	reglimit_note(rl, "2001:db8:1:2::1", RL_ACCOUNT, 1);
	assert_non_null(reglimit_check(rl, "2001:db8:1:2:ffff::9", 1, 2));
	assert_null(reglimit_check(rl, "2001:db8:1:3::1", 1, 2));
	/* An IPv4-mapped address is its IPv4 address. */
	reglimit_note(rl, "::ffff:203.0.113.5", RL_ACCOUNT, 1);
	assert_non_null(reglimit_check(rl, "203.0.113.5", 1, 2));
	reglimit_free(rl);
}

static void test_many_addresses(void **state)
{
	struct reglimit *rl = reglimit_new(1, 1);
	char addr[32];

	/* Many blocks at once, each limited for an hour only. */
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", i >> 16,
		    (i >> 8) & 255, i & 255);
		reglimit_note(rl, addr, RL_REFUSED, 1);
	}
	assert_non_null(reglimit_check(rl, "10.0.0.1", 0, 2));
	reglimit_note(rl, "172.16.0.1", RL_REFUSED, 61 * MIN_MS);
	assert_null(reglimit_check(rl, "10.0.0.1", 0, 61 * MIN_MS));
	reglimit_free(rl);
}

static void test_names(void **state)
{
	const char *why;
	char *lp;

	lp = account_name_prep("Alice", &why);
	assert_string_equal(lp, "alice");
	free(lp);
	assert_null(account_name_prep("", &why));
	assert_null(account_name_prep("a b", &why));
	assert_null(account_name_prep("a@b", &why));
	assert_null(account_name_prep("caf\xc3\xa9", &why));
	assert_non_null(strstr(why, "ASCII"));
}

static void test_passwords(void **state)
{
	char why[128];

	assert_int_equal(account_password_check("12345678", 8, 8, why,
	    sizeof(why)), 0);
	assert_int_equal(account_password_check("1234567", 7, 8, why,
	    sizeof(why)), -1);
	assert_non_null(strstr(why, "at least 8"));
	/* Characters, not bytes: eight UTF-8 characters of two bytes. */
	assert_int_equal(account_password_check(
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	    16, 8, why, sizeof(why)), 0);
	assert_int_equal(account_password_check(
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 8, why, sizeof(why)), -1);
	assert_int_equal(account_password_check("abc\x7f" "defgh", 9, 8, why,
	    sizeof(why)), -1);
	assert_int_equal(account_password_check("abc\xff" "defgh", 9, 8, why,
	    sizeof(why)), -1);
	assert_int_equal(account_password_check("", 0, 1, why, sizeof(why)),
	    -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts_per_hour),
		cmocka_unit_test(test_refused_per_hour),
		cmocka_unit_test(test_ipv6_counts_per_64),
		cmocka_unit_test(test_many_addresses),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_passwords),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
