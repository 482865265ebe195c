/* test_jid.c - JID parsing and normalisation (xmpp/jid.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmpp/jid.h"

/* Parses s and checks the normalised full form (NULL: must be refused). */
static void check(const char *s, const char *want)
{
	struct jid j;
	struct buf b = BUF_INIT;
	int rc = jid_parse(s, &j);

	if (want == NULL) {
		if (rc != -1)
			fail_msg("accepted \"%s\"", s);
		assert_null(j.local);
		assert_null(j.domain);
		assert_null(j.resource);
		return;
	}
	if (rc != 0)
		fail_msg("refused \"%s\"", s);
	jid_full_str(&j, &b);
	if (strcmp(buf_str(&b), want) != 0)
		fail_msg("\"%s\" gave \"%s\", want \"%s\"", s, buf_str(&b),
		    want);
	buf_free(&b);
	jid_free(&j);
}

static void test_valid(void **state)
{
	(void)state;
	check("example.com", "example.com");
	check("user@example.com", "user@example.com");
	check("user@example.com/res", "user@example.com/res");
	check("example.com/res", "example.com/res");
	check("UsEr@ExAmPlE.CoM/ReSoUrCe", "user@example.com/ReSoUrCe");
	check("user@example.com.", "user@example.com");
	check("user@example.com./r", "user@example.com/r");
	check("a@b/c/d", "a@b/c/d");
	check("a@b/c@d", "a@b/c@d");
	check("a@b//", "a@b//");
	check("a@b/ spaced res ", "a@b/ spaced res ");
	check("x-y.z9@a-b.c-d", "x-y.z9@a-b.c-d");
	check("localhost", "localhost");
	check("a@1.2.3.4", "a@1.2.3.4");
	check("0.0.0.0", "0.0.0.0");
	check("255.255.255.255", "255.255.255.255");
	check("a@[::1]", "a@[::1]");
	check("a@[2001:DB8::1]/r", "a@[2001:db8::1]/r");
	check("[0:0:0:0:0:0:0:1]", "[::1]");
	check("[::ffff:1.2.3.4]", "[::ffff:1.2.3.4]");
	check("a@[::1].", "a@[::1]");
	check("1.2.3.4.", "1.2.3.4");
	check("h4x0r.example", "h4x0r.example");
	check("123.example", "123.example");
	/* non-ASCII localpart and resource are kept byte for byte */
	check("J\xc3\xbcrgen@example.com/\xe2\x99\x9a",
	    "j\xc3\xbcrgen@example.com/\xe2\x99\x9a");
	check("\xc3\x9c@x/\xf0\x9f\x98\x80", "\xc3\x9c@x/\xf0\x9f\x98\x80");
	check("a@x/\xef\xbf\xbd", "a@x/\xef\xbf\xbd");
	check("a@x/\xf4\x8f\xbf\xbf", "a@x/\xf4\x8f\xbf\xbf");
	check("a@x/\xc2\xa0", "a@x/\xc2\xa0");
	/* characters allowed in a localpart */
	check("a.b+c_d=e!f#g$h%i*j?k^l`m{n}o|p~q@x",
	    "a.b+c_d=e!f#g$h%i*j?k^l`m{n}o|p~q@x");
}

static void test_invalid(void **state)
{
	static const char *bad[] = {
		"", "@", "/", "@/", "a@", "@b", "a@b/", "a@/r", "/r", "@b/r",
		"a@b@c", "a@b@c/r", "a@b:5222", "a@b c", "a@b_c", "a@.b",
		"a@b..c", "a@..", "a@.", ".", "a@b.c..", "a@-b", "a@b-",
		"a@b.-c", "a@b.c-", "a@b_", "a@[::1", "a@::1]", "a@[]",
		"a@[1.2.3.4]", "a@[::g]", "a@[::1]x", "a@x[::1]",
		"a@1.2.3.256", "a@1.2.3", "a@1.2.3.4.5", "a@01.2.3.4",
		"a@1..2.3", "a@123", "a@\xc3\xa9xample.com",
		"a@xn--b\xc3\xa9", "a@b\x7f", "a@b\t",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(bad[i], NULL);
}

static void test_local_forbidden(void **state)
{
	static const char forbidden[] = "\"&'/:<>@ ";
	char s[16];
	size_t i;

	(void)state;
	for (i = 0; forbidden[i] != '\0'; i++) {
		struct jid j;
		char one[2] = { forbidden[i], '\0' };

		/* '@' and '/' split elsewhere, so check them via jid_make */
		snprintf(s, sizeof(s), "a%cb@x", forbidden[i]);
		if (forbidden[i] != '@' && forbidden[i] != '/')
			check(s, NULL);
		assert_int_equal(jid_make(one, "x", NULL, &j), -1);
		snprintf(s, sizeof(s), "a%cb", forbidden[i]);
		assert_int_equal(jid_make(s, "x", NULL, &j), -1);
		assert_null(jid_localpart_prep(s));
	}
	/* '/' in "a/b@x" makes resource "b@x" of domain "a" */
	check("a/b@x", "a/b@x");
	/* '@' splits at the first one: local "a", domain "b@x" */
	check("a@b@x", NULL);
}

static void test_utf8_and_controls(void **state)
{
	static const char *bad[] = {
		"\xc0\x80@x",			/* overlong NUL */
		"\xc1\xbf@x",			/* overlong */
		"\xe0\x80\xaf@x",		/* overlong '/' */
		"\xf0\x80\x80\xaf@x",		/* overlong */
		"\xed\xa0\x80@x",		/* surrogate D800 */
		"\xed\xbf\xbf@x",		/* surrogate DFFF */
		"\xf4\x90\x80\x80@x",		/* U+110000 */
		"\xf5\x80\x80\x80@x", "\xf8@x", "\xfe@x", "\xff@x",
		"\x80@x", "\xbf@x",		/* stray continuation */
		"\xc3@x", "\xe2\x82@x",		/* truncated */
		"\xc3(@x",			/* bad continuation */
		"a@x/\xc3", "a@x/\xe2\x82", "a@x/\xc0\x80",
		"a@x/\xed\xa0\x80", "a@x/\xf5\x80\x80\x80",
		"a@x/\xf4\x90\x80\x80",
		"a\x01@x", "a\x1f@x", "a\x7f@x", "a@x/\x01", "a@x/r\n",
		"a@x/\x1b[31m", "a@x/\x7f", "a@x/\xc2\x80", "a@x/\xc2\x9f",
		"\xc2\x85@x", "a@x\x01",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check(bad[i], NULL);
	/* the edges just outside the refused ranges */
	check("a@x/\xc2\xa0", "a@x/\xc2\xa0");
	check("a@x/~", "a@x/~");
	check("\xe0\xa0\x80@x", "\xe0\xa0\x80@x");
	check("\xed\x9f\xbf@x", "\xed\x9f\xbf@x");
	check("\xee\x80\x80@x", "\xee\x80\x80@x");
	check("\xf0\x90\x80\x80@x", "\xf0\x90\x80\x80@x");
}

/* A string of n copies of c, plus suffix; caller frees. */
static char *rep(char c, size_t n, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

static void check_free(char *s, int ok)
{
	struct jid j;

	if ((jid_parse(s, &j) == 0) != ok)
		fail_msg("length case (%zu bytes) wrong", strlen(s));
	jid_free(&j);
	free(s);
}

static void test_lengths(void **state)
{
	struct buf d = BUF_INIT;
	struct jid j;
	int i;

	(void)state;
	check_free(rep('a', 1023, "", "@x"), 1);
	check_free(rep('a', 1024, "", "@x"), 0);
	check_free(rep('r', 1023, "a@x/", ""), 1);
	check_free(rep('r', 1024, "a@x/", ""), 0);
	/* a 2-byte character straddling the limit counts in bytes */
	check_free(rep('a', 1021, "\xc3\xa9", "@x"), 1);
	check_free(rep('a', 1022, "\xc3\xa9", "@x"), 0);
	/* labels: 63 ok, 64 not */
	check_free(rep('l', 63, "a@", ".com"), 1);
	check_free(rep('l', 64, "a@", ".com"), 0);
	check_free(rep('l', 63, "a@", ""), 1);
	check_free(rep('l', 64, "a@", ""), 0);
	/* domain of exactly 1023 bytes: 15 labels of 63 + 14 dots + 64 */
	for (i = 0; i < 15; i++) {
		char lab[64];

		memset(lab, 'd', 63);
		lab[63] = '\0';
		buf_puts(&d, lab);
		buf_putc(&d, '.');
	}
	buf_puts(&d, "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	assert_int_equal(d.len, 15 * 64 + 63);
	assert_int_equal(d.len, 1023);
	assert_int_equal(jid_parse(d.data, &j), 0);
	jid_free(&j);
	/* the trailing dot does not count */
	buf_putc(&d, '.');
	assert_int_equal(jid_parse(d.data, &j), 0);
	assert_int_equal(strlen(j.domain), 1023);
	jid_free(&j);
	/* 1024 bytes of valid labels: ...63-byte label + ".d" */
	d.len = 15 * 64 + 62;
	buf_puts(&d, ".d");
	assert_int_equal(d.len, 1024);
	assert_int_equal(jid_parse(d.data, &j), -1);
	buf_free(&d);
}

static void test_strings_and_eq(void **state)
{
	struct jid a, b, c, d;
	struct buf s = BUF_INIT;

	(void)state;
	assert_int_equal(jid_parse("Alice@Example.COM/Phone", &a), 0);
	assert_string_equal(a.local, "alice");
	assert_string_equal(a.domain, "example.com");
	assert_string_equal(a.resource, "Phone");
	jid_bare_str(&a, &s);
	assert_string_equal(buf_str(&s), "alice@example.com");
	buf_reset(&s);
	jid_full_str(&a, &s);
	assert_string_equal(buf_str(&s), "alice@example.com/Phone");
	buf_reset(&s);

	assert_int_equal(jid_parse("alice@example.com./phone", &b), 0);
	assert_true(jid_bare_eq(&a, &b));
	assert_false(jid_full_eq(&a, &b));	/* resource case counts */

	jid_copy(&c, &a);
	assert_true(jid_full_eq(&a, &c));
	assert_ptr_not_equal(c.local, a.local);

	assert_int_equal(jid_parse("example.com", &d), 0);
	assert_null(d.local);
	assert_null(d.resource);
	assert_false(jid_bare_eq(&a, &d));
	assert_false(jid_bare_eq(&d, &a));
	jid_bare_str(&d, &s);
	assert_string_equal(buf_str(&s), "example.com");
	buf_reset(&s);
	jid_full_str(&d, &s);
	assert_string_equal(buf_str(&s), "example.com");
	jid_free(&d);
	assert_int_equal(jid_parse("EXAMPLE.com.", &d), 0);
	jid_free(&c);
	jid_copy(&c, &d);
	assert_true(jid_full_eq(&c, &d));
	assert_null(c.local);
	jid_free(&a);
	jid_free(&b);
	jid_free(&c);
	jid_free(&d);
	jid_free(&d);	/* twice is harmless */
	buf_free(&s);
}

static void test_make(void **state)
{
	struct jid j, k;

	(void)state;
	assert_int_equal(jid_make("Bob", "EXAMPLE.org.", "Desk", &j), 0);
	assert_string_equal(j.local, "bob");
	assert_string_equal(j.domain, "example.org");
	assert_string_equal(j.resource, "Desk");
	assert_int_equal(jid_parse("bob@example.org/Desk", &k), 0);
	assert_true(jid_full_eq(&j, &k));
	jid_free(&j);
	jid_free(&k);
	assert_int_equal(jid_make(NULL, "example.org", NULL, &j), 0);
	assert_null(j.local);
	jid_free(&j);
	/* parts that parsing would split are fine as given parts */
	assert_int_equal(jid_make("a", "x", "r/s@t", &j), 0);
	jid_free(&j);
	assert_int_equal(jid_make("", "x", NULL, &j), -1);
	assert_null(j.domain);
	assert_int_equal(jid_make("a", "", NULL, &j), -1);
	assert_int_equal(jid_make("a", NULL, NULL, &j), -1);
	assert_int_equal(jid_make("a", "x", "", &j), -1);
	assert_int_equal(jid_make("a", "x/y", NULL, &j), -1);
	assert_int_equal(jid_make("a", "x@y", NULL, &j), -1);
	assert_int_equal(jid_make("a", "x", "\x01", &j), -1);
	assert_null(j.local);
}

static void test_localpart_prep(void **state)
{
	char *p;

	(void)state;
	p = jid_localpart_prep("MiXeD.Case");
	assert_string_equal(p, "mixed.case");
	free(p);
	p = jid_localpart_prep("\xc3\x89t\xc3\xa9");
	assert_string_equal(p, "\xc3\x89t\xc3\xa9");	/* non-ASCII kept */
	free(p);
	assert_null(jid_localpart_prep(""));
	assert_null(jid_localpart_prep("a b"));
	assert_null(jid_localpart_prep("a@b"));
	assert_null(jid_localpart_prep("a\x01"));
	assert_null(jid_localpart_prep("\xc0\x80"));
	assert_null(jid_localpart_prep("\xed\xa0\x80"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_local_forbidden),
		cmocka_unit_test(test_utf8_and_controls),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_strings_and_eq),
		cmocka_unit_test(test_make),
		cmocka_unit_test(test_localpart_prep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
