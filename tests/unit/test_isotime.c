/* test_isotime.c - tests for core/isotime.h: the strict XEP-0082 profile
 * (MAM's start/end) and the lenient one (parleyctl --since). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/isotime.h"

/* 2026-11-27T10:00:00Z */
#define T0	((int64_t)1795773600 * 1000)

static int64_t ok(const char *s, int flags)
{
	int64_t ms = -42;

	if (iso_time_parse(s, flags, &ms) != 0)
		fail_msg("refused: %s", s);
	return ms;
}

static void refused(const char *s, int flags)
{
	int64_t ms = -42;

	if (iso_time_parse(s, flags, &ms) != -1)
		fail_msg("accepted: %s", s);
	assert_int_equal(ms, -42);	/* untouched */
}

static void test_strict(void **state)
{
	assert_int_equal(ok("2026-11-27T10:00:00Z", ISOTIME_STRICT), T0);
	assert_int_equal(ok("2026-11-27T10:00:00.5Z", ISOTIME_STRICT),
	    T0 + 500);
	assert_int_equal(ok("2026-11-27T10:00:00.123456Z", ISOTIME_STRICT),
	    T0 + 123);
	assert_int_equal(ok("2026-11-27T11:30:00+01:30", ISOTIME_STRICT), T0);
	assert_int_equal(ok("2026-11-27T08:00:00-02:00", ISOTIME_STRICT), T0);
	refused("2026-11-27", ISOTIME_STRICT);
	refused("2026-11-27T10:00Z", ISOTIME_STRICT);
	refused("2026-11-27T10:00:00", ISOTIME_STRICT);
	refused("2026-11-27t10:00:00z", ISOTIME_STRICT);
	refused("2026-11-27 10:00:00Z", ISOTIME_STRICT);
	refused("2026-11-27T10:00:00.Z", ISOTIME_STRICT);
	refused("2026-11-27T10:00:00Zjunk", ISOTIME_STRICT);
	refused("2026-11-27T10:00:00+0100", ISOTIME_STRICT);
	refused("2026-11-27T24:00:00Z", ISOTIME_STRICT);
	refused("2026-13-01T00:00:00Z", ISOTIME_STRICT);
	refused("2027-02-29T00:00:00Z", ISOTIME_STRICT);
	refused("1969-12-31T23:59:59Z", ISOTIME_STRICT);
	refused("", ISOTIME_STRICT);
	refused("2026-11-2", ISOTIME_STRICT);
	refused("2026-11", ISOTIME_STRICT);
	refused("2026-11-27T", ISOTIME_STRICT);
	refused("2026-11-27T10:", ISOTIME_STRICT);
	refused("2026-11-27T10:00:00+01:", ISOTIME_STRICT);
}

static void test_lenient(void **state)
{
	assert_int_equal(ok("2026-11-27", 0), T0 - 10 * 3600 * 1000);
	assert_int_equal(ok("2026-11-27T10:00", 0), T0);
	assert_int_equal(ok("2026-11-27 10:00:00", 0), T0);
	assert_int_equal(ok("2026-11-27t10:00z", 0), T0);
	assert_int_equal(ok("2028-02-29", 0), (int64_t)1835395200 * 1000);
	refused("2027-02-29", 0);
	refused("2026-11-27T10", 0);
	refused("27-11-2026", 0);
	refused("2026-11-27 junk", 0);
	refused("yesterday", 0);
}

static void test_print(void **state)
{
	char s[ISOTIME_MAX];
	int64_t back = 0;

	iso_time_str(T0 + 42, 0, s, sizeof(s));
	assert_string_equal(s, "2026-11-27T10:00:00Z");
	iso_time_str(T0 + 42, 1, s, sizeof(s));
	assert_string_equal(s, "2026-11-27T10:00:00.042Z");
	/* What is printed reads back strictly as the same time. */
	assert_int_equal(iso_time_parse(s, ISOTIME_STRICT, &back), 0);
	assert_int_equal(back, T0 + 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_lenient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
