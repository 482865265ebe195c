/* test_invite.c - tests for store/invite.h (invitation tokens). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/invite.h"
#include "store/store.h"

static char tmpdir[64];
static char dbpath[128];

static int setup(void **state)
{
	char err[256];
	struct store *st;

	strcpy(tmpdir, "/tmp/parley-test-invite.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/db.sqlite", tmpdir);
	st = store_open(dbpath, err, sizeof(err));
	assert_non_null(st);
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	store_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void creds(struct scram_creds *sha1, struct scram_creds *sha256)
{
	assert_int_equal(scram_creds_make(SCRAM_SHA1, "pw", 2, 4096, sha1), 0);
	assert_int_equal(scram_creds_make(SCRAM_SHA256, "pw", 2, 4096,
	    sha256), 0);
}

/* A new invitation with that many uses, valid for an hour. */
static void add(struct store *st, unsigned uses, unsigned char *hash,
    char *token)
{
	int64_t id;

	assert_int_equal(invite_token_new(token), 0);
	invite_token_hash(token, strlen(token), hash);
	assert_int_equal(store_invite_add(st, hash, uses, time(NULL) + 3600,
	    &id), STORE_OK);
}

static void test_token_format(void **state)
{
	char a[INVITE_TOKEN_LEN + 1], b[INVITE_TOKEN_LEN + 1];

	assert_int_equal(invite_token_new(a), 0);
	assert_int_equal(invite_token_new(b), 0);
	assert_int_equal(strlen(a), INVITE_TOKEN_LEN);
	assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz234567"),
	    INVITE_TOKEN_LEN);
	assert_string_not_equal(a, b);
}

static void test_single_use(void **state)
{
	struct store *st = *state;
	unsigned char h[INVITE_HASH_LEN];
	char tok[INVITE_TOKEN_LEN + 1];
	struct scram_creds s1, s256;

	creds(&s1, &s256);
	add(st, 1, h, tok);
	assert_int_equal(store_invite_check(st, h, time(NULL)), STORE_OK);
	assert_int_equal(store_user_create(st, "taken", &s1, &s256), STORE_OK);
	/* A taken name spends nothing and creates nothing. */
	assert_int_equal(store_invite_redeem(st, h, "taken", &s1, &s256),
	    STORE_EXISTS);
	assert_int_equal(store_invite_check(st, h, time(NULL)), STORE_OK);
	assert_int_equal(store_invite_redeem(st, h, "first", &s1, &s256),
	    STORE_OK);
	assert_int_equal(store_user_exists(st, "first"), STORE_OK);
	assert_int_equal(store_invite_check(st, h, time(NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(store_invite_redeem(st, h, "second", &s1, &s256),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_exists(st, "second"), STORE_NOT_FOUND);
}

static void test_expiry_and_revocation(void **state)
{
	struct store *st = *state;
	unsigned char h[INVITE_HASH_LEN], other[INVITE_HASH_LEN];
	char tok[INVITE_TOKEN_LEN + 1];
	struct scram_creds s1, s256;

	creds(&s1, &s256);
	add(st, 5, h, tok);
	assert_int_equal(store_invite_check(st, h, time(NULL) + 3599),
	    STORE_OK);
	assert_int_equal(store_invite_check(st, h, time(NULL) + 3601),
	    STORE_NOT_FOUND);
	invite_token_hash("nope", 4, other);
	assert_int_equal(store_invite_check(st, other, time(NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(store_invite_revoke(st, 0, other), STORE_NOT_FOUND);
	assert_int_equal(store_invite_revoke(st, 0, h), STORE_OK);
	assert_int_equal(store_invite_check(st, h, time(NULL)),
	    STORE_NOT_FOUND);
	assert_int_equal(store_invite_redeem(st, h, "late", &s1, &s256),
	    STORE_NOT_FOUND);
	assert_int_equal(store_invite_revoke(st, 987654, NULL),
	    STORE_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_format),
		cmocka_unit_test_setup_teardown(test_single_use, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expiry_and_revocation,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
