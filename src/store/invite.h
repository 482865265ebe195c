/*
 * invite.h - invitations to register an account (XEP-0401 URIs carrying
 * XEP-0445 pre-authentication tokens), made by parleyctl invite and
 * spent by in-band registration (im/register.c).
 *
 * A token is 128 random bits written in lower-case base32 (26
 * characters, safe in an xmpp: URI without escaping).  Only its SHA-256
 * is stored, so that a copy of the database or of a backup hands out no
 * accounts; a salted slow hash would add nothing against 128 random bits.
 *
 * An invitation has uses left (1 by default), an expiry (wall-clock
 * seconds) and can be revoked.  Creating an account with it spends one
 * use in the same transaction that creates the account: a taken name
 * spends nothing, and two clients racing for the last use cannot both
 * win.  Expiry is checked when the client presents the token (XEP-0445:
 * later steps of that session are not refused for expiry); revocation
 * and uses are checked again when the account is created.
 */
#ifndef PARLEY_STORE_INVITE_H
#define PARLEY_STORE_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define INVITE_TOKEN_LEN	26	/* base32 characters of 16 bytes */
#define INVITE_HASH_LEN		32	/* SHA-256 */

struct invite_info {
	int64_t		 id;
	int64_t		 created;	/* wall-clock seconds */
	int64_t		 expires;
	unsigned	 uses_left;
	unsigned	 used;		/* accounts created with it */
	int		 revoked;
};

/* A new random token, NUL-terminated; -1 if no randomness. */
int	 invite_token_new(char out[INVITE_TOKEN_LEN + 1]);
/* The stored form of a token. */
void	 invite_token_hash(const char *token, size_t len,
	    unsigned char out[INVITE_HASH_LEN]);

/* Stores an invitation; *id gets its number (for list and revoke). */
enum store_rc store_invite_add(struct store *st,
	    const unsigned char hash[INVITE_HASH_LEN], unsigned uses,
	    int64_t expires, int64_t *id);
/* STORE_OK if the invitation exists, is not revoked, has a use left and
 * has not expired at now; STORE_NOT_FOUND otherwise. */
enum store_rc store_invite_check(struct store *st,
	    const unsigned char hash[INVITE_HASH_LEN], int64_t now);
/*
 * Spends one use of the invitation and creates the account, both or
 * neither: STORE_NOT_FOUND when the invitation is gone (revoked or used
 * up), STORE_EXISTS when the name is taken (the use is not spent).
 */
enum store_rc store_invite_redeem(struct store *st,
	    const unsigned char hash[INVITE_HASH_LEN], const char *localpart,
	    const struct scram_creds *sha1, const struct scram_creds *sha256);
/* Calls fn for every invitation, oldest first. */
enum store_rc store_invite_list(struct store *st,
	    void (*fn)(void *ud, const struct invite_info *inv), void *ud);
/* Revokes by id, or by hash when hash is not NULL; STORE_NOT_FOUND when
 * there is no such invitation. */
enum store_rc store_invite_revoke(struct store *st, int64_t id,
	    const unsigned char *hash);

#endif
