/* test_config.c - tests for core/config.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/limits.h"

static char tmpdir[64];
static char path[128];
static int nfiles;

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/parley-test-config.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	char p[160];

	for (int i = 0; i < nfiles; i++) {
		snprintf(p, sizeof(p), "%s/t%d.ini", tmpdir, i);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

/* Writes text to a new file and returns its path (valid until the next
 * call). */
static const char *write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/t%d.ini", tmpdir, nfiles++);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Loads text over the defaults; returns config_load's result. */
static int load(struct config *c, const char *text, char *err, size_t len)
{
	config_defaults(c);
	return config_load(c, write_file(text), err, len);
}

/* Asserts that text fails with err == "PATH:LINE: " + reason. */
static void expect_error(const char *text, int line, const char *reason)
{
	struct config c;
	char err[512], want[512];

	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, reason);
	assert_string_equal(err, want);
	assert_null(strchr(err, '\n'));
	config_free(&c);
}

static void test_defaults(void **state)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_string_equal(c.domain, "localhost");
	assert_string_equal(c.data_dir, "./var");
	assert_string_equal(c.database, "");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_int_equal(c.listen.n, 1);
	assert_string_equal(c.listen.addr[0], "127.0.0.1:5222");
	assert_int_equal(c.tls_listen.n, 1);
	assert_string_equal(c.tls_listen.addr[0], "127.0.0.1:5223");
	assert_int_equal(c.auth_timeout, 30);
	assert_int_equal(c.ping_interval, 240);
	assert_int_equal(c.ping_timeout, 60);
	assert_int_equal(c.max_sessions_per_account, 10);
	assert_int_equal(c.max_unauth_per_address, 32);
	assert_int_equal(c.connect_rate, 20);
	assert_int_equal(c.max_output_queue, 4194304);
	assert_string_equal(c.cert, "");
	assert_string_equal(c.key, "");
	assert_int_equal(c.tls_min_version, 12);
	assert_string_equal(c.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	assert_int_equal(c.allow_plain, 0);
	assert_int_equal(c.scram_iterations, 4096);
	assert_int_equal(c.backoff_base_ms, 200);
	assert_int_equal(c.backoff_max_ms, 8000);
	assert_int_equal(c.max_stanza_size, 262144);
	assert_int_equal(c.max_header_size, 4096);
	assert_int_equal(c.max_depth, 32);
	assert_int_equal(c.max_attributes, 64);
	assert_int_equal(c.rate_limits, 1);

	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.database, "./var/parley.db");
	assert_string_equal(c.cert, "./var/tls/cert.pem");
	assert_string_equal(c.key, "./var/tls/key.pem");
	assert_int_equal(c.cert_is_generated, 1);
	config_free(&c);
	/* Freeing twice is harmless: the pointers are cleared. */
	config_free(&c);
}

static void test_full_file(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load(&c,
	    "; a full file\n"
	    "# comments of both kinds\n"
	    "[server]\n"
	    "domain = Example.ORG.\n"
	    "data_dir = /srv/parley/\n"
	    "database = /srv/db/p.db\n"
	    "log_level = debug\n"
	    "\n"
	    "[c2s]\n"
	    "  listen = 0.0.0.0:5222, [::]:5222 ; inline comment\n"
	    "tls_listen =\n"
	    "auth_timeout = 3600\n"
	    "ping_interval = 10\n"
	    "ping_timeout = 3600\n"
	    "max_sessions_per_account = 1000\n"
	    "max_unauth_per_address = 1\n"
	    "connect_rate = 1000000\n"
	    "max_output_queue = 65536\n"
	    "[tls]\n"
	    "cert = /etc/parley/cert.pem\n"
	    "key = /etc/parley/key.pem\n"
	    "min_version = 1.3\n"
	    "ciphers = ECDHE+AESGCM\n"
	    "[auth]\n"
	    "plain = Yes\n"
	    "scram_iterations = 1000000\n"
	    "backoff_base_ms = 0\n"
	    "backoff_max_ms = 0\n"
	    "[limits]\n"
	    "max_stanza_size = 10000\n"
	    "max_header_size = 512\n"
	    "max_depth = 256\n"
	    "max_attributes = 4\n"
	    "rate_limits = 0\n", err, sizeof(err)), 0);
	assert_string_equal(c.domain, "example.org");
	assert_string_equal(c.data_dir, "/srv/parley/");
	assert_string_equal(c.database, "/srv/db/p.db");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_int_equal(c.listen.n, 2);
	assert_string_equal(c.listen.addr[0], "0.0.0.0:5222");
	assert_string_equal(c.listen.addr[1], "[::]:5222");
	assert_int_equal(c.tls_listen.n, 0);
	assert_int_equal(c.auth_timeout, 3600);
	assert_int_equal(c.ping_interval, 10);
	assert_int_equal(c.ping_timeout, 3600);
	assert_int_equal(c.max_sessions_per_account, 1000);
	assert_int_equal(c.max_unauth_per_address, 1);
	assert_int_equal(c.connect_rate, 1000000);
	assert_int_equal(c.max_output_queue, 65536);
	assert_string_equal(c.cert, "/etc/parley/cert.pem");
	assert_string_equal(c.key, "/etc/parley/key.pem");
	assert_int_equal(c.tls_min_version, 13);
	assert_string_equal(c.ciphers, "ECDHE+AESGCM");
	assert_int_equal(c.allow_plain, 1);
	assert_int_equal(c.scram_iterations, 1000000);
	assert_int_equal(c.backoff_base_ms, 0);
	assert_int_equal(c.backoff_max_ms, 0);
	assert_int_equal(c.max_stanza_size, 10000);
	assert_int_equal(c.max_header_size, 512);
	assert_int_equal(c.max_depth, 256);
	assert_int_equal(c.max_attributes, 4);
	assert_int_equal(c.rate_limits, 0);

	/* Configured paths are kept; the certificate is the admin's. */
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.database, "/srv/db/p.db");
	assert_string_equal(c.cert, "/etc/parley/cert.pem");
	assert_int_equal(c.cert_is_generated, 0);
	config_free(&c);
}

static void test_empty_file(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load(&c, "", err, sizeof(err)), 0);
	assert_string_equal(c.domain, "localhost");
	config_free(&c);
}

static void test_cannot_open(void **state)
{
	struct config c;
	char err[256], p[128], want[256];

	snprintf(p, sizeof(p), "%s/missing.ini", tmpdir);
	config_defaults(&c);
	assert_int_equal(config_load(&c, p, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", p);
	assert_string_equal(err, want);
	config_free(&c);
}

static void test_unknown_section(void **state)
{
	expect_error("[server]\ndomain = a.example\n\n[bogus]\nx = 1\n", 4,
	    "[bogus]: unknown section");
	/* Reported even when the section has no keys. */
	expect_error("[c2s]\n[c2z]\n", 2, "[c2z]: unknown section");
}

static void test_unknown_key(void **state)
{
	expect_error("[c2s]\nlisten = 127.0.0.1:5222\nlisen = x\n", 3,
	    "[c2s] lisen: unknown key");
	/* A key in the wrong section is unknown there. */
	expect_error("[server]\nplain = on\n", 2,
	    "[server] plain: unknown key");
	expect_error("domain = x\n", 1, "domain: key outside any [section]");
}

static void test_duplicate_key(void **state)
{
	expect_error("[auth]\nplain = off\n[server]\n[auth]\nplain = on\n", 5,
	    "[auth] plain: duplicate key (first set on line 2)");
}

static void test_bad_number(void **state)
{
	expect_error("[c2s]\n\n\n\n\n\nauth_timeout = 3O\n", 7,
	    "[c2s] auth_timeout: must be a number from 1 to 3600");
	expect_error("[c2s]\nauth_timeout = -1\n", 2,
	    "[c2s] auth_timeout: must be a number from 1 to 3600");
	expect_error("[c2s]\nauth_timeout = 0x10\n", 2,
	    "[c2s] auth_timeout: must be a number from 1 to 3600");
	expect_error("[c2s]\nauth_timeout =\n", 2,
	    "[c2s] auth_timeout: must be a number from 1 to 3600");
	expect_error("[limits]\nmax_stanza_size = 99999999999999999999999\n",
	    2, "[limits] max_stanza_size: must be a number from 10000 to "
	    "16777216");
}

static void test_out_of_range(void **state)
{
	expect_error("[c2s]\nauth_timeout = 3601\n", 2,
	    "[c2s] auth_timeout: must be a number from 1 to 3600");
	expect_error("[c2s]\nping_interval = 0\n", 2,
	    "[c2s] ping_interval: must be a number from 1 to 86400");
	expect_error("[auth]\nscram_iterations = 4095\n", 2,
	    "[auth] scram_iterations: must be a number from 4096 to 1000000");
	expect_error("[limits]\nmax_stanza_size = 9999\n", 2,
	    "[limits] max_stanza_size: must be a number from 10000 to "
	    "16777216");
	expect_error("[limits]\nmax_depth = 257\n", 2,
	    "[limits] max_depth: must be a number from 4 to 256");
	expect_error("[c2s]\nmax_output_queue = 65535\n", 2,
	    "[c2s] max_output_queue: must be a number from 65536 to "
	    "268435456");
	expect_error("[auth]\nbackoff_base_ms = 500\nbackoff_max_ms = 100\n",
	    3, "[auth] backoff_max_ms: must be at least backoff_base_ms (500)");
}

static void test_bad_boolean(void **state)
{
	expect_error("[auth]\nplain = maybe\n", 2,
	    "[auth] plain: must be on or off (or yes/no, true/false, 1/0)");
	expect_error("[limits]\nrate_limits =\n", 2,
	    "[limits] rate_limits: must be on or off (or yes/no, true/false, "
	    "1/0)");
}

static void test_bool_spellings(void **state)
{
	static const char *const on[] = { "on", "yes", "true", "1", "ON" };
	static const char *const off[] = { "off", "no", "false", "0", "No" };
	struct config c;
	char text[64], err[256];

	for (size_t i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "[auth]\nplain = %s\n", on[i]);
		assert_int_equal(load(&c, text, err, sizeof(err)), 0);
		assert_int_equal(c.allow_plain, 1);
		config_free(&c);
		snprintf(text, sizeof(text), "[limits]\nrate_limits = %s\n",
		    off[i]);
		assert_int_equal(load(&c, text, err, sizeof(err)), 0);
		assert_int_equal(c.rate_limits, 0);
		config_free(&c);
	}
}

static void test_bad_values(void **state)
{
	expect_error("[server]\ndomain = not a domain\n", 2,
	    "[server] domain: not a valid domain name");
	expect_error("[server]\ndomain =\n", 2,
	    "[server] domain: not a valid domain name");
	expect_error("[server]\nlog_level = loud\n", 2,
	    "[server] log_level: must be debug, info, warn or error");
	expect_error("[server]\ndata_dir =\n", 2,
	    "[server] data_dir: must not be empty");
	expect_error("[tls]\nmin_version = 1.1\n", 2,
	    "[tls] min_version: must be 1.2 or 1.3");
	expect_error("[tls]\nciphers =\n", 2,
	    "[tls] ciphers: must not be empty");
	expect_error("[server]\nthis line has no equals sign\n", 2,
	    "syntax error (expected [section] or key = value)");
}

static void test_cert_without_key(void **state)
{
	expect_error("[server]\n[tls]\ncert = /etc/c.pem\n", 3,
	    "[tls] cert is set but key is not (set both, or neither to use "
	    "a generated certificate)");
	expect_error("[tls]\n\nkey = /etc/k.pem\n", 3,
	    "[tls] key is set but cert is not (set both, or neither to use "
	    "a generated certificate)");
}

static void test_bad_listen(void **state)
{
	expect_error("[c2s]\nlisten = 127.0.0.1\n", 2,
	    "[c2s] listen: 127.0.0.1: expected host:port");
	expect_error("[c2s]\nlisten = 127.0.0.1:0\n", 2,
	    "[c2s] listen: 127.0.0.1:0: port must be a number from 1 to "
	    "65535");
	expect_error("[c2s]\nlisten = 127.0.0.1:65536\n", 2,
	    "[c2s] listen: 127.0.0.1:65536: port must be a number from 1 to "
	    "65535");
	expect_error("[c2s]\nlisten = 127.0.0.1:\n", 2,
	    "[c2s] listen: 127.0.0.1:: port must be a number from 1 to "
	    "65535");
	expect_error("[c2s]\ntls_listen = ::1:5223\n", 2,
	    "[c2s] tls_listen: ::1:5223: an IPv6 address must be in "
	    "brackets, as in [::1]:5222");
	expect_error("[c2s]\nlisten = [::1:5222\n", 2,
	    "[c2s] listen: [::1:5222: missing ']' after the IPv6 address");
	expect_error("[c2s]\nlisten = [1.2.3.4]:5222\n", 2,
	    "[c2s] listen: [1.2.3.4]:5222: bad IPv6 address");
	expect_error("[c2s]\nlisten = [::1]5222\n", 2,
	    "[c2s] listen: [::1]5222: expected [address]:port");
	expect_error("[c2s]\nlisten = example.com:5222\n", 2,
	    "[c2s] listen: example.com:5222: bad host (use an IP address, "
	    "localhost or *)");
	expect_error("[c2s]\nlisten = 256.1.1.1:5222\n", 2,
	    "[c2s] listen: 256.1.1.1:5222: bad host (use an IP address, "
	    "localhost or *)");
	expect_error("[c2s]\nlisten = 127.0.0.1:5222,,[::1]:5222\n", 2,
	    "[c2s] listen: empty address in the list");
	expect_error("[c2s]\nlisten = 127.0.0.1:5222,\n", 2,
	    "[c2s] listen: empty address in the list");
	expect_error("[c2s]\nlisten = 1.1.1.1:1,1.1.1.1:2,1.1.1.1:3,"
	    "1.1.1.1:4,1.1.1.1:5,1.1.1.1:6,1.1.1.1:7,1.1.1.1:8,1.1.1.1:9\n", 2,
	    "[c2s] listen: at most 8 addresses");
}

static void test_listen_list(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load(&c, "[c2s]\n"
	    "listen = *:5222 ,localhost:15222,\t[2001:db8::1]:1 , "
	    "10.0.0.1:65535\n"
	    "tls_listen = [::]:5223\n", err, sizeof(err)), 0);
	assert_int_equal(c.listen.n, 4);
	assert_string_equal(c.listen.addr[0], "*:5222");
	assert_string_equal(c.listen.addr[1], "localhost:15222");
	assert_string_equal(c.listen.addr[2], "[2001:db8::1]:1");
	assert_string_equal(c.listen.addr[3], "10.0.0.1:65535");
	assert_int_equal(c.tls_listen.n, 1);
	assert_string_equal(c.tls_listen.addr[0], "[::]:5223");
	config_free(&c);

	/* Eight is the limit, and it is allowed. */
	assert_int_equal(load(&c, "[c2s]\nlisten = 1.1.1.1:1,1.1.1.1:2,"
	    "1.1.1.1:3,1.1.1.1:4,1.1.1.1:5,1.1.1.1:6,1.1.1.1:7,1.1.1.1:8\n"
	    "tls_listen =\n", err, sizeof(err)), 0);
	assert_int_equal(c.listen.n, 8);
	assert_string_equal(c.listen.addr[7], "1.1.1.1:8");
	assert_int_equal(c.tls_listen.n, 0);
	config_free(&c);
}

static void test_indented_line_not_continuation(void **state)
{
	struct config c;
	char err[256];

	/* inih would append an indented line to the previous value. */
	assert_int_equal(load(&c, "[c2s]\nauth_timeout = 5\n"
	    "    ping_timeout = 7\n", err, sizeof(err)), 0);
	assert_int_equal(c.auth_timeout, 5);
	assert_int_equal(c.ping_timeout, 7);
	config_free(&c);
}

static void test_long_line(void **state)
{
	struct config c;
	char text[1024], err[512];

	strcpy(text, "[server]\ndata_dir = ");
	memset(text + strlen(text), 'x', 600);
	strcpy(text + strlen("[server]\ndata_dir = ") + 600, "\n");
	assert_int_equal(load(&c, text, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: line longer than "));
	config_free(&c);
}

static void test_finish_paths(void **state)
{
	struct config c;
	char err[256];

	assert_int_equal(load(&c, "[server]\ndata_dir = /var/lib/parley//\n",
	    err, sizeof(err)), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.database, "/var/lib/parley/parley.db");
	assert_string_equal(c.cert, "/var/lib/parley/tls/cert.pem");
	assert_string_equal(c.key, "/var/lib/parley/tls/key.pem");
	assert_int_equal(c.cert_is_generated, 1);
	/* Running it again changes nothing. */
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.database, "/var/lib/parley/parley.db");
	assert_int_equal(c.cert_is_generated, 1);
	config_free(&c);

	assert_int_equal(load(&c, "[server]\ndata_dir = /\n", err,
	    sizeof(err)), 0);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.database, "/parley.db");
	config_free(&c);

	/* A cert without a key set in code (not from a file) is refused. */
	config_defaults(&c);
	free(c.cert);
	c.cert = strdup("/x/cert.pem");
	assert_int_equal(config_finish(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "[tls] cert and key must be both set or "
	    "both empty");
	config_free(&c);
}

/* [policy] and [register] (first-contact consent, im/consent.c). */
static void test_policy(void **state)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(c.first_contact, FC_AUTO);
	assert_int_equal(c.register_mode, REGISTER_CLOSED);
	assert_int_equal(c.max_held_messages, PARLEY_HELD_MSGS_DEFAULT);
	assert_int_equal(c.max_held_bytes, PARLEY_HELD_BYTES_DEFAULT);
	assert_int_equal(c.max_first_contacts_per_hour,
	    PARLEY_FIRST_CONTACTS_HOUR_DEFAULT);
	assert_int_equal(c.first_contact_domains.n, 0);
	config_free(&c);

	assert_int_equal(load(&c, "[policy]\nfirst_contact = contacts\n"
	    "first_contact_domains = A.example. , b.example\n"
	    "max_held_messages = 7\nmax_held_bytes = 4096\n"
	    "max_first_contacts_per_hour = 20\n"
	    "[register]\nmode = invite\n", err, sizeof(err)), 0);
	assert_int_equal(c.first_contact, FC_CONTACTS);
	assert_int_equal(c.register_mode, REGISTER_INVITE);
	assert_int_equal(c.first_contact_domains.n, 2);
	assert_string_equal(c.first_contact_domains.v[0], "a.example");
	assert_string_equal(c.first_contact_domains.v[1], "b.example");
	assert_int_equal(c.max_held_messages, 7);
	assert_int_equal(c.max_held_bytes, 4096);
	assert_int_equal(c.max_first_contacts_per_hour, 20);
	config_free(&c);

	assert_int_equal(first_contact_parse("anyone"), FC_ANYONE);
	assert_int_equal(first_contact_parse("everyone"), -1);
	expect_error("[policy]\nfirst_contact = everyone\n", 2,
	    "[policy] first_contact: must be auto, contacts, domain or "
	    "anyone");
	expect_error("[register]\nmode = yes\n", 2,
	    "[register] mode: must be closed, invite or open");
	expect_error("[policy]\nfirst_contact_domains = a.example,,b\n", 2,
	    "[policy] first_contact_domains: empty domain in the list");
	expect_error("[policy]\nfirst_contact_domains = not a domain\n", 2,
	    "[policy] first_contact_domains: not a domain: not a valid "
	    "domain name");
	expect_error("[policy]\nmax_held_messages = 0\n", 2,
	    "[policy] max_held_messages: must be a number from 1 to 100");
}

/* Per-account rate limits (xmpp/ratelimit.c) and the byte budget before
 * logging in. */
static void test_rate_limits(void **state)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(c.message_rate, PARLEY_MSG_RATE_DEFAULT);
	assert_int_equal(c.message_burst, PARLEY_MSG_BURST_DEFAULT);
	assert_int_equal(c.presence_rate, PARLEY_PRES_RATE_DEFAULT);
	assert_int_equal(c.presence_burst, PARLEY_PRES_BURST_DEFAULT);
	assert_int_equal(c.iq_rate, PARLEY_IQ_RATE_DEFAULT);
	assert_int_equal(c.iq_burst, PARLEY_IQ_BURST_DEFAULT);
	assert_int_equal(c.byte_rate, PARLEY_BYTE_RATE_DEFAULT);
	assert_int_equal(c.byte_burst, PARLEY_BYTE_BURST_DEFAULT);
	assert_int_equal(c.new_recipients_per_hour,
	    PARLEY_NEW_RCPT_HOUR_DEFAULT);
	assert_int_equal(c.max_unauth_bytes, PARLEY_UNAUTH_BYTES_DEFAULT);
	config_free(&c);

	assert_int_equal(load(&c, "[c2s]\nmax_unauth_bytes = 4096\n"
	    "[limits]\nmessage_rate = 1\nmessage_burst = 2\n"
	    "presence_rate = 3\npresence_burst = 4\niq_rate = 5\n"
	    "iq_burst = 6\nbyte_rate = 7\nbyte_burst = 300000\n"
	    "new_recipients_per_hour = 9\n", err, sizeof(err)), 0);
	assert_int_equal(c.max_unauth_bytes, 4096);
	assert_int_equal(c.message_rate, 1);
	assert_int_equal(c.message_burst, 2);
	assert_int_equal(c.presence_rate, 3);
	assert_int_equal(c.presence_burst, 4);
	assert_int_equal(c.iq_rate, 5);
	assert_int_equal(c.iq_burst, 6);
	assert_int_equal(c.byte_rate, 7);
	assert_int_equal(c.byte_burst, 300000);
	assert_int_equal(c.new_recipients_per_hour, 9);
	config_free(&c);

	expect_error("[limits]\nmessage_rate = 0\n", 2,
	    "[limits] message_rate: must be a number from 1 to 1000000");
	expect_error("[c2s]\nmax_unauth_bytes = 100\n", 2,
	    "[c2s] max_unauth_bytes: must be a number from 4096 to 16777216");
	/* The largest stanza must fit in the byte bucket, unless the
	 * limits are off. */
	expect_error("[limits]\nbyte_burst = 1000\nmax_stanza_size = 20000\n",
	    3, "[limits] byte_burst: must be at least max_stanza_size "
	    "(20000)");
	assert_int_equal(load(&c, "[limits]\nbyte_burst = 1000\n"
	    "rate_limits = off\n", err, sizeof(err)), 0);
	config_free(&c);
}

static void test_uploads(void **state)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(c.http_listen.n, 1);
	assert_string_equal(c.http_listen.addr[0], "127.0.0.1:5281");
	assert_int_equal(c.upload_max_file_size, PARLEY_UPLOAD_FILE_MAX_DEFAULT);
	assert_int_equal(c.upload_expire_days, 7);
	assert_int_equal(c.scan_enabled, 1);
	assert_int_equal(c.scan_fail_open, 0);
	assert_int_equal(c.p2p_allow, 0);
	assert_true(c.upload_refused_types.n > 0);
	assert_string_equal(c.upload_refused_types.v[0], "text/html");
	config_free(&c);

	assert_int_equal(load(&c, "[http]\nlisten =\nurl = https://x.example/"
	    "\n[upload]\nallowed_types = Image/png, text/plain\n"
	    "refused_types =\nquota = 5000\n[scan]\nenabled = off\n"
	    "[policy]\np2p_transfers = allow\n", err, sizeof(err)), 0);
	assert_int_equal(c.http_listen.n, 0);
	assert_string_equal(c.http_url, "https://x.example");
	assert_int_equal(c.upload_allowed_types.n, 2);
	assert_string_equal(c.upload_allowed_types.v[0], "image/png");
	assert_string_equal(c.upload_allowed_types.v[1], "text/plain");
	assert_int_equal(c.upload_refused_types.n, 0);
	assert_int_equal(c.upload_quota, 5000);
	assert_int_equal(c.scan_enabled, 0);
	assert_int_equal(c.p2p_allow, 1);
	config_free(&c);
	/* A whole type: "image/" and a star. */
	assert_int_equal(load(&c, "[upload]\nallowed_types = image/\x2a\n",
	    err, sizeof(err)), 0);
	assert_string_equal(c.upload_allowed_types.v[0], "image/\x2a");
	config_free(&c);

	expect_error("[upload]\nallowed_types = image\n", 2,
	    "[upload] allowed_types: image: not a media type like image/png "
	    "or image/\x2a");
	expect_error("[upload]\nrefused_types = a/b,\n", 2,
	    "[upload] refused_types: empty type in the list");
	expect_error("[http]\nurl = http://x\n", 2,
	    "[http] url: must be an https:// URL (printable ASCII, no quotes "
	    "or spaces)");
	expect_error("[policy]\np2p_transfers = maybe\n", 2,
	    "[policy] p2p_transfers: must be refuse or allow");
	expect_error("[upload]\nmax_file_size = 10\n", 2,
	    "[upload] max_file_size: must be a number from 1024 to 1073741824");
}

static void test_durations(void **state)
{
	unsigned long long v = 7;

	assert_int_equal(config_parse_duration("0", 100, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_duration("90", 1000, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(config_parse_duration("90s", 1000, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(config_parse_duration("15m", 100000, &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(config_parse_duration("8h", 100000, &v), 0);
	assert_int_equal(v, 28800);
	assert_int_equal(config_parse_duration("7d", 1000000, &v), 0);
	assert_int_equal(v, 604800);
	/* Malformed or too large: refused, *out untouched. */
	v = 7;
	assert_int_equal(config_parse_duration("", 100, &v), -1);
	assert_int_equal(config_parse_duration("h", 100, &v), -1);
	assert_int_equal(config_parse_duration("-1s", 100, &v), -1);
	assert_int_equal(config_parse_duration("1.5h", 100000, &v), -1);
	assert_int_equal(config_parse_duration("2w", 10000000, &v), -1);
	assert_int_equal(config_parse_duration("8 h", 100000, &v), -1);
	assert_int_equal(config_parse_duration("101", 100, &v), -1);
	assert_int_equal(config_parse_duration("2m", 100, &v), -1);
	assert_int_equal(config_parse_duration("99999999999d", ~0u, &v), -1);
	assert_int_equal(v, 7);
}

static void test_groups(void **state)
{
	struct config c;
	const struct config_group *g;
	char err[512];

	config_defaults(&c);
	assert_int_equal(c.idle_logoff, PARLEY_IDLE_LOGOFF_DEFAULT);
	assert_int_equal(c.max_session, 0);
	assert_int_equal(c.ngroups, 0);
	config_free(&c);

	assert_int_equal(load(&c,
	    "[server]\n"
	    "domain = example.org\n"
	    "admins = Alice@Example.org, bob@example.org\n"
	    "[c2s]\n"
	    "idle_logoff = 30m\n"
	    "max_session = 1d\n"
	    "[group.interns]\n"
	    "upload = deny\n"
	    "remote_contacts = deny\n"
	    "federate = Partner.example, b.example\n"
	    "archive = always\n"
	    "idle_logoff = 2s\n"
	    "max_session = 0\n"
	    "message_rate = 1\n"
	    "message_burst = 3\n"
	    "[group.empty]\n"
	    "[group.default]\n"
	    "archive = off\n"
	    "federate =\n", err, sizeof(err)), 0);
	assert_int_equal(c.idle_logoff, 1800);
	assert_int_equal(c.max_session, 86400);
	assert_int_equal(c.admins.n, 2);
	assert_string_equal(c.admins.v[0], "alice@example.org");
	assert_int_equal(c.ngroups, 3);
	g = config_group_find(&c, "interns");
	assert_non_null(g);
	assert_int_equal(g->upload, 0);
	assert_int_equal(g->remote_contacts, 0);
	assert_int_equal(g->federate.n, 2);
	assert_string_equal(g->federate.v[0], "partner.example");
	assert_int_equal(g->archive, ARCHIVE_ALWAYS);
	assert_int_equal(g->idle_logoff, 2);
	assert_int_equal(g->max_session, 0);
	assert_int_equal(g->message_rate, 1);
	assert_int_equal(g->message_burst, 3);
	assert_true(g->set & GK_MAX_SESSION);
	assert_false(g->set & GK_IQ_RATE);
	/* An empty section is a group that sets nothing. */
	g = config_group_find(&c, "empty");
	assert_non_null(g);
	assert_int_equal(g->set, 0);
	assert_int_equal(g->upload, 1);
	g = config_group_find(&c, "default");
	assert_non_null(g);
	assert_int_equal(g->archive, ARCHIVE_OFF);
	/* federate = (empty) is set: no remote domain at all. */
	assert_true(g->set & GK_FEDERATE);
	assert_int_equal(g->federate.n, 0);
	assert_null(config_group_find(&c, "Interns"));
	config_free(&c);
	config_free(&c);

	expect_error("[group.a]\nupload = maybe\n", 2,
	    "[group.a] upload: must be deny or allow");
	expect_error("[group.a]\narchive = sometimes\n", 2,
	    "[group.a] archive: must be user, off or always");
	expect_error("[group.a]\nupload = deny\nupload = allow\n", 3,
	    "[group.a] upload: duplicate key");
	expect_error("[group.a]\nquota = 1\n", 2,
	    "[group.a] quota: unknown key");
	expect_error("[group.a]\nidle_logoff = 8 hours\n", 2,
	    "[group.a] idle_logoff: must be a duration from 0s to 365d "
	    "(a number with s, m, h or d), or off");
	expect_error("[group.a]\nmessage_rate = 0\n", 2,
	    "[group.a] message_rate: must be a number from 1 to 1000000");
	expect_error("[group.]\n", 1, "[group.]: unknown section");
	expect_error("[group.a b]\n", 1, "[group.a b]: a group name is 1 to "
	    "32 letters, digits, '-' or '_'");
	expect_error("[group.a]\nfederate = not a domain!\n", 2,
	    "[group.a] federate: not a domain!: not a valid domain name");
	expect_error("[group.a]\nbyte_burst = 1000\n", 1,
	    "[group.a] byte_burst: must be at least max_stanza_size "
	    "(262144)");
	expect_error("[c2s]\nidle_logoff = 366d\n", 2,
	    "[c2s] idle_logoff: must be a duration from 0s to 365d "
	    "(a number with s, m, h or d), or off");
	expect_error("[server]\nadmins = alice\n", 2,
	    "[server] admins: alice: not a bare JID like alice@localhost");
	expect_error("[server]\nadmins = a@localhost/res\n", 2,
	    "[server] admins: a@localhost/res: not a bare JID like "
	    "alice@localhost");
	expect_error("[server]\nadmins = a@elsewhere\n", 2,
	    "[server] admins: a@elsewhere: not an account of localhost");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_cannot_open),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_bad_number),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_boolean),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_cert_without_key),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_listen_list),
		cmocka_unit_test(test_indented_line_not_continuation),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_finish_paths),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_uploads),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_groups),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
