/* invite.c - see invite.h. */
#include "store/invite.h"

#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/alloc.h"
#include "store/store_int.h"

int invite_token_new(char out[INVITE_TOKEN_LEN + 1])
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char rnd[16];
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		acc = (acc << 8) | rnd[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[n++] = b32[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[n++] = b32[(acc << (5 - bits)) & 31];
	out[n] = '\0';
	wipe(rnd, sizeof(rnd));
	return 0;
}

void invite_token_hash(const char *token, size_t len,
    unsigned char out[INVITE_HASH_LEN])
{
	unsigned int n = INVITE_HASH_LEN;

	EVP_Digest(token, len, out, &n, EVP_sha256(), NULL);
}

enum store_rc store_invite_add(struct store *st,
    const unsigned char hash[INVITE_HASH_LEN], unsigned uses,
    int64_t expires, int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO invites (hash, "
	    "created, expires, uses_left) VALUES (?1, ?2, ?3, ?4)");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, hash, INVITE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(s, 3, expires);
	sqlite3_bind_int64(s, 4, uses);
	if (store_step_done(st, s, "add invitation") != STORE_OK)
		return STORE_ERR;
	*id = sqlite3_last_insert_rowid(store_db(st));
	return STORE_OK;
}

enum store_rc store_invite_check(struct store *st,
    const unsigned char hash[INVITE_HASH_LEN], int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT 1 FROM invites WHERE "
	    "hash = ?1 AND revoked = 0 AND uses_left > 0 AND expires > ?2");
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, hash, INVITE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE)
		return STORE_NOT_FOUND;
	store_db_error(st, "check invitation");
	return STORE_ERR;
}

enum store_rc store_invite_redeem(struct store *st,
    const unsigned char hash[INVITE_HASH_LEN], const char *localpart,
    const struct scram_creds *sha1, const struct scram_creds *sha256)
{
	sqlite3_stmt *s;
	enum store_rc rc;

	if (store_begin(st) != STORE_OK)
		return STORE_ERR;
	s = store_stmt(st, "UPDATE invites SET uses_left = uses_left - 1, "
	    "used = used + 1 WHERE hash = ?1 AND revoked = 0 AND "
	    "uses_left > 0");
	if (s == NULL) {
		rc = STORE_ERR;
		goto fail;
	}
	sqlite3_bind_blob(s, 1, hash, INVITE_HASH_LEN, SQLITE_STATIC);
	if ((rc = store_step_done(st, s, "spend invitation")) != STORE_OK)
		goto fail;
	if (sqlite3_changes(store_db(st)) != 1) {
		rc = STORE_NOT_FOUND;
		goto fail;
	}
	rc = store_user_create(st, localpart, sha1, sha256);
	if (rc != STORE_OK)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return rc;
}

enum store_rc store_invite_list(struct store *st,
    void (*fn)(void *ud, const struct invite_info *inv), void *ud)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, created, expires, "
	    "uses_left, used, revoked FROM invites ORDER BY id");
	struct invite_info inv;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		inv.id = sqlite3_column_int64(s, 0);
		inv.created = sqlite3_column_int64(s, 1);
		inv.expires = sqlite3_column_int64(s, 2);
		inv.uses_left = (unsigned)sqlite3_column_int64(s, 3);
		inv.used = (unsigned)sqlite3_column_int64(s, 4);
		inv.revoked = sqlite3_column_int(s, 5) != 0;
		fn(ud, &inv);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "list invitations");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_invite_revoke(struct store *st, int64_t id,
    const unsigned char *hash)
{
	sqlite3_stmt *s;

	if (hash != NULL) {
		s = store_stmt(st, "UPDATE invites SET revoked = 1 "
		    "WHERE hash = ?1");
		if (s != NULL)
			sqlite3_bind_blob(s, 1, hash, INVITE_HASH_LEN,
			    SQLITE_STATIC);
	} else {
		s = store_stmt(st, "UPDATE invites SET revoked = 1 "
		    "WHERE id = ?1");
		if (s != NULL)
			sqlite3_bind_int64(s, 1, id);
	}
	if (s == NULL)
		return STORE_ERR;
	if (store_step_done(st, s, "revoke invitation") != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) == 1 ? STORE_OK :
	    STORE_NOT_FOUND;
}
