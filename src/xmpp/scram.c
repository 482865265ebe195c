/* scram.c - see scram.h. */
#include "xmpp/scram.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "core/log.h"

#define NONCE_MAX	512	/* client nonce bytes; real clients send ~32 */
#define SNONCE_RAW	24	/* random bytes behind the server nonce */
#define SECRET_LEN	32

enum scram_state {
	ST_START,		/* waiting for client-first */
	ST_CLIENT_FIRST,	/* client-first parsed, server-first not sent */
	ST_SERVER_FIRST,	/* waiting for client-final */
	ST_DONE,		/* succeeded */
	ST_DEAD,		/* failed: every further step is refused */
};

struct scram_server {
	enum scram_hash	 hash;
	enum scram_state state;
	int		 decoy;		/* unknown user: the proof must fail */
	char		*username;
	char		*fixed_snonce;	/* tests only */
	struct buf	 gs2_header;	/* exactly as received */
	struct buf	 cfirst_bare;
	struct buf	 cnonce;
	struct buf	 nonce;		/* c-nonce + s-nonce */
	struct buf	 sfirst;
	unsigned char	 stored_key[SCRAM_KEY_MAX];
	unsigned char	 server_key[SCRAM_KEY_MAX];
};

static const EVP_MD *md_of(enum scram_hash h)
{
	return h == SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

size_t scram_key_len(enum scram_hash h)
{
	return h == SCRAM_SHA1 ? 20 : 32;
}

const char *scram_mech_name(enum scram_hash h)
{
	return h == SCRAM_SHA1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

static int hmac(enum scram_hash h, const unsigned char *key, size_t keylen,
    const void *data, size_t len, unsigned char *out)
{
	unsigned int olen = 0;

	if (HMAC(md_of(h), key, (int)keylen, data, len, out, &olen) == NULL ||
	    olen != scram_key_len(h))
		return -1;
	return 0;
}

static int digest(enum scram_hash h, const void *data, size_t len,
    unsigned char *out)
{
	unsigned int olen = 0;

	if (EVP_Digest(data, len, out, &olen, md_of(h), NULL) != 1 ||
	    olen != scram_key_len(h))
		return -1;
	return 0;
}

/* SaltedPassword = Hi(password, salt, i), RFC 5802 section 2.2. */
static int salted_password(enum scram_hash h, const char *pw, size_t len,
    const unsigned char *salt, size_t salt_len, unsigned iterations,
    unsigned char *out)
{
	if (iterations == 0 || iterations > INT_MAX || len > INT_MAX)
		return -1;
	if (PKCS5_PBKDF2_HMAC(len ? pw : "", (int)len, salt, (int)salt_len,
	    (int)iterations, md_of(h), (int)scram_key_len(h), out) != 1)
		return -1;
	return 0;
}

int scram_creds_make_with_salt(enum scram_hash h, const char *password,
    size_t len, const unsigned char *salt, size_t salt_len,
    unsigned iterations, struct scram_creds *out)
{
	unsigned char salted[SCRAM_KEY_MAX], ckey[SCRAM_KEY_MAX];
	size_t klen = scram_key_len(h);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (salt_len == 0 || salt_len > SCRAM_SALT_LEN)
		return -1;
	if (salted_password(h, password, len, salt, salt_len, iterations,
	    salted) != 0)
		goto done;
	if (hmac(h, salted, klen, "Client Key", 10, ckey) != 0 ||
	    digest(h, ckey, klen, out->stored_key) != 0 ||
	    hmac(h, salted, klen, "Server Key", 10, out->server_key) != 0)
		goto done;
	out->hash = h;
	out->iterations = iterations;
	out->salt_len = salt_len;
	memcpy(out->salt, salt, salt_len);
	rc = 0;
done:
	wipe(salted, sizeof(salted));
	wipe(ckey, sizeof(ckey));
	if (rc != 0)
		wipe(out, sizeof(*out));
	return rc;
}

int scram_creds_make(enum scram_hash h, const char *password, size_t len,
    unsigned iterations, struct scram_creds *out)
{
	unsigned char salt[SCRAM_SALT_LEN];

	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return scram_creds_make_with_salt(h, password, len, salt, sizeof(salt),
	    iterations, out);
}

int scram_check_password(const struct scram_creds *creds,
    const char *password, size_t len)
{
	struct scram_creds tmp;
	int ok;

	if (scram_creds_make_with_salt(creds->hash, password, len, creds->salt,
	    creds->salt_len, creds->iterations, &tmp) != 0)
		return 0;
	ok = CRYPTO_memcmp(tmp.stored_key, creds->stored_key,
	    scram_key_len(creds->hash)) == 0;
	wipe(&tmp, sizeof(tmp));
	return ok;
}

/*
 * The per-process secret behind decoy salts: an unknown user gets the same
 * salt on every attempt (as a real one would), yet nobody outside can
 * compute it.  A mutex rather than pthread_once so a failed RAND_bytes is
 * retried next time.
 */
static pthread_mutex_t secret_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char process_secret[SECRET_LEN];
static int secret_made;

static int get_secret(unsigned char *out)
{
	int rc = 0;

	pthread_mutex_lock(&secret_mu);
	if (!secret_made) {
		if (RAND_bytes(process_secret, sizeof(process_secret)) == 1)
			secret_made = 1;
		else
			rc = -1;
	}
	if (rc == 0)
		memcpy(out, process_secret, SECRET_LEN);
	pthread_mutex_unlock(&secret_mu);
	return rc;
}

struct scram_server *scram_server_new(enum scram_hash h)
{
	struct scram_server *s = xcalloc(1, sizeof(*s));

	s->hash = h;
	s->state = ST_START;
	buf_init(&s->gs2_header);
	buf_init(&s->cfirst_bare);
	buf_init(&s->cnonce);
	buf_init(&s->nonce);
	buf_init(&s->sfirst);
	return s;
}

void scram_server_free(struct scram_server *s)
{
	if (s == NULL)
		return;
	free(s->username);
	free(s->fixed_snonce);
	buf_free(&s->gs2_header);
	buf_free(&s->cfirst_bare);
	buf_free(&s->cnonce);
	buf_free(&s->nonce);
	buf_free(&s->sfirst);
	wipe(s, sizeof(*s));
	free(s);
}

void scram_server_set_nonce(struct scram_server *s, const char *snonce)
{
	free(s->fixed_snonce);
	s->fixed_snonce = snonce != NULL ? xstrdup(snonce) : NULL;
}

static enum scram_rc fail(struct scram_server *s, enum scram_rc rc)
{
	s->state = ST_DEAD;
	wipe(s->stored_key, sizeof(s->stored_key));
	wipe(s->server_key, sizeof(s->server_key));
	return rc;
}

/* A cursor over one SCRAM message: attributes separated by ','. */
struct cur {
	const char	*p;
	const char	*end;
};

/* Length of the value starting at c->p, up to the next ',' or the end. */
static size_t value_len(const struct cur *c)
{
	const char *q = memchr(c->p, ',', (size_t)(c->end - c->p));

	return (size_t)((q != NULL ? q : c->end) - c->p);
}

/* Consumes "X=" where X is the attribute letter wanted. */
static int want_attr(struct cur *c, char attr)
{
	if (c->end - c->p < 2 || c->p[0] != attr || c->p[1] != '=')
		return -1;
	c->p += 2;
	return 0;
}

/* Consumes a ',' separator; 1 if one was there, 0 at the end, -1 else. */
static int next_attr(struct cur *c)
{
	if (c->p == c->end)
		return 0;
	if (*c->p != ',')
		return -1;
	c->p++;
	return 1;
}

/* Decodes a saslname (RFC 5802 5.1: "=2C" is ',', "=3D" is '='). */
static int saslname(struct cur *c, struct buf *out)
{
	size_t n = value_len(c), i;

	for (i = 0; i < n; i++) {
		if (c->p[i] != '=') {
			buf_putc(out, c->p[i]);
			continue;
		}
		if (n - i < 3)
			return -1;
		if (c->p[i + 1] == '2' && c->p[i + 2] == 'C')
			buf_putc(out, ',');
		else if (c->p[i + 1] == '3' && c->p[i + 2] == 'D')
			buf_putc(out, '=');
		else
			return -1;
		i += 2;
	}
	c->p += n;
	if (out->len == 0 || out->len > PARLEY_JID_PART_MAX ||
	    !utf8_valid((const unsigned char *)out->data, out->len))
		return -1;
	return 0;
}

/* An extension (attr-val: ALPHA "=" value); "m=" is reserved, so fatal. */
static int extension(struct cur *c)
{
	char a = c->p < c->end ? *c->p : '\0';
	size_t n;

	if (!((a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z')) || a == 'm')
		return -1;
	if (c->end - c->p < 2 || c->p[1] != '=')
		return -1;
	c->p += 2;
	if ((n = value_len(c)) == 0)
		return -1;
	c->p += n;
	return 0;
}

static int nonce_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > NONCE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e ||
		    p[i] == ',')
			return 0;
	return 1;
}

static enum scram_rc parse_client_first(struct scram_server *s,
    const char *msg, size_t len)
{
	struct cur c = { msg, msg + len };
	struct buf authzid = BUF_INIT, user = BUF_INIT;
	enum scram_rc rc = SCRAM_ERR_MALFORMED;
	size_t n;
	int more;

	/* gs2-cbind-flag */
	if (len >= 2 && msg[0] == 'p' && msg[1] == '=')
		return SCRAM_ERR_CB;
	if (len < 2 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
		return SCRAM_ERR_MALFORMED;
	c.p += 2;
	/* [authzid] "," */
	if (c.p < c.end && *c.p != ',') {
		if (want_attr(&c, 'a') != 0 || saslname(&c, &authzid) != 0)
			goto out;
	}
	if (next_attr(&c) != 1)
		goto out;
	buf_append(&s->gs2_header, msg, (size_t)(c.p - msg));
	buf_append(&s->cfirst_bare, c.p, (size_t)(c.end - c.p));

	/* client-first-message-bare; a leading "m=" fails in want_attr. */
	if (want_attr(&c, 'n') != 0 || saslname(&c, &user) != 0)
		goto out;
	if (next_attr(&c) != 1 || want_attr(&c, 'r') != 0)
		goto out;
	n = value_len(&c);
	if (!nonce_ok(c.p, n))
		goto out;
	buf_append(&s->cnonce, c.p, n);
	c.p += n;
	while ((more = next_attr(&c)) == 1)
		if (extension(&c) != 0)
			goto out;
	if (more != 0)
		goto out;
	if (authzid.data != NULL && (authzid.len != user.len ||
	    memcmp(authzid.data, user.data, user.len) != 0)) {
		rc = SCRAM_ERR_AUTHZID;
		goto out;
	}
	s->username = buf_steal(&user);
	rc = SCRAM_OK;
out:
	buf_free(&authzid);
	buf_free(&user);
	return rc;
}

enum scram_rc scram_server_client_first(struct scram_server *s,
    const char *msg, size_t len, const char **username)
{
	enum scram_rc rc;

	if (username != NULL)
		*username = NULL;
	if (s->state != ST_START)
		return fail(s, SCRAM_ERR_STATE);
	if (msg == NULL || len == 0 || len > PARLEY_SASL_MSG_MAX ||
	    memchr(msg, '\0', len) != NULL)
		return fail(s, SCRAM_ERR_MALFORMED);
	if ((rc = parse_client_first(s, msg, len)) != SCRAM_OK)
		return fail(s, rc);
	s->state = ST_CLIENT_FIRST;
	if (username != NULL)
		*username = s->username;
	return SCRAM_OK;
}

/*
 * Decoy salt for an unknown user: stable per (mechanism, username) so that
 * repeated probes see what a real account would show.  The NUL keeps
 * "SCRAM-SHA-1" + "256x" apart from "SCRAM-SHA-256" + "x".
 */
static int decoy_salt(struct scram_server *s, unsigned char *salt)
{
	unsigned char secret[SECRET_LEN], mac[32];
	const char *mech = scram_mech_name(s->hash);
	struct buf in = BUF_INIT;
	int rc = -1;

	if (get_secret(secret) != 0)
		goto done;
	buf_append(&in, mech, strlen(mech) + 1);
	buf_puts(&in, s->username);
	if (hmac(SCRAM_SHA256, secret, sizeof(secret), in.data, in.len,
	    mac) != 0)
		goto done;
	memcpy(salt, mac, SCRAM_SALT_LEN);
	rc = 0;
done:
	wipe(secret, sizeof(secret));
	wipe(mac, sizeof(mac));
	buf_free(&in);
	return rc;
}

enum scram_rc scram_server_first(struct scram_server *s,
    const struct scram_creds *creds, unsigned decoy_iterations,
    struct buf *out)
{
	unsigned char salt[SCRAM_SALT_LEN], raw[SNONCE_RAW];
	size_t salt_len, klen = scram_key_len(s->hash);
	struct buf snonce = BUF_INIT;
	unsigned iterations;

	if (s->state != ST_CLIENT_FIRST)
		return fail(s, SCRAM_ERR_STATE);
	if (creds != NULL) {
		/* Credentials of the other mechanism are the caller's bug. */
		if (creds->hash != s->hash || creds->salt_len == 0 ||
		    creds->salt_len > SCRAM_SALT_LEN || creds->iterations == 0)
			return fail(s, SCRAM_ERR_STATE);
		salt_len = creds->salt_len;
		memcpy(salt, creds->salt, salt_len);
		iterations = creds->iterations;
		memcpy(s->stored_key, creds->stored_key, klen);
		memcpy(s->server_key, creds->server_key, klen);
	} else {
		/* Random keys: no proof can match them, as with a bad password. */
		s->decoy = 1;
		salt_len = SCRAM_SALT_LEN;
		iterations = decoy_iterations ? decoy_iterations :
		    PARLEY_SCRAM_ITER_DEFAULT;
		if (decoy_salt(s, salt) != 0 ||
		    RAND_bytes(s->stored_key, (int)klen) != 1 ||
		    RAND_bytes(s->server_key, (int)klen) != 1) {
			log_error("scram: no randomness for a decoy exchange");
			return fail(s, SCRAM_ERR_STATE);
		}
	}
	if (s->fixed_snonce != NULL)
		buf_puts(&snonce, s->fixed_snonce);
	else {
		if (RAND_bytes(raw, sizeof(raw)) != 1) {
			log_error("scram: no randomness for a server nonce");
			return fail(s, SCRAM_ERR_STATE);
		}
		base64_encode(raw, sizeof(raw), &snonce);
	}
	buf_append(&s->nonce, s->cnonce.data, s->cnonce.len);
	buf_append(&s->nonce, snonce.data, snonce.len);
	buf_free(&snonce);

	buf_puts(&s->sfirst, "r=");
	buf_append(&s->sfirst, s->nonce.data, s->nonce.len);
	buf_puts(&s->sfirst, ",s=");
	base64_encode(salt, salt_len, &s->sfirst);
	buf_printf(&s->sfirst, ",i=%u", iterations);
	buf_append(out, s->sfirst.data, s->sfirst.len);
	s->state = ST_SERVER_FIRST;
	return SCRAM_OK;
}

/*
 * Splits client-final-message into its parts; proof is the decoded "p="
 * value and *without_proof the length of the message before ",p=".
 */
static enum scram_rc parse_client_final(const char *msg, size_t len,
    struct cur *cb, struct cur *nonce, struct buf *proof,
    size_t *without_proof)
{
	struct cur c = { msg, msg + len };
	size_t n;
	int more;

	if (want_attr(&c, 'c') != 0)
		return SCRAM_ERR_MALFORMED;
	cb->p = c.p;
	cb->end = c.p + value_len(&c);
	c.p = cb->end;
	if (next_attr(&c) != 1 || want_attr(&c, 'r') != 0)
		return SCRAM_ERR_MALFORMED;
	nonce->p = c.p;
	nonce->end = c.p + value_len(&c);
	c.p = nonce->end;
	while ((more = next_attr(&c)) == 1) {
		if (c.end - c.p >= 2 && c.p[0] == 'p' && c.p[1] == '=') {
			*without_proof = (size_t)(c.p - 1 - msg);
			c.p += 2;
			n = value_len(&c);
			/* The proof must be the last attribute. */
			if (c.p + n != c.end ||
			    base64_decode(c.p, n, proof) != 0)
				return SCRAM_ERR_MALFORMED;
			return SCRAM_OK;
		}
		if (extension(&c) != 0)
			return SCRAM_ERR_MALFORMED;
	}
	return SCRAM_ERR_MALFORMED;
}

enum scram_rc scram_server_client_final(struct scram_server *s,
    const char *msg, size_t len, struct buf *out)
{
	struct cur cb, nonce;
	struct buf proof = BUF_INIT, expect = BUF_INIT, auth = BUF_INIT;
	unsigned char sig[SCRAM_KEY_MAX], ckey[SCRAM_KEY_MAX];
	unsigned char hkey[SCRAM_KEY_MAX], skey[SCRAM_KEY_MAX];
	size_t klen = scram_key_len(s->hash), wo, i;
	enum scram_rc rc;

	if (s->state != ST_SERVER_FIRST)
		return fail(s, SCRAM_ERR_STATE);
	if (msg == NULL || len == 0 || len > PARLEY_SASL_MSG_MAX ||
	    memchr(msg, '\0', len) != NULL)
		return fail(s, SCRAM_ERR_MALFORMED);
	rc = parse_client_final(msg, len, &cb, &nonce, &proof, &wo);
	if (rc == SCRAM_OK && proof.len != klen)
		rc = SCRAM_ERR_MALFORMED;
	if (rc != SCRAM_OK)
		goto done;

	/* No -PLUS: c= carries the gs2-header alone, byte for byte. */
	base64_encode(s->gs2_header.data, s->gs2_header.len, &expect);
	if ((size_t)(cb.end - cb.p) != expect.len ||
	    memcmp(cb.p, expect.data, expect.len) != 0) {
		rc = SCRAM_ERR_CB;
		goto done;
	}
	if ((size_t)(nonce.end - nonce.p) != s->nonce.len ||
	    memcmp(nonce.p, s->nonce.data, s->nonce.len) != 0) {
		rc = SCRAM_ERR_NONCE;
		goto done;
	}

	buf_append(&auth, s->cfirst_bare.data, s->cfirst_bare.len);
	buf_putc(&auth, ',');
	buf_append(&auth, s->sfirst.data, s->sfirst.len);
	buf_putc(&auth, ',');
	buf_append(&auth, msg, wo);
	if (hmac(s->hash, s->stored_key, klen, auth.data, auth.len,
	    sig) != 0) {
		rc = SCRAM_ERR_STATE;
		goto done;
	}
	for (i = 0; i < klen; i++)
		ckey[i] = (unsigned char)proof.data[i] ^ sig[i];
	if (digest(s->hash, ckey, klen, hkey) != 0) {
		rc = SCRAM_ERR_STATE;
		goto done;
	}
	/* The decoy check comes after the work so timing tells nothing. */
	if (CRYPTO_memcmp(hkey, s->stored_key, klen) != 0 || s->decoy) {
		rc = SCRAM_ERR_PROOF;
		goto done;
	}
	if (hmac(s->hash, s->server_key, klen, auth.data, auth.len,
	    skey) != 0) {
		rc = SCRAM_ERR_STATE;
		goto done;
	}
	buf_puts(out, "v=");
	base64_encode(skey, klen, out);
	rc = SCRAM_OK;
done:
	wipe(sig, sizeof(sig));
	wipe(ckey, sizeof(ckey));
	wipe(hkey, sizeof(hkey));
	wipe(skey, sizeof(skey));
	wipe(proof.data, proof.len);
	buf_free(&proof);
	buf_free(&expect);
	buf_free(&auth);
	if (rc != SCRAM_OK)
		return fail(s, rc);
	s->state = ST_DONE;
	wipe(s->stored_key, sizeof(s->stored_key));
	wipe(s->server_key, sizeof(s->server_key));
	return SCRAM_OK;
}
