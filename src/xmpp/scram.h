/*
 * scram.h - SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), server
 * side, and the stored credentials.
 *
 * Credentials are only ever stored as salt, iteration count, StoredKey and
 * ServerKey; the password itself is never kept.  PLAIN logins are checked
 * by re-deriving StoredKey from the offered password (scram_check_password).
 * Channel binding (-PLUS) is not offered: a client-first-message with
 * gs2 flag "p" is refused, "n" and "y" are accepted.
 *
 * Passwords are used as the UTF-8 bytes given (SASLprep is not applied; for
 * ASCII passwords the two are the same).
 *
 * An exchange for an unknown user runs to the end with credentials derived
 * from a per-process secret and the username, so that the answer does not
 * reveal whether the account exists.
 */
#ifndef PARLEY_XMPP_SCRAM_H
#define PARLEY_XMPP_SCRAM_H

#include <stddef.h>

#include "core/buf.h"

enum scram_hash { SCRAM_SHA1, SCRAM_SHA256 };

#define SCRAM_SALT_LEN	16
#define SCRAM_KEY_MAX	32

struct scram_creds {
	enum scram_hash	hash;
	unsigned	iterations;
	size_t		salt_len;
	unsigned char	salt[SCRAM_SALT_LEN];
	unsigned char	stored_key[SCRAM_KEY_MAX];	/* hash-size bytes used */
	unsigned char	server_key[SCRAM_KEY_MAX];
};

/* Bytes of the hash's output: 20 or 32. */
size_t	 scram_key_len(enum scram_hash h);
/* "SCRAM-SHA-1" / "SCRAM-SHA-256". */
const char *scram_mech_name(enum scram_hash h);

/* New credentials with a random salt.  Returns 0, or -1 on a crypto error. */
int	 scram_creds_make(enum scram_hash h, const char *password, size_t len,
	    unsigned iterations, struct scram_creds *out);
/*
 * As scram_creds_make, with the salt given (salt_len <= SCRAM_SALT_LEN);
 * scram_creds_make calls it with a random salt.  Also lets tests rebuild
 * the credentials of published test vectors.
 */
int	 scram_creds_make_with_salt(enum scram_hash h, const char *password,
	    size_t len, const unsigned char *salt, size_t salt_len,
	    unsigned iterations, struct scram_creds *out);
/* 1 if password matches creds (constant time on the key compare). */
int	 scram_check_password(const struct scram_creds *creds,
	    const char *password, size_t len);

enum scram_rc {
	SCRAM_OK,
	SCRAM_ERR_MALFORMED,	/* message does not follow RFC 5802 7 */
	SCRAM_ERR_CB,		/* channel binding requested/mismatched */
	SCRAM_ERR_AUTHZID,	/* authzid given and not equal to authcid */
	SCRAM_ERR_NONCE,	/* nonce mismatch */
	SCRAM_ERR_PROOF,	/* wrong password (or unknown user) */
	SCRAM_ERR_STATE,	/* step called out of order */
};

struct scram_server;

struct scram_server *scram_server_new(enum scram_hash h);
void	 scram_server_free(struct scram_server *s);

/*
 * FOR TESTS ONLY: fixes the server part of the nonce used by the next
 * scram_server_first() (instead of 24 random bytes), so that published
 * test vectors can be replayed byte for byte.  Never call it in the server.
 */
void	 scram_server_set_nonce(struct scram_server *s, const char *snonce);

/*
 * Step 1: parses client-first-message (the raw decoded bytes).  On
 * SCRAM_OK, *username points to the authcid with =2C/=3D decoded, owned
 * by s.
 */
enum scram_rc scram_server_client_first(struct scram_server *s,
	    const char *msg, size_t len, const char **username);
/*
 * Step 2: appends server-first-message to out.  creds is the user's stored
 * credentials for this hash, or NULL when the user does not exist (a
 * decoy is used).
 */
enum scram_rc scram_server_first(struct scram_server *s,
	    const struct scram_creds *creds, unsigned decoy_iterations,
	    struct buf *out);
/*
 * Step 3: checks client-final-message; on SCRAM_OK appends the
 * server-final-message ("v=...") to out.
 */
enum scram_rc scram_server_client_final(struct scram_server *s,
	    const char *msg, size_t len, struct buf *out);

#endif
