/*
 * account.h - the rules a new account name and a new password follow when
 * a client chooses them (in-band registration and password change,
 * XEP-0077, im/register.c).
 *
 * Accounts made here must be indistinguishable from those parleyctl user
 * add makes: the localpart is normalised by jid_localpart_prep() and must
 * be ASCII (jid.c applies no PRECIS mapping, so two spellings of one
 * non-ASCII name could otherwise become two accounts), and both SCRAM
 * credentials are derived with [auth] scram_iterations.  A client-chosen
 * password also has a minimum length ([register] min_password_length);
 * the admin's parleyctl is trusted to choose.
 */
#ifndef PARLEY_XMPP_ACCOUNT_H
#define PARLEY_XMPP_ACCOUNT_H

#include <stddef.h>

#include "xmpp/scram.h"

/* The normalised localpart for a wanted name (malloc'd), or NULL with
 * *why set to a sentence for the user. */
char	*account_name_prep(const char *name, const char **why);
/* 0 if pw (len bytes of UTF-8) may be a new password, else -1 with a
 * sentence for the user in why.  min_chars counts characters, not bytes. */
int	 account_password_check(const char *pw, size_t len,
	    unsigned min_chars, char *why, size_t whylen);
/* Derives both stored credentials of pw; 0, or -1 on a crypto error. */
int	 account_creds_make(const char *pw, size_t len, unsigned iterations,
	    struct scram_creds *sha1, struct scram_creds *sha256);

#endif
