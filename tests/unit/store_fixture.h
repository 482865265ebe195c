/*
 * store_fixture.h - what the store tests share: one temporary folder per
 * test program (fixture_setup / fixture_teardown, given to
 * cmocka_run_group_tests), a fresh database in it whenever a test asks
 * (fixture_open; fixture_db names the last one, for tests that look
 * behind the store's back), and accounts with throwaway credentials
 * (fixture_add_user).  Header-only: each test program is one file.
 */
#ifndef PARLEY_TESTS_STORE_FIXTURE_H
#define PARLEY_TESTS_STORE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static char fixture_dir[64];
static char fixture_db[128];
static int fixture_ndb;

static inline int fixture_setup(void **state)
{
	(void)state;
	strcpy(fixture_dir, "/tmp/parley-test.XXXXXX");
	assert_non_null(mkdtemp(fixture_dir));
	return 0;
}

static inline int fixture_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The path of a database that does not exist yet (also in fixture_db). */
static inline const char *fixture_new_db(void)
{
	snprintf(fixture_db, sizeof(fixture_db), "%s/db%d.sqlite",
	    fixture_dir, fixture_ndb++);
	return fixture_db;
}

/* A new, empty database (schema applied); the test fails if it cannot
 * be opened. */
static inline struct store *fixture_open(void)
{
	char err[256] = "";
	struct store *st;

	st = store_open(fixture_new_db(), err, sizeof(err));
	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

/* An account whose credentials are zeros: for tests of what hangs off an
 * account, not of logging in. */
static inline void fixture_add_user(struct store *st, const char *lp)
{
	struct scram_creds c1, c256;

	memset(&c1, 0, sizeof(c1));
	memset(&c256, 0, sizeof(c256));
	c1.hash = SCRAM_SHA1;
	c256.hash = SCRAM_SHA256;
	c1.iterations = c256.iterations = 4096;
	c1.salt_len = c256.salt_len = SCRAM_SALT_LEN;
	assert_int_equal(store_user_create(st, lp, &c1, &c256), STORE_OK);
}

#endif
