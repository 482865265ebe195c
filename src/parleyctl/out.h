/*
 * out.h - how parleyctl commands print what users and clients wrote:
 * escaped so that it stays on its line and cannot drive the terminal.
 * Plain text shows bytes outside printable ASCII (and the quote and the
 * backslash) as \xNN; JSON strings are ASCII with \u escapes, bytes that
 * are not UTF-8 becoming U+FFFD.  Times are UTC, ISO 8601.
 */
#ifndef PARLEY_PARLEYCTL_OUT_H
#define PARLEY_PARLEYCTL_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* s escaped for plain output; NULL or "" as "-". */
void	 out_plain(struct buf *b, const char *s);
/* s as a JSON string, or null when NULL. */
void	 out_json(struct buf *b, const char *s);
/* The same for n bytes that need not end in a NUL. */
void	 out_json_n(struct buf *b, const char *s, size_t n);
/* Unix seconds as 2026-11-27T21:40:00Z (quoted for JSON); a negative
 * time (unknown) as - or null. */
void	 out_time(struct buf *b, int64_t t, int json);
/* Parses an ISO 8601 time: YYYY-MM-DD, optionally THH:MM or THH:MM:SS,
 * optionally Z or +HH:MM / -HH:MM (UTC without one).  Unix seconds in
 * *out; 0, or -1 when malformed. */
int	 out_parse_time(const char *s, int64_t *out);

#endif
