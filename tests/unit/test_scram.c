/* test_scram.c - SCRAM server side (xmpp/scram.c) against RFC 5802/7677. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "xmpp/scram.h"

struct vector {
	enum scram_hash	 hash;
	const char	*salt_b64;
	const char	*snonce;
	const char	*cfirst;
	const char	*sfirst;
	const char	*cfinal;
	const char	*sfinal;
};

/* RFC 5802 section 5 */
static const struct vector rfc5802 = {
	SCRAM_SHA1, "QSXCR+Q6sek8bf92", "3rfcNHYJY1ZVvWVs7j",
	"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	    "i=4096",
	"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

/* RFC 7677 section 3 */
static const struct vector rfc7677 = {
	SCRAM_SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==",
	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

static void creds_for(const struct vector *v, struct scram_creds *c)
{
	struct buf salt = BUF_INIT;

	assert_int_equal(base64_decode(v->salt_b64, strlen(v->salt_b64),
	    &salt), 0);
	assert_int_equal(scram_creds_make_with_salt(v->hash, "pencil", 6,
	    (unsigned char *)salt.data, salt.len, 4096, c), 0);
	buf_free(&salt);
}

static enum scram_rc first(struct scram_server *s, const char *msg)
{
	const char *user;

	return scram_server_client_first(s, msg, strlen(msg), &user);
}

static enum scram_rc final(struct scram_server *s, const char *msg,
    struct buf *out)
{
	return scram_server_client_final(s, msg, strlen(msg), out);
}

static void run_vector(const struct vector *v)
{
	struct scram_creds c;
	struct scram_server *s = scram_server_new(v->hash);
	struct buf out = BUF_INIT;
	const char *user = NULL;

	creds_for(v, &c);
	assert_int_equal(scram_server_client_first(s, v->cfirst,
	    strlen(v->cfirst), &user), SCRAM_OK);
	assert_string_equal(user, "user");
	scram_server_set_nonce(s, v->snonce);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	assert_string_equal(buf_str(&out), v->sfirst);
	buf_reset(&out);
	assert_int_equal(final(s, v->cfinal, &out), SCRAM_OK);
	assert_string_equal(buf_str(&out), v->sfinal);
	/* done: nothing more is accepted */
	assert_int_equal(final(s, v->cfinal, &out), SCRAM_ERR_STATE);
	buf_free(&out);
	scram_server_free(s);
}

static void test_rfc5802(void **state)
{
	(void)state;
	run_vector(&rfc5802);
}

static void test_rfc7677(void **state)
{
	(void)state;
	run_vector(&rfc7677);
}

/* Runs the RFC 7677 exchange with a replaced client-final. */
static enum scram_rc with_final(const char *cfinal)
{
	struct scram_creds c;
	struct scram_server *s = scram_server_new(SCRAM_SHA256);
	struct buf out = BUF_INIT;
	enum scram_rc rc;

	creds_for(&rfc7677, &c);
	assert_int_equal(first(s, rfc7677.cfirst), SCRAM_OK);
	scram_server_set_nonce(s, rfc7677.snonce);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	buf_reset(&out);
	rc = final(s, cfinal, &out);
	if (rc != SCRAM_OK)
		assert_int_equal(out.len, 0);
	/* whatever happened, the exchange is over */
	assert_int_equal(final(s, rfc7677.cfinal, &out), SCRAM_ERR_STATE);
	buf_free(&out);
	scram_server_free(s);
	return rc;
}

#define N7677 "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define P7677 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

static void test_final_errors(void **state)
{
	(void)state;
	/* one bit of the proof flipped */
	assert_int_equal(with_final("c=biws," N7677
	    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVU="),
	    SCRAM_ERR_PROOF);
	assert_int_equal(with_final("c=biws,"
	    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1," P7677),
	    SCRAM_ERR_NONCE);
	assert_int_equal(with_final("c=biws,r=rOprNGfwEbeRWgbNEkqO," P7677),
	    SCRAM_ERR_NONCE);
	/* "y,," and "n,a=user," are not what the client sent first */
	assert_int_equal(with_final("c=eSws," N7677 "," P7677), SCRAM_ERR_CB);
	assert_int_equal(with_final("c=biwsAAAA," N7677 "," P7677),
	    SCRAM_ERR_CB);
	assert_int_equal(with_final("c=," N7677 "," P7677), SCRAM_ERR_CB);
	/* malformed */
	assert_int_equal(with_final(""), SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws"), SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677), SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final(N7677 ",c=biws," P7677),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," P7677 "," N7677),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 "," P7677 ",x=1"),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 "," P7677 ","),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 ",m=x," P7677),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 ",," P7677),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 ",p="),
	    SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677 ",p=dHzb"),
	    SCRAM_ERR_MALFORMED);	/* short proof */
	assert_int_equal(with_final("c=biws," N7677
	    ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), SCRAM_ERR_MALFORMED);
	assert_int_equal(with_final("c=biws," N7677
	    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ"),
	    SCRAM_ERR_MALFORMED);	/* no padding */
	assert_int_equal(with_final("c=biws," N7677
	    ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR="),
	    SCRAM_ERR_MALFORMED);	/* non-canonical */
	assert_int_equal(with_final("C=biws," N7677 "," P7677),
	    SCRAM_ERR_MALFORMED);
	/* an unknown extension before the proof is allowed, yet it is part
	 * of AuthMessage, so the RFC proof no longer matches */
	assert_int_equal(with_final("c=biws," N7677 ",x=y," P7677),
	    SCRAM_ERR_PROOF);
	/* the RFC message itself, as a control */
	assert_int_equal(with_final(rfc7677.cfinal), SCRAM_OK);
}

static void test_final_nul_and_size(void **state)
{
	struct scram_creds c;
	struct scram_server *s;
	struct buf out = BUF_INIT;
	char big[5000];

	(void)state;
	creds_for(&rfc7677, &c);
	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, rfc7677.cfirst), SCRAM_OK);
	scram_server_set_nonce(s, rfc7677.snonce);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	/* the RFC message plus a NUL counted in the length */
	assert_int_equal(scram_server_client_final(s, rfc7677.cfinal,
	    strlen(rfc7677.cfinal) + 1, &out), SCRAM_ERR_MALFORMED);
	scram_server_free(s);

	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, rfc7677.cfirst), SCRAM_OK);
	buf_reset(&out);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	memset(big, 'x', sizeof(big));
	memcpy(big, "c=biws,r=", 9);
	assert_int_equal(scram_server_client_final(s, big, sizeof(big), &out),
	    SCRAM_ERR_MALFORMED);
	scram_server_free(s);
	buf_free(&out);
}

static void test_unknown_user(void **state)
{
	struct scram_server *s;
	struct buf a = BUF_INIT, b = BUF_INIT, o = BUF_INIT, fin = BUF_INIT;
	char *salt_a, *salt_b, *salt_c;
	const char *p;

	(void)state;
	/* same username, same decoy salt, different nonce */
	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, "n,,n=ghost,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, NULL, 4096, &a), SCRAM_OK);
	/* run to the end: the proof fails just as a wrong password would */
	p = strstr(a.data, ",s=");
	assert_non_null(p);
	buf_puts(&fin, "c=biws,");
	buf_append(&fin, a.data, (size_t)(p - a.data));
	buf_puts(&fin, ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_int_equal(final(s, fin.data, &o), SCRAM_ERR_PROOF);
	assert_int_equal(o.len, 0);
	scram_server_free(s);

	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, "n,,n=ghost,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, NULL, 4096, &b), SCRAM_OK);
	scram_server_free(s);
	assert_string_not_equal(a.data, b.data);	/* fresh s-nonce */
	salt_a = strstr(a.data, ",s=");
	salt_b = strstr(b.data, ",s=");
	assert_non_null(salt_a);
	assert_non_null(salt_b);
	assert_string_equal(salt_a, salt_b);
	assert_non_null(strstr(salt_a, ",i=4096"));
	/* a 16-byte salt: 24 Base64 characters */
	assert_int_equal(strchr(salt_a + 3, ',') - (salt_a + 3), 24);

	/* another username, another salt */
	buf_reset(&b);
	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, "n,,n=ghost2,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, NULL, 10000, &b), SCRAM_OK);
	scram_server_free(s);
	salt_c = strstr(b.data, ",s=");
	assert_non_null(salt_c);
	assert_memory_not_equal(salt_a, salt_c, 27);
	assert_non_null(strstr(salt_c, ",i=10000"));

	/* same username, other mechanism: other salt */
	buf_reset(&b);
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(first(s, "n,,n=ghost,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, NULL, 4096, &b), SCRAM_OK);
	scram_server_free(s);
	salt_c = strstr(b.data, ",s=");
	assert_non_null(salt_c);
	assert_memory_not_equal(salt_a, salt_c, 27);

	buf_free(&a);
	buf_free(&b);
	buf_free(&o);
	buf_free(&fin);
}

/* The decoy refuses even the proof that a real "pencil" account takes. */
static void test_unknown_user_rfc(void **state)
{
	struct scram_server *s = scram_server_new(SCRAM_SHA1);
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	scram_server_set_nonce(s, rfc5802.snonce);
	assert_int_equal(scram_server_first(s, NULL, 4096, &out), SCRAM_OK);
	assert_int_equal(strncmp(out.data, rfc5802.sfirst, 46), 0);
	buf_reset(&out);
	assert_int_equal(final(s, rfc5802.cfinal, &out), SCRAM_ERR_PROOF);
	scram_server_free(s);
	buf_free(&out);
}

static void test_wrong_password(void **state)
{
	struct scram_creds c;
	struct buf salt = BUF_INIT, out = BUF_INIT;
	struct scram_server *s = scram_server_new(SCRAM_SHA1);

	(void)state;
	assert_int_equal(base64_decode(rfc5802.salt_b64,
	    strlen(rfc5802.salt_b64), &salt), 0);
	assert_int_equal(scram_creds_make_with_salt(SCRAM_SHA1, "pencil!", 7,
	    (unsigned char *)salt.data, salt.len, 4096, &c), 0);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	scram_server_set_nonce(s, rfc5802.snonce);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	/* same salt and nonce, so the server-first is the RFC's */
	assert_string_equal(buf_str(&out), rfc5802.sfirst);
	buf_reset(&out);
	assert_int_equal(final(s, rfc5802.cfinal, &out), SCRAM_ERR_PROOF);
	assert_int_equal(out.len, 0);
	scram_server_free(s);
	buf_free(&salt);
	buf_free(&out);
}

static void test_client_first(void **state)
{
	static const struct {
		const char	*msg;
		enum scram_rc	 rc;
		const char	*user;
	} cases[] = {
		{ "n,,n=user,r=abc", SCRAM_OK, "user" },
		{ "y,,n=user,r=abc", SCRAM_OK, "user" },
		{ "n,a=user,n=user,r=abc", SCRAM_OK, "user" },
		{ "n,a=a=2Cb,n=a=2Cb,r=abc", SCRAM_OK, "a,b" },
		{ "n,,n=a=3Db=2C,r=abc", SCRAM_OK, "a=b," },
		{ "n,,n=\xc3\xa9l\xc3\xa8ve,r=abc", SCRAM_OK,
		    "\xc3\xa9l\xc3\xa8ve" },
		{ "n,,n=user,r=abc,x=1,y=2", SCRAM_OK, "user" },
		{ "n,,n=user,r=!\"#$%&'()*+-./09:;<=>?@AZ[\\]^_`az{|}~",
		    SCRAM_OK, "user" },
		{ "p=tls-unique,,n=user,r=abc", SCRAM_ERR_CB, NULL },
		{ "p=tls-exporter,a=user,n=user,r=abc", SCRAM_ERR_CB, NULL },
		{ "n,a=admin,n=user,r=abc", SCRAM_ERR_AUTHZID, NULL },
		{ "n,a=User,n=user,r=abc", SCRAM_ERR_AUTHZID, NULL },
		{ "n,a=user=2C,n=user,r=abc", SCRAM_ERR_AUTHZID, NULL },
		{ "", SCRAM_ERR_MALFORMED, NULL },
		{ "n", SCRAM_ERR_MALFORMED, NULL },
		{ "n,", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,", SCRAM_ERR_MALFORMED, NULL },
		{ "x,,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "p,,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "N,,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,r=abc,n=user", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,a=,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,b=user,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,a=user,,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,m=ext,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,m=ext", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,x", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,x=", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,1=2", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=abc,,x=1", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=us=2Der=,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=us=2cer,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=us=41er,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user=,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user=2,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,a=us=xer,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=\xc0\x80,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=\xed\xa0\x80,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=\xff,r=abc", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=a b", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=a\x7f", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=\xc3\xa9", SCRAM_ERR_MALFORMED, NULL },
		{ "n,,n=user,r=a\tb", SCRAM_ERR_MALFORMED, NULL },
		{ " n,,n=user,r=abc", SCRAM_ERR_MALFORMED, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scram_server *s = scram_server_new(SCRAM_SHA256);
		const char *user = "unset";
		enum scram_rc rc = scram_server_client_first(s, cases[i].msg,
		    strlen(cases[i].msg), &user);

		if (rc != cases[i].rc)
			fail_msg("\"%s\": rc %d, want %d", cases[i].msg, rc,
			    cases[i].rc);
		if (cases[i].user != NULL)
			assert_string_equal(user, cases[i].user);
		else
			assert_null(user);
		if (rc != SCRAM_OK) {
			struct buf out = BUF_INIT;

			assert_int_equal(scram_server_first(s, NULL, 4096,
			    &out), SCRAM_ERR_STATE);
			assert_int_equal(out.len, 0);
		}
		scram_server_free(s);
	}
}

/* Builds an attribute value of n copies of c into a fresh message. */
static char *msg_with(const char *prefix, char c, size_t n,
    const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *m = malloc(pl + n + sl + 1);

	assert_non_null(m);
	memcpy(m, prefix, pl);
	memset(m + pl, c, n);
	memcpy(m + pl + n, suffix, sl + 1);
	return m;
}

static enum scram_rc first_free(char *m)
{
	struct scram_server *s = scram_server_new(SCRAM_SHA1);
	enum scram_rc rc = first(s, m);

	scram_server_free(s);
	free(m);
	return rc;
}

static void test_client_first_limits(void **state)
{
	struct scram_server *s;

	(void)state;
	assert_int_equal(first_free(msg_with("n,,n=", 'u', 1023, ",r=abc")),
	    SCRAM_OK);
	assert_int_equal(first_free(msg_with("n,,n=", 'u', 1024, ",r=abc")),
	    SCRAM_ERR_MALFORMED);
	/* escapes count once decoded */
	assert_int_equal(first_free(msg_with("n,,n==2C", 'u', 1022,
	    ",r=abc")), SCRAM_OK);
	assert_int_equal(first_free(msg_with("n,,n=user,r=", 'r', 512, "")),
	    SCRAM_OK);
	assert_int_equal(first_free(msg_with("n,,n=user,r=", 'r', 513, "")),
	    SCRAM_ERR_MALFORMED);
	/* total size: 4096 bytes is fine, 4097 is not */
	assert_int_equal(first_free(msg_with("n,,n=user,r=abc,x=", 'x',
	    4096 - 18, "")), SCRAM_OK);
	assert_int_equal(first_free(msg_with("n,,n=user,r=abc,x=", 'x',
	    4097 - 18, "")), SCRAM_ERR_MALFORMED);

	/* NUL inside, counted in the length */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(scram_server_client_first(s, "n,,n=us\0er,r=abc",
	    16, NULL), SCRAM_ERR_MALFORMED);
	scram_server_free(s);
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(scram_server_client_first(s, "n,,n=user,r=abc\0",
	    16, NULL), SCRAM_ERR_MALFORMED);
	scram_server_free(s);
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(scram_server_client_first(s, "", 0, NULL),
	    SCRAM_ERR_MALFORMED);
	scram_server_free(s);
}

static void test_authzid_full(void **state)
{
	struct scram_creds c;
	struct scram_server *s = scram_server_new(SCRAM_SHA256);
	struct buf out = BUF_INIT, gs2 = BUF_INIT, fin = BUF_INIT;
	const char *p;

	(void)state;
	/* with an authzid, c= must carry that exact header */
	creds_for(&rfc7677, &c);
	assert_int_equal(first(s, "y,a=user,n=user,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	p = strchr(out.data, ',');
	base64_encode("y,a=user,", 9, &gs2);
	buf_puts(&fin, "c=biws,");
	buf_append(&fin, out.data, (size_t)(p - out.data));
	buf_puts(&fin, ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_int_equal(final(s, fin.data, &out), SCRAM_ERR_CB);
	scram_server_free(s);

	s = scram_server_new(SCRAM_SHA256);
	buf_reset(&out);
	buf_reset(&fin);
	assert_int_equal(first(s, "y,a=user,n=user,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	p = strchr(out.data, ',');
	buf_puts(&fin, "c=");
	buf_append(&fin, gs2.data, gs2.len);
	buf_putc(&fin, ',');
	buf_append(&fin, out.data, (size_t)(p - out.data));
	/* right header, so the (wrong) proof is what fails */
	buf_puts(&fin, ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_int_equal(final(s, fin.data, &out), SCRAM_ERR_PROOF);
	scram_server_free(s);
	buf_free(&out);
	buf_free(&gs2);
	buf_free(&fin);
}

static void test_order(void **state)
{
	struct scram_creds c;
	struct scram_server *s;
	struct buf out = BUF_INIT;

	(void)state;
	creds_for(&rfc5802, &c);
	/* server-first before client-first */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_ERR_STATE);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_ERR_STATE);
	scram_server_free(s);
	/* client-final before server-first */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(final(s, rfc5802.cfinal, &out), SCRAM_ERR_STATE);
	scram_server_free(s);
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	assert_int_equal(final(s, rfc5802.cfinal, &out), SCRAM_ERR_STATE);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_ERR_STATE);
	scram_server_free(s);
	/* client-first twice */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_ERR_STATE);
	scram_server_free(s);
	/* server-first twice */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	scram_server_set_nonce(s, rfc5802.snonce);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_ERR_STATE);
	assert_int_equal(final(s, rfc5802.cfinal, &out), SCRAM_ERR_STATE);
	scram_server_free(s);
	/* after a failed client-first, nothing */
	s = scram_server_new(SCRAM_SHA1);
	assert_int_equal(first(s, "bogus"), SCRAM_ERR_MALFORMED);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_ERR_STATE);
	scram_server_free(s);
	/* credentials of the other mechanism are refused */
	s = scram_server_new(SCRAM_SHA256);
	assert_int_equal(first(s, rfc5802.cfirst), SCRAM_OK);
	buf_reset(&out);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_ERR_STATE);
	assert_int_equal(out.len, 0);
	scram_server_free(s);
	buf_free(&out);
	scram_server_free(NULL);
}

static void test_random_nonce(void **state)
{
	struct scram_creds c;
	struct scram_server *s = scram_server_new(SCRAM_SHA1);
	struct buf out = BUF_INIT;
	const char *p;
	size_t i;

	(void)state;
	creds_for(&rfc5802, &c);
	assert_int_equal(first(s, "n,,n=user,r=abc"), SCRAM_OK);
	assert_int_equal(scram_server_first(s, &c, 0, &out), SCRAM_OK);
	assert_int_equal(strncmp(out.data, "r=abc", 5), 0);
	p = strchr(out.data, ',');
	assert_int_equal(p - out.data, 5 + 32);	/* 24 bytes in Base64 */
	for (i = 2; out.data + i < p; i++)
		assert_true(out.data[i] > 0x20 && out.data[i] < 0x7f);
	assert_string_equal(p, ",s=QSXCR+Q6sek8bf92,i=4096");
	scram_server_free(s);
	buf_free(&out);
}

static void test_creds(void **state)
{
	struct scram_creds a, b, v;
	struct buf salt = BUF_INIT, k = BUF_INIT;

	(void)state;
	assert_int_equal(scram_key_len(SCRAM_SHA1), 20);
	assert_int_equal(scram_key_len(SCRAM_SHA256), 32);
	assert_string_equal(scram_mech_name(SCRAM_SHA1), "SCRAM-SHA-1");
	assert_string_equal(scram_mech_name(SCRAM_SHA256), "SCRAM-SHA-256");

	assert_int_equal(scram_creds_make(SCRAM_SHA256, "pencil", 6, 4096,
	    &a), 0);
	assert_int_equal(scram_creds_make(SCRAM_SHA256, "pencil", 6, 4096,
	    &b), 0);
	assert_int_equal(a.salt_len, SCRAM_SALT_LEN);
	assert_int_equal(a.iterations, 4096);
	assert_int_equal(a.hash, SCRAM_SHA256);
	assert_memory_not_equal(a.salt, b.salt, SCRAM_SALT_LEN);
	assert_memory_not_equal(a.stored_key, b.stored_key, 32);
	assert_true(scram_check_password(&a, "pencil", 6));
	assert_true(scram_check_password(&b, "pencil", 6));
	assert_false(scram_check_password(&a, "pencil", 5));
	assert_false(scram_check_password(&a, "Pencil", 6));
	assert_false(scram_check_password(&a, "", 0));

	assert_int_equal(scram_creds_make(SCRAM_SHA1, "", 0, 4096, &a), 0);
	assert_true(scram_check_password(&a, "", 0));
	assert_false(scram_check_password(&a, "x", 1));
	assert_int_equal(scram_creds_make(SCRAM_SHA1, "x", 1, 0, &a), -1);

	/* the RFC 7677 credentials: ServerKey gives the RFC's verifier */
	creds_for(&rfc7677, &v);
	assert_true(scram_check_password(&v, "pencil", 6));
	assert_false(scram_check_password(&v, "pencil ", 7));
	assert_int_equal(base64_decode(rfc7677.salt_b64,
	    strlen(rfc7677.salt_b64), &salt), 0);
	assert_int_equal(v.salt_len, 16);
	assert_memory_equal(v.salt, salt.data, 16);
	base64_encode(v.stored_key, 32, &k);
	assert_int_equal(k.len, 44);
	/* salt too long for the struct */
	assert_int_equal(scram_creds_make_with_salt(SCRAM_SHA1, "x", 1,
	    (const unsigned char *)"0123456789abcdefg", 17, 4096, &a), -1);
	assert_int_equal(scram_creds_make_with_salt(SCRAM_SHA1, "x", 1,
	    (const unsigned char *)"", 0, 4096, &a), -1);
	buf_free(&salt);
	buf_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5802),
		cmocka_unit_test(test_rfc7677),
		cmocka_unit_test(test_final_errors),
		cmocka_unit_test(test_final_nul_and_size),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_unknown_user_rfc),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_client_first),
		cmocka_unit_test(test_client_first_limits),
		cmocka_unit_test(test_authzid_full),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_random_nonce),
		cmocka_unit_test(test_creds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
