/*
 * uploadpath.h - the only parsing of untrusted text in file uploads, kept
 * free of state so that it is unit-tested and fuzzed (fuzz/fuzz_upload.c).
 *
 * URLs are "/upload/TOKEN/NAME" (PUT) and "/file/TOKEN/NAME" (GET): TOKEN
 * is exactly UPLOAD_TOKEN_HEX lower-case hex digits (128 random bits),
 * NAME one percent-encoded path segment that must decode to the file name
 * the slot was given.  Nothing else matches: no other segment, no empty
 * name, no upper-case hex, no trailing slash.  The name is never used to
 * build a path on disk (files are named by the hash of the token), so the
 * name check only keeps one URL per file; traversal is impossible by
 * construction, and refused here as a matter of course.
 */
#ifndef PARLEY_HTTP_UPLOADPATH_H
#define PARLEY_HTTP_UPLOADPATH_H

#include <stddef.h>

#include "core/buf.h"

#define UPLOAD_TOKEN_LEN	16	/* random bytes per token */
#define UPLOAD_TOKEN_HEX	(2 * UPLOAD_TOKEN_LEN)

/*
 * The file name a client asked for, made fit for a URL segment and for
 * people: its last component after any '/' or '\', without control
 * characters, invalid UTF-8 or leading and trailing blanks, at most
 * max bytes (cut at a character); "." and ".." and empty become "file".
 * out must hold max + 1 bytes.
 */
void	 upload_name_clean(const char *in, size_t len, char *out, size_t max);
/* Appends name percent-encoded: every byte but A-Z a-z 0-9 - . _ ~. */
void	 upload_name_encode(const char *name, struct buf *out);
/*
 * Parses path against prefix ("/upload/" or "/file/"): token gets the 16
 * bytes, name the decoded segment (NUL-terminated, at most namecap - 1
 * bytes).  Returns 0, or -1 for anything that is not exactly such a URL
 * (a decoded name holding '/' or NUL included).
 */
int	 upload_path_parse(const char *path, const char *prefix,
	    unsigned char token[UPLOAD_TOKEN_LEN], char *name, size_t namecap);
/*
 * A Content-Type as a client may give it: "type/subtype" with optional
 * parameters, printable ASCII, at most PARLEY_UPLOAD_TYPE_MAX bytes.
 * 0 if acceptable; media gets the lower-cased "type/subtype" part.
 */
int	 upload_type_parse(const char *ct, char *media, size_t mediacap);

#endif
