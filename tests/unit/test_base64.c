/* test_base64.c - strict Base64 (core/base64.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/base64.h"

static int dec(const char *s, struct buf *out)
{
	buf_reset(out);
	return base64_decode(s, strlen(s), out);
}

static void test_round_trip(void **state)
{
	unsigned char data[41];
	struct buf enc = BUF_INIT, back = BUF_INIT;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= 40; n++) {
		buf_reset(&enc);
		buf_reset(&back);
		base64_encode(data, n, &enc);
		assert_int_equal(enc.len, 4 * ((n + 2) / 3));
		assert_int_equal(strlen(buf_str(&enc)), enc.len);
		assert_int_equal(base64_decode(enc.data, enc.len, &back), 0);
		assert_int_equal(back.len, n);
		if (n > 0)
			assert_memory_equal(back.data, data, n);
	}
	buf_free(&enc);
	buf_free(&back);
}

static void test_known(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* RFC 4648 section 10 */
	base64_encode("f", 1, &b);
	assert_string_equal(buf_str(&b), "Zg==");
	buf_reset(&b);
	base64_encode("foobar", 6, &b);
	assert_string_equal(buf_str(&b), "Zm9vYmFy");
	buf_reset(&b);
	base64_encode("", 0, &b);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(dec("Zm9vYg==", &b), 0);
	assert_string_equal(buf_str(&b), "foob");
	assert_int_equal(dec("Zm9vYmE=", &b), 0);
	assert_string_equal(buf_str(&b), "fooba");
	assert_int_equal(dec("", &b), 0);
	assert_int_equal(b.len, 0);
	/* binary with zero bytes */
	assert_int_equal(dec("AAAA", &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "\0\0\0", 3);
	assert_int_equal(dec("+/+/", &b), 0);
	assert_memory_equal(b.data, "\xfb\xff\xbf", 3);
	buf_free(&b);
}

static void test_appends(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "x");
	assert_int_equal(base64_decode("Zm9v", 4, &b), 0);
	assert_string_equal(buf_str(&b), "xfoo");
	base64_encode("a", 1, &b);
	assert_string_equal(buf_str(&b), "xfooYQ==");
	/* a refusal leaves what was there */
	assert_int_equal(base64_decode("Zm9", 3, &b), -1);
	assert_string_equal(buf_str(&b), "xfooYQ==");
	buf_free(&b);
}

static void test_refusals(void **state)
{
	static const char *bad[] = {
		"Zg", "Zg=", "Zm9", "Zm9vY", "=", "====", "A===", "Zg==Zg==",
		"Zm=v", "Z=9v", "=Zm9", "Zm9v=", "Zm9v====",
		" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "\tZm9v", "Zm\r\n9v",
		"Zm9-", "Zm9_", "Zm9*", "Zm9.", "Zm9\x80", "Zm9\xff",
		"QR==", "QB==", "QQ=A", "Zh==", "Zm9=", "Zm-=", "AAB=",
	};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dec(bad[i], &b) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* canonical twins of the refused ones above */
	assert_int_equal(dec("QQ==", &b), 0);
	assert_string_equal(buf_str(&b), "A");
	assert_int_equal(dec("Zg==", &b), 0);
	assert_int_equal(dec("Zm8=", &b), 0);
	assert_string_equal(buf_str(&b), "fo");
	assert_int_equal(dec("Zm4=", &b), 0);
	assert_string_equal(buf_str(&b), "fn");
	assert_int_equal(dec("AAA=", &b), 0);
	assert_int_equal(b.len, 2);
	/* a NUL inside the given length is a bad character */
	buf_reset(&b);
	assert_int_equal(base64_decode("Zm\0v", 4, &b), -1);
	buf_free(&b);
}

static void test_long(void **state)
{
	static unsigned char data[200001];
	struct buf enc = BUF_INIT, back = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i ^ (i >> 8));
	base64_encode(data, sizeof(data), &enc);
	assert_int_equal(enc.len, 4 * ((sizeof(data) + 2) / 3));
	assert_int_equal(base64_decode(enc.data, enc.len, &back), 0);
	assert_int_equal(back.len, sizeof(data));
	assert_memory_equal(back.data, data, sizeof(data));
	buf_free(&enc);
	buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_known),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
