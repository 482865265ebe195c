/*
 * fuzz_upload.c - libFuzzer target for the text file uploads parse
 * (http/uploadpath.c: URL paths, file names, content types) and for
 * clamd's answer line (scan/clamd.c).
 *
 * What must hold whatever the input: a path that parses names a token
 * and a name with neither '/' nor NUL, and encoding that name and
 * parsing the URL again gives the same token and name back; a cleaned
 * file name is valid UTF-8 without control characters or separators,
 * never "." or "..", and cleaning is idempotent; a detail from clamd is
 * printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "http/uploadpath.h"
#include "scan/clamd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *s)
{
	unsigned char tok[UPLOAD_TOKEN_LEN], tok2[UPLOAD_TOKEN_LEN];
	char name[PARLEY_UPLOAD_NAME_MAX + 1];
	char name2[PARLEY_UPLOAD_NAME_MAX + 1];
	static const char hex[] = "0123456789abcdef";
	struct buf url = BUF_INIT;

	if (upload_path_parse(s, "/file/", tok, name, sizeof(name)) != 0)
		return;
	if (name[0] == '\0' || strchr(name, '/') != NULL)
		abort();
	buf_puts(&url, "/file/");
	for (size_t i = 0; i < UPLOAD_TOKEN_LEN; i++) {
		buf_putc(&url, hex[tok[i] >> 4]);
		buf_putc(&url, hex[tok[i] & 15]);
	}
	buf_putc(&url, '/');
	upload_name_encode(name, &url);
	if (upload_path_parse(buf_str(&url), "/file/", tok2, name2,
	    sizeof(name2)) != 0 || memcmp(tok, tok2, sizeof(tok)) != 0 ||
	    strcmp(name, name2) != 0)
		abort();
	buf_free(&url);
}

static void check_name(const char *s, size_t len)
{
	char out[PARLEY_UPLOAD_NAME_MAX + 1], again[PARLEY_UPLOAD_NAME_MAX + 1];
	size_t n;

	upload_name_clean(s, len, out, PARLEY_UPLOAD_NAME_MAX);
	n = strlen(out);
	if (n == 0 || n > PARLEY_UPLOAD_NAME_MAX ||
	    !utf8_valid((const unsigned char *)out, n) ||
	    strcmp(out, ".") == 0 || strcmp(out, "..") == 0 ||
	    strchr(out, '/') != NULL || strchr(out, '\\') != NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	upload_name_clean(out, n, again, PARLEY_UPLOAD_NAME_MAX);
	if (strcmp(out, again) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	char media[PARLEY_UPLOAD_TYPE_MAX + 1], detail[160];

	check_path(s);
	check_name((const char *)data, size);
	if (upload_type_parse(s, media, sizeof(media)) == 0 &&
	    (media[0] == '\0' || strchr(media, '/') == NULL))
		abort();
	clamd_parse_reply((const char *)data, size, detail, sizeof(detail));
	for (const char *p = detail; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
	free(s);
	return 0;
}
