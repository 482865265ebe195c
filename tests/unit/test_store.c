/* test_store.c - tests for store/store.h (SQLite back-end). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

#include "store_fixture.h"

/* Credentials filled by hand: a recognisable pattern per seed. */
static void fake_creds(enum scram_hash h, unsigned char seed,
    struct scram_creds *c)
{
	size_t klen = h == SCRAM_SHA1 ? 20 : 32;

	memset(c, 0, sizeof(*c));
	c->hash = h;
	c->iterations = 4096 + seed;
	c->salt_len = SCRAM_SALT_LEN;
	for (size_t i = 0; i < SCRAM_SALT_LEN; i++)
		c->salt[i] = (unsigned char)(seed + i);
	for (size_t i = 0; i < klen; i++) {
		c->stored_key[i] = (unsigned char)(seed * 3 + i);
		c->server_key[i] = (unsigned char)(seed * 7 + i);
	}
}

static void assert_creds_equal(const struct scram_creds *a,
    const struct scram_creds *b)
{
	size_t klen = a->hash == SCRAM_SHA1 ? 20 : 32;

	assert_int_equal(a->hash, b->hash);
	assert_int_equal(a->iterations, b->iterations);
	assert_int_equal(a->salt_len, b->salt_len);
	assert_memory_equal(a->salt, b->salt, a->salt_len);
	assert_memory_equal(a->stored_key, b->stored_key, klen);
	assert_memory_equal(a->server_key, b->server_key, klen);
}

static struct store *open_ok(const char *p)
{
	char err[256] = "";
	struct store *st = store_open(p, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

static void add_user(struct store *st, const char *lp, unsigned char seed)
{
	struct scram_creds c1, c256;

	fake_creds(SCRAM_SHA1, seed, &c1);
	fake_creds(SCRAM_SHA256, seed + 1, &c256);
	assert_int_equal(store_user_create(st, lp, &c1, &c256), STORE_OK);
}

struct names {
	size_t	n;
	char	v[16][32];
};

static void collect(void *ud, const char *lp)
{
	struct names *nm = ud;

	assert_true(nm->n < 16);
	snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", lp);
}

static void test_create_get(void **state)
{
	struct store *st = open_ok(fixture_new_db());
	struct scram_creds c1, c256, got;

	fake_creds(SCRAM_SHA1, 1, &c1);
	fake_creds(SCRAM_SHA256, 2, &c256);
	assert_int_equal(store_user_exists(st, "alice"), STORE_NOT_FOUND);
	assert_int_equal(store_user_create(st, "alice", &c1, &c256), STORE_OK);
	assert_int_equal(store_user_exists(st, "alice"), STORE_OK);

	assert_int_equal(store_user_get_creds(st, "alice", SCRAM_SHA1, &got),
	    STORE_OK);
	assert_creds_equal(&got, &c1);
	assert_int_equal(store_user_get_creds(st, "alice", SCRAM_SHA256,
	    &got), STORE_OK);
	assert_creds_equal(&got, &c256);

	/* Taken: the first credentials stay. */
	fake_creds(SCRAM_SHA1, 9, &c1);
	assert_int_equal(store_user_create(st, "alice", &c1, &c256),
	    STORE_EXISTS);
	assert_int_equal(store_user_get_creds(st, "alice", SCRAM_SHA1, &got),
	    STORE_OK);
	assert_int_equal(got.iterations, 4096 + 1);

	assert_int_equal(store_user_get_creds(st, "bob", SCRAM_SHA1, &got),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_exists(st, "Alice"), STORE_NOT_FOUND);
	store_close(st);
}

static void test_bad_creds_refused(void **state)
{
	struct store *st = open_ok(fixture_new_db());
	struct scram_creds c1, c256;

	fake_creds(SCRAM_SHA1, 1, &c1);
	fake_creds(SCRAM_SHA256, 2, &c256);
	/* Swapped hashes. */
	assert_int_equal(store_user_create(st, "a", &c256, &c1), STORE_ERR);
	assert_non_null(strstr(store_errmsg(st), "wrong hash"));
	c1.salt_len = SCRAM_SALT_LEN + 1;
	assert_int_equal(store_user_create(st, "a", &c1, &c256), STORE_ERR);
	assert_int_equal(store_user_exists(st, "a"), STORE_NOT_FOUND);
	store_close(st);
}

static void test_set_creds_delete(void **state)
{
	struct store *st = open_ok(fixture_new_db());
	struct scram_creds c1, c256, got;

	fake_creds(SCRAM_SHA1, 10, &c1);
	fake_creds(SCRAM_SHA256, 20, &c256);
	assert_int_equal(store_user_set_creds(st, "carol", &c1, &c256),
	    STORE_NOT_FOUND);
	add_user(st, "carol", 1);
	assert_int_equal(store_user_set_creds(st, "carol", &c1, &c256),
	    STORE_OK);
	assert_int_equal(store_user_get_creds(st, "carol", SCRAM_SHA1, &got),
	    STORE_OK);
	assert_creds_equal(&got, &c1);
	assert_int_equal(store_user_get_creds(st, "carol", SCRAM_SHA256,
	    &got), STORE_OK);
	assert_creds_equal(&got, &c256);

	assert_int_equal(store_user_delete(st, "carol"), STORE_OK);
	assert_int_equal(store_user_exists(st, "carol"), STORE_NOT_FOUND);
	assert_int_equal(store_user_delete(st, "carol"), STORE_NOT_FOUND);
	assert_int_equal(store_user_get_creds(st, "carol", SCRAM_SHA256,
	    &got), STORE_NOT_FOUND);
	/* The name can be taken again. */
	add_user(st, "carol", 3);
	store_close(st);
}

static void test_list_sorted(void **state)
{
	struct store *st = open_ok(fixture_new_db());
	struct names nm = { 0 };

	assert_int_equal(store_user_list(st, collect, &nm), STORE_OK);
	assert_int_equal(nm.n, 0);
	add_user(st, "mallory", 1);
	add_user(st, "alice", 2);
	add_user(st, "bob", 3);
	add_user(st, "alice2", 4);
	assert_int_equal(store_user_list(st, collect, &nm), STORE_OK);
	assert_int_equal(nm.n, 4);
	assert_string_equal(nm.v[0], "alice");
	assert_string_equal(nm.v[1], "alice2");
	assert_string_equal(nm.v[2], "bob");
	assert_string_equal(nm.v[3], "mallory");
	store_close(st);
}

static void test_reopen_and_mode(void **state)
{
	const char *p = fixture_new_db();
	struct store *st = open_ok(p);
	struct scram_creds c1, got;
	struct stat sb;

	add_user(st, "dave", 5);
	store_close(st);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	st = open_ok(p);
	fake_creds(SCRAM_SHA1, 5, &c1);
	assert_int_equal(store_user_get_creds(st, "dave", SCRAM_SHA1, &got),
	    STORE_OK);
	assert_creds_equal(&got, &c1);
	store_close(st);
}

/* Like parleyd and parleyctl: two handles on one file. */
static void test_two_handles(void **state)
{
	const char *p = fixture_new_db();
	struct store *a = open_ok(p), *b = open_ok(p);
	struct scram_creds c1, c256, got;
	struct names nm = { 0 };

	add_user(a, "erin", 1);
	assert_int_equal(store_user_exists(b, "erin"), STORE_OK);
	add_user(b, "frank", 2);
	assert_int_equal(store_user_exists(a, "frank"), STORE_OK);
	fake_creds(SCRAM_SHA1, 40, &c1);
	fake_creds(SCRAM_SHA256, 41, &c256);
	assert_int_equal(store_user_set_creds(b, "erin", &c1, &c256),
	    STORE_OK);
	assert_int_equal(store_user_get_creds(a, "erin", SCRAM_SHA256, &got),
	    STORE_OK);
	assert_creds_equal(&got, &c256);
	assert_int_equal(store_user_create(a, "frank", &c1, &c256),
	    STORE_EXISTS);
	assert_int_equal(store_user_delete(a, "frank"), STORE_OK);
	assert_int_equal(store_user_delete(b, "frank"), STORE_NOT_FOUND);
	assert_int_equal(store_user_list(b, collect, &nm), STORE_OK);
	assert_int_equal(nm.n, 1);
	assert_string_equal(nm.v[0], "erin");
	store_close(a);
	store_close(b);
}

/* Reads a one-integer pragma straight from the file. */
static long long pragma_int(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void test_schema(void **state)
{
	const char *p = fixture_new_db();
	struct store *st = open_ok(p);
	sqlite3 *db;
	sqlite3_stmt *s;
	const unsigned char *mode;

	store_close(st);
	/* Features append migrations; each checks its own tables. */
	assert_true(pragma_int(p, "PRAGMA user_version") >= 3);
	assert_int_equal(pragma_int(p,
	    "SELECT count(*) FROM sqlite_master WHERE name IN ('users', "
	    "'roster', 'roster_version', 'offline', 'blobs', 'pep_nodes', "
	    "'pep_items', 'pep_whitelist')"), 8);

	/* WAL is a property of the file, so it outlives the handle. */
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	mode = sqlite3_column_text(s, 0);
	assert_string_equal((const char *)mode, "wal");
	sqlite3_finalize(s);

	/* A newer schema than this program knows is refused, not damaged. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	{
		char err[256] = "";

		assert_null(store_open(p, err, sizeof(err)));
		assert_non_null(strstr(err, "newer"));
	}
	assert_int_equal(pragma_int(p, "PRAGMA user_version"), 99);
}

static void test_malformed_row(void **state)
{
	const char *p = fixture_new_db();
	struct store *st = open_ok(p);
	struct scram_creds got;
	sqlite3 *db;

	add_user(st, "gina", 1);
	add_user(st, "hank", 2);
	add_user(st, "ivan", 3);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "UPDATE users SET sha1_stored = x'00' WHERE localpart = 'gina';"
	    "UPDATE users SET sha256_salt = zeroblob(17) "
	    " WHERE localpart = 'hank';"
	    "UPDATE users SET sha1_salt = NULL, sha1_iter = NULL,"
	    " sha1_stored = NULL, sha1_server = NULL"
	    " WHERE localpart = 'ivan';", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_user_get_creds(st, "gina", SCRAM_SHA1, &got),
	    STORE_ERR);
	assert_non_null(strstr(store_errmsg(st), "malformed"));
	assert_int_equal(store_user_get_creds(st, "gina", SCRAM_SHA256, &got),
	    STORE_OK);
	assert_int_equal(store_user_get_creds(st, "hank", SCRAM_SHA256, &got),
	    STORE_ERR);
	/* No credentials of a hash: that hash cannot be used to log in. */
	assert_int_equal(store_user_get_creds(st, "ivan", SCRAM_SHA1, &got),
	    STORE_NOT_FOUND);
	assert_int_equal(store_user_get_creds(st, "ivan", SCRAM_SHA256, &got),
	    STORE_OK);
	store_close(st);
}

static void test_open_fails(void **state)
{
	char err[256] = "", p[160];

	snprintf(p, sizeof(p), "%s/no/such/dir/x.db", fixture_dir);
	assert_null(store_open(p, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open database"));
	assert_non_null(strstr(err, p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_get),
		cmocka_unit_test(test_bad_creds_refused),
		cmocka_unit_test(test_set_creds_delete),
		cmocka_unit_test(test_list_sorted),
		cmocka_unit_test(test_reopen_and_mode),
		cmocka_unit_test(test_two_handles),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_malformed_row),
		cmocka_unit_test(test_open_fails),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
