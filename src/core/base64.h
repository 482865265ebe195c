/*
 * base64.h - strict Base64 (RFC 4648 section 4) on top of OpenSSL.
 *
 * Decoding refuses whitespace, bad characters, missing or misplaced padding
 * and non-zero trailing bits, as RFC 6120 section 6.4.2 asks of SASL data.
 */
#ifndef PARLEY_CORE_BASE64_H
#define PARLEY_CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"

void	base64_encode(const void *data, size_t len, struct buf *out);
/* Appends the decoded bytes to out; returns 0, or -1 if malformed. */
int	base64_decode(const char *s, size_t len, struct buf *out);

#endif
