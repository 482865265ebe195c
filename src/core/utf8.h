/*
 * utf8.h - strict UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF.  The one decoder every validator shares.
 */
#ifndef PARLEY_CORE_UTF8_H
#define PARLEY_CORE_UTF8_H

#include <stddef.h>

/* Decodes the sequence at s (n > 0 bytes available) into *cp; returns its
 * length in bytes (1 to 4), or 0 if it is not valid UTF-8. */
size_t	utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);
/* 1 if all n bytes are valid UTF-8. */
int	utf8_valid(const unsigned char *s, size_t n);

#endif
