/* test_upload.c - the text file uploads parse (http/uploadpath.c), media
 * types (core/config.c) and clamd's answers (scan/clamd.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"
#include "core/limits.h"
#include "http/uploadpath.h"
#include "scan/clamd.h"

#define TOKEN	"00112233445566778899aabbccddeeff"

static int parse(const char *path, char *name, size_t cap)
{
	unsigned char tok[UPLOAD_TOKEN_LEN];

	return upload_path_parse(path, "/file/", tok, name, cap);
}

static void test_path_accepts_exactly_one_form(void **state)
{
	unsigned char tok[UPLOAD_TOKEN_LEN];
	char name[64];

	(void)state;
	assert_int_equal(upload_path_parse("/file/" TOKEN "/a%20b.txt",
	    "/file/", tok, name, sizeof(name)), 0);
	assert_string_equal(name, "a b.txt");
	assert_int_equal(tok[0], 0x00);
	assert_int_equal(tok[1], 0x11);
	assert_int_equal(tok[15], 0xff);
	assert_int_equal(parse("/file/" TOKEN "/%C3%A9", name, sizeof(name)),
	    0);
	assert_string_equal(name, "\xc3\xa9");
	/* Everything else is refused. */
	assert_int_equal(parse("/file/" TOKEN "/", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN, name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/a/b", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/..%2fx", name, sizeof(name)),
	    -1);
	assert_int_equal(parse("/file/" TOKEN "/%2F", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/a%00", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/a%2", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/a%zz", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/a?b", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/00112233445566778899AABBCCDDEEFF/a",
	    name, sizeof(name)), -1);
	assert_int_equal(parse("/file/0011223344556677/a", name, sizeof(name)),
	    -1);
	assert_int_equal(parse("/file/../../etc/passwd", name, sizeof(name)),
	    -1);
	assert_int_equal(parse("/upload/" TOKEN "/a", name, sizeof(name)), -1);
	assert_int_equal(parse("/file/" TOKEN "/toolongname", name, 5), -1);
}

static void test_name_clean(void **state)
{
	char out[PARLEY_UPLOAD_NAME_MAX + 1];
	static const struct { const char *in, *out; } cases[] = {
		{ "photo.jpg", "photo.jpg" },
		{ "../../etc/passwd", "passwd" },
		{ "C:\\Users\\me\\cv.pdf", "cv.pdf" },
		{ "a\tb\nc\x7f.txt", "abc.txt" },
		{ "  spaced  ", "spaced" },
		{ "..", "file" },
		{ ".", "file" },
		{ "dir/", "file" },
		{ "", "file" },
		{ "bad\xff\xfeutf8", "badutf8" },
		{ "r\xc3\xa9sum\xc3\xa9", "r\xc3\xa9sum\xc3\xa9" },
		{ "c1\xc2\x85x", "c1x" },	/* U+0085, a C1 control */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		upload_name_clean(cases[i].in, strlen(cases[i].in), out,
		    PARLEY_UPLOAD_NAME_MAX);
		assert_string_equal(out, cases[i].out);
	}
	/* Cut at a character, never inside one. */
	upload_name_clean("ab\xc3\xa9", 4, out, 3);
	assert_string_equal(out, "ab");
}

static void test_name_encode(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	upload_name_encode("a b/c%d\xc3\xa9-._~", &b);
	assert_string_equal(buf_str(&b), "a%20b%2Fc%25d%C3%A9-._~");
	buf_free(&b);
}

static void test_content_types(void **state)
{
	char m[PARLEY_UPLOAD_TYPE_MAX + 1];

	(void)state;
	assert_int_equal(upload_type_parse("Image/PNG", m, sizeof(m)), 0);
	assert_string_equal(m, "image/png");
	assert_int_equal(upload_type_parse("text/plain; charset=utf-8", m,
	    sizeof(m)), 0);
	assert_string_equal(m, "text/plain");
	assert_int_equal(upload_type_parse("text", m, sizeof(m)), -1);
	assert_int_equal(upload_type_parse("text/", m, sizeof(m)), -1);
	assert_int_equal(upload_type_parse("/plain", m, sizeof(m)), -1);
	assert_int_equal(upload_type_parse("text/pl ain", m, sizeof(m)), -1);
	assert_int_equal(upload_type_parse("text/plain\r\nX: y", m,
	    sizeof(m)), -1);
	assert_int_equal(upload_type_parse("image/*", m, sizeof(m)), -1);
	assert_int_equal(config_media_type_ok("image/*", 7, 1), 0);
	assert_int_equal(config_media_type_ok("image/*", 7, 0), -1);
	assert_int_equal(config_media_type_ok("*/*", 3, 1), -1);
}

static void test_clamd_replies(void **state)
{
	char d[160];

	(void)state;
	assert_int_equal(clamd_parse_reply("stream: OK", 10, d, sizeof(d)),
	    SCAN_CLEAN);
	assert_int_equal(clamd_parse_reply("stream: Eicar-Sig FOUND", 23, d,
	    sizeof(d)), SCAN_INFECTED);
	assert_string_equal(d, "Eicar-Sig");
	assert_int_equal(clamd_parse_reply("stream: a\x01" "b FOUND", 17, d,
	    sizeof(d)), SCAN_INFECTED);
	assert_string_equal(d, "a?b");
	assert_int_equal(clamd_parse_reply("INSTREAM size limit exceeded. "
	    "ERROR", 35, d, sizeof(d)), SCAN_FAILED);
	assert_string_equal(d, "INSTREAM size limit exceeded. ERROR");
	assert_int_equal(clamd_parse_reply("stream: FOUND", 13, d, sizeof(d)),
	    SCAN_FAILED);
	assert_int_equal(clamd_parse_reply("", 0, d, sizeof(d)), SCAN_FAILED);
	assert_int_equal(clamd_parse_reply("stream: OKAY", 12, d, sizeof(d)),
	    SCAN_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_accepts_exactly_one_form),
		cmocka_unit_test(test_name_clean),
		cmocka_unit_test(test_name_encode),
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_clamd_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
