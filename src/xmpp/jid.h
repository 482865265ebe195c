/*
 * jid.h - XMPP addresses (RFC 7622), parsed and normalised.
 *
 * A struct jid owns three NUL-terminated parts; local and resource are NULL
 * when absent.  Normalisation covered (docs/FEATURES.md says the same):
 *   - the input must be valid UTF-8 without control characters, each part
 *     1..1023 bytes (RFC 7622 3.1), no empty local or resource part when
 *     its separator is present;
 *   - localpart: ASCII letters are lower-cased; the characters RFC 7622
 *     3.3.1 forbids (" & ' / : < > @, space) are refused; non-ASCII is
 *     kept byte for byte (full PRECIS mapping is not applied);
 *   - domainpart: lower-cased ASCII, one trailing dot removed, each label
 *     1..63 bytes of letters, digits and '-' (not at either end of a
 *     label), or an IPv4 literal, or an IPv6 literal in brackets; non-ASCII
 *     (IDN) domains are refused;
 *   - resourcepart: kept as given (OpaqueString without NFC), any UTF-8
 *     except control characters.
 */
#ifndef PARLEY_XMPP_JID_H
#define PARLEY_XMPP_JID_H

#include <stddef.h>

#include "core/buf.h"

struct jid {
	char	*local;		/* NULL if absent */
	char	*domain;
	char	*resource;	/* NULL if absent */
};

/* Parses and normalises s; returns 0, or -1 (out zeroed) if malformed. */
int	 jid_parse(const char *s, struct jid *out);
/* Builds from parts (each normalised as above); -1 if any is invalid. */
int	 jid_make(const char *local, const char *domain, const char *resource,
	    struct jid *out);
void	 jid_free(struct jid *j);
void	 jid_copy(struct jid *dst, const struct jid *src);
/* Normalises a localpart alone into a new string; NULL if invalid. */
char	*jid_localpart_prep(const char *s);
/* Appends "local@domain" (or "domain") to out. */
void	 jid_bare_str(const struct jid *j, struct buf *out);
/* Appends "local@domain/resource" (parts that exist) to out. */
void	 jid_full_str(const struct jid *j, struct buf *out);
/* 1 if both bare JIDs are equal (after normalisation). */
int	 jid_bare_eq(const struct jid *a, const struct jid *b);
/* 1 if full JIDs are equal. */
int	 jid_full_eq(const struct jid *a, const struct jid *b);

#endif
