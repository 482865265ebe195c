/*
 * test_audit_svc.c - tests for xmpp/audit.h (coalescing, retention),
 * store/backup.h (copy, verify, record), core/datalock.h and the
 * duration type of the configuration.
 */
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

#include <event2/event.h>

#include "core/config.h"
#include "core/datalock.h"
#include "store/audit.h"
#include "store/backup.h"
#include "store/store.h"
#include "xmpp/audit.h"
#include "xmpp/server.h"

#include "store_fixture.h"

static struct store *open_at(const char *name)
{
	char path[256], err[256] = "";
	struct store *st;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
	if ((st = store_open(path, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

struct seen {
	int		 n;
	char		 kind[8][32], detail[8][128];
	int		 null_account[8];
};

static void collect(void *ud, const struct audit_row *r)
{
	struct seen *s = ud;

	if (s->n < 8) {
		snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", r->kind);
		snprintf(s->detail[s->n], sizeof(s->detail[0]), "%s",
		    r->detail ? r->detail : "");
		s->null_account[s->n] = r->account == NULL;
	}
	s->n++;
}

/* A server with just what the audit service uses. */
static void fake_server(struct server *srv, struct config *cfg,
    const char *db)
{
	memset(srv, 0, sizeof(*srv));
	config_defaults(cfg);
	srv->cfg = cfg;
	srv->base = event_base_new();
	srv->store = open_at(db);
	srv->audit = audit_svc_new(srv);
}

static void free_server(struct server *srv, struct config *cfg)
{
	audit_svc_free(srv->audit);
	event_base_free(srv->base);
	store_close(srv->store);
	config_free(cfg);
}

static void test_hits_coalesce(void **state)
{
	struct server srv;
	struct config cfg;
	struct seen s = { 0 };

	fake_server(&srv, &cfg, "hits.db");
	for (int i = 0; i < 100; i++)
		audit_hit(&srv, "rate-limit", "alice", "10.0.0.1",
		    "limit=messages", NULL);
	audit_hit(&srv, "rate-limit", "alice", "10.0.0.1", "limit=bytes",
	    NULL);
	audit_hit(&srv, "rate-limit", "bob", "10.0.0.2", "limit=messages",
	    NULL);
	audit_policy(&srv, "alice", "10.0.0.1", "uploads", "an upload");
	audit_policy(&srv, "alice", "10.0.0.1", "uploads", "another");
	/* Rows at once, with the count of the first hit. */
	assert_int_equal(store_audit_list(srv.store, NULL, 0, collect, &s),
	    STORE_OK);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.detail[0], "limit=messages count=1");
	/* The timer's run writes the counts. */
	audit_svc_tick(srv.audit);
	memset(&s, 0, sizeof(s));
	store_audit_list(srv.store, NULL, 0, collect, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.detail[0], "limit=messages count=100");
	assert_string_equal(s.detail[1], "limit=bytes count=1");
	assert_string_equal(s.detail[2], "limit=messages count=1");
	assert_string_equal(s.kind[3], "policy");
	assert_string_equal(s.detail[3], "policy=uploads count=2 an upload");
	/* Counts still in memory are written when the service stops. */
	audit_hit(&srv, "rate-limit", "alice", "10.0.0.1", "limit=messages",
	    NULL);
	audit_svc_free(srv.audit);
	srv.audit = NULL;
	memset(&s, 0, sizeof(s));
	store_audit_list(srv.store, NULL, 0, collect, &s);
	assert_string_equal(s.detail[0], "limit=messages count=101");
	free_server(&srv, &cfg);
}

static void test_retention_prunes_at_start(void **state)
{
	struct server srv;
	struct config cfg;
	struct seen s = { 0 };
	struct store *st = open_at("old.db");
	int64_t now = (int64_t)time(NULL);

	store_audit_add(st, now - 100 * 86400, "login", "a", NULL, NULL);
	store_audit_add(st, now - 10, "login", "b", NULL, NULL);
	store_close(st);
	fake_server(&srv, &cfg, "old.db");	/* 90 days by default */
	store_audit_list(srv.store, NULL, 0, collect, &s);
	assert_int_equal(s.n, 1);
	free_server(&srv, &cfg);
}

static void test_copy_and_verify(void **state)
{
	struct store *st = open_at("src.db");
	char src[256], dst[256], bad[256], err[512];
	uint64_t bytes = 0;
	int exists, v = 0;
	int64_t stamp = 0;
	FILE *f;

	snprintf(src, sizeof(src), "%s/src.db", fixture_dir);
	snprintf(dst, sizeof(dst), "%s/copy.db", fixture_dir);
	snprintf(bad, sizeof(bad), "%s/bad.db", fixture_dir);
	assert_int_equal(store_backup_last(st, &stamp, NULL),
	    STORE_NOT_FOUND);
	assert_int_equal(store_copy_file(src, dst, 0, &bytes, &exists, err,
	    sizeof(err)), 0);
	assert_true(bytes > 0);
	assert_int_equal(store_verify_file(dst, &v, err, sizeof(err)), 0);
	assert_int_equal(v, store_schema_version());
	/* Not over an existing file, unless asked. */
	assert_int_equal(store_copy_file(src, dst, 0, &bytes, &exists, err,
	    sizeof(err)), -1);
	assert_true(exists);
	assert_int_equal(store_copy_file(src, dst, 1, &bytes, &exists, err,
	    sizeof(err)), 0);
	assert_int_equal(store_backup_record(st, 1000, dst, bytes), STORE_OK);
	assert_int_equal(store_backup_record(st, 2000, "/x", 1), STORE_OK);
	assert_int_equal(store_backup_last(st, &stamp, NULL), STORE_OK);
	assert_int_equal(stamp, 2000);
	f = fopen(bad, "w");
	fputs("hello", f);
	fclose(f);
	assert_int_equal(store_verify_file(bad, &v, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a Parley database"));
	store_close(st);
}

static void test_datalock(void **state)
{
	char err[512];
	pid_t holder;
	int a, b;

	a = datalock_take(fixture_dir, 1, &holder, err, sizeof(err));
	assert_true(a >= 0);
	/* flock() is per open file: a second take fails even here. */
	b = datalock_take(fixture_dir, 0, &holder, err, sizeof(err));
	assert_int_equal(b, -1);
	assert_int_equal(holder, getpid());
	close(a);
	b = datalock_take(fixture_dir, 0, &holder, err, sizeof(err));
	assert_true(b >= 0);
	close(b);
}

static void test_durations(void **state)
{
	unsigned long long v;
	struct config c;
	char path[256], err[512];
	FILE *f;

	assert_int_equal(config_parse_duration("90d", 1ull << 40, &v), 0);
	assert_int_equal(v, 90ull * 86400);
	assert_int_equal(config_parse_duration("45", 100, &v), 0);
	assert_int_equal(v, 45);
	assert_int_equal(config_parse_duration("2h", 7200, &v), 0);
	assert_int_equal(config_parse_duration("2h", 7199, &v), -1);
	assert_int_equal(config_parse_duration("d", 100, &v), -1);
	assert_int_equal(config_parse_duration("5x", 100, &v), -1);
	assert_int_equal(config_parse_duration("5dd", 1000000, &v), -1);
	assert_int_equal(config_parse_duration("-5s", 100, &v), -1);
	assert_int_equal(config_parse_duration("99999999999999999999d",
	    1ull << 40, &v), -1);

	snprintf(path, sizeof(path), "%s/c.ini", fixture_dir);
	f = fopen(path, "w");
	fputs("[audit]\nretention = off\n[backup]\nmax_age = 2d\n", f);
	fclose(f);
	config_defaults(&c);
	assert_int_equal(c.audit_retention, 90u * 86400);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.audit_retention, 0);
	assert_int_equal(c.backup_max_age, 2u * 86400);
	config_free(&c);
	/* max_age has no "off", and a floor of an hour. */
	f = fopen(path, "w");
	fputs("[backup]\nmax_age = off\n", f);
	fclose(f);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[backup] max_age"));
	config_free(&c);
	f = fopen(path, "w");
	fputs("[backup]\nmax_age = 59m\n", f);
	fclose(f);
	config_defaults(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hits_coalesce),
		cmocka_unit_test(test_retention_prunes_at_start),
		cmocka_unit_test(test_copy_and_verify),
		cmocka_unit_test(test_datalock),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
