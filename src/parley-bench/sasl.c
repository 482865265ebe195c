/*
 * sasl.c - the client side of SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802,
 * RFC 7677) and of PLAIN (RFC 4616).
 *
 * A benchmark logs the same few accounts in thousands of times with one
 * password.  SaltedPassword = PBKDF2(password, salt, i) is the expensive
 * part (i >= 4096 HMACs) and depends only on the password, the salt and
 * the iteration count, so the keys derived from it are cached by (hash,
 * salt, i); each login then costs the generator two HMACs, as it costs a
 * server that stores SCRAM keys.  Every server account has its own salt,
 * so the first login of each account still pays PBKDF2 (the report shows
 * how many did).  The cache is shared by the worker threads under a mutex
 * that is never held while deriving.
 *
 * The server's signature is always checked: a benchmark against a server
 * that skips the proof would measure the wrong thing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "parley-bench/bench.h"

#define KEY_MAX		32
#define SALT_MAX	128
#define CACHE_BUCKETS	16384	/* fixed: accounts per run are bounded */

struct keys {
	unsigned char	client_key[KEY_MAX];
	unsigned char	stored_key[KEY_MAX];
	unsigned char	server_key[KEY_MAX];
};

struct centry {
	struct centry	*next;
	enum mech	 mech;
	unsigned	 iter;
	size_t		 salt_len;
	unsigned char	 salt[SALT_MAX];
	struct keys	 k;
};

static struct centry *cache[CACHE_BUCKETS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long cache_hits, cache_misses;

enum sstate { S_FIRST, S_FINAL, S_DONE };

struct sasl {
	enum mech	 mech;
	enum sstate	 st;
	char		 cnonce[33];
	struct buf	 cfirst_bare;	/* n=user,r=cnonce */
	unsigned char	 server_sig[KEY_MAX];
};

const char *mech_name(enum mech m)
{
	switch (m) {
	case MECH_SCRAM_SHA1:	return "SCRAM-SHA-1";
	case MECH_SCRAM_SHA256:	return "SCRAM-SHA-256";
	case MECH_PLAIN:	return "PLAIN";
	}
	return "?";
}

static const EVP_MD *md_of(enum mech m)
{
	return m == MECH_SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

static size_t klen(enum mech m)
{
	return m == MECH_SCRAM_SHA1 ? 20 : 32;
}

static int hmac(enum mech m, const void *key, size_t keylen, const void *d,
	    size_t n, unsigned char *out)
{
	unsigned olen = 0;

	return HMAC(md_of(m), key, (int)keylen, d, n, out, &olen) != NULL ?
	    0 : -1;
}

static unsigned hash_key(enum mech m, unsigned iter, const unsigned char *s,
	    size_t n)
{
	/* FNV-1a: salts are random, any mixing will do. */
	uint32_t h = 2166136261u ^ (uint32_t)m ^ (iter * 16777619u);

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h % CACHE_BUCKETS;
}

/* The derived keys for (mech, salt, iter), computing them on a miss. */
static int get_keys(enum mech m, const unsigned char *salt, size_t salt_len,
	    unsigned iter, struct keys *out)
{
	unsigned h = hash_key(m, iter, salt, salt_len);
	unsigned char salted[KEY_MAX];
	unsigned dlen = 0;
	struct centry *e;
	size_t kl = klen(m);
	const char *pw = opt.password;

	pthread_mutex_lock(&cache_mu);
	for (e = cache[h]; e != NULL; e = e->next) {
		if (e->mech == m && e->iter == iter &&
		    e->salt_len == salt_len &&
		    memcmp(e->salt, salt, salt_len) == 0) {
			*out = e->k;
			cache_hits++;
			pthread_mutex_unlock(&cache_mu);
			return 0;
		}
	}
	cache_misses++;
	pthread_mutex_unlock(&cache_mu);

	if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)salt_len,
	    (int)iter, md_of(m), (int)kl, salted) != 1 ||
	    hmac(m, salted, kl, "Client Key", 10, out->client_key) != 0 ||
	    hmac(m, salted, kl, "Server Key", 10, out->server_key) != 0 ||
	    EVP_Digest(out->client_key, kl, out->stored_key, &dlen, md_of(m),
	    NULL) != 1)
		return -1;

	e = xcalloc(1, sizeof(*e));
	e->mech = m;
	e->iter = iter;
	e->salt_len = salt_len;
	memcpy(e->salt, salt, salt_len);
	e->k = *out;
	pthread_mutex_lock(&cache_mu);
	/* Two threads may both have derived it: a duplicate is harmless. */
	e->next = cache[h];
	cache[h] = e;
	pthread_mutex_unlock(&cache_mu);
	return 0;
}

/* ---- the cache on disk (--scram-cache FILE) -------------------------------
 *
 * One header line naming a digest of the password (a cache made for
 * another password is ignored), then one line per entry:
 *   mech iterations salt-hex client-key-hex stored-key-hex server-key-hex
 * The keys are what a server stores for the benchmark accounts: the file
 * is written mode 0600 and is only for throw-away accounts.
 */

static void pw_tag(char out[33])
{
	unsigned char d[32];
	unsigned dl = 0;

	EVP_Digest(opt.password, strlen(opt.password), d, &dl, EVP_sha256(),
	    NULL);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void put_hex(FILE *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

/* Parses exactly n bytes of hex; 0 on success. */
static int get_hex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[2 * n] == '\0' ? 0 : -1;
}

int sasl_cache_load(const char *path)
{
	char line[1024], tag[33], want[80];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL)
		return 0;	/* first run: nothing cached yet */
	pw_tag(tag);
	snprintf(want, sizeof(want), "parley-bench scram cache 1 %s\n", tag);
	if (fgets(line, sizeof(line), f) == NULL || strcmp(line, want) != 0) {
		fclose(f);
		return 0;	/* other password or format: start afresh */
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char salt[2 * SALT_MAX + 1], ck[65], sk[65], vk[65];
		unsigned m, iter;
		struct centry *e;
		size_t kl;

		if (sscanf(line, "%u %u %256s %64s %64s %64s", &m, &iter, salt,
		    ck, sk, vk) != 6 || m > MECH_SCRAM_SHA256 ||
		    strlen(salt) % 2 != 0)
			continue;
		kl = klen((enum mech)m);
		e = xcalloc(1, sizeof(*e));
		e->mech = (enum mech)m;
		e->iter = iter;
		e->salt_len = strlen(salt) / 2;
		if (get_hex(salt, e->salt, e->salt_len) != 0 ||
		    get_hex(ck, e->k.client_key, kl) != 0 ||
		    get_hex(sk, e->k.stored_key, kl) != 0 ||
		    get_hex(vk, e->k.server_key, kl) != 0) {
			free(e);
			continue;
		}
		{
			unsigned h = hash_key(e->mech, iter, e->salt,
			    e->salt_len);

			e->next = cache[h];
			cache[h] = e;
		}
		n++;
	}
	fclose(f);
	return n;
}

int sasl_cache_save(const char *path)
{
	char tmp[4096], tag[33];
	FILE *f;
	int fd;

	if (cache_misses == 0)
		return 0;	/* nothing new */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pw_tag(tag);
	fprintf(f, "parley-bench scram cache 1 %s\n", tag);
	pthread_mutex_lock(&cache_mu);
	for (unsigned i = 0; i < CACHE_BUCKETS; i++) {
		for (struct centry *e = cache[i]; e != NULL; e = e->next) {
			size_t kl = klen(e->mech);

			fprintf(f, "%u %u ", (unsigned)e->mech, e->iter);
			put_hex(f, e->salt, e->salt_len);
			fputc(' ', f);
			put_hex(f, e->k.client_key, kl);
			fputc(' ', f);
			put_hex(f, e->k.stored_key, kl);
			fputc(' ', f);
			put_hex(f, e->k.server_key, kl);
			fputc('\n', f);
		}
	}
	pthread_mutex_unlock(&cache_mu);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void sasl_cache_stats(unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&cache_mu);
	*hits = cache_hits;
	*misses = cache_misses;
	pthread_mutex_unlock(&cache_mu);
}

/* RFC 5802 5.1: ',' and '=' in a username become =2C and =3D. */
static void put_saslname(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == ',')
			buf_puts(b, "=2C");
		else if (*s == '=')
			buf_puts(b, "=3D");
		else
			buf_putc(b, *s);
	}
}

struct sasl *sasl_start(enum mech m, const char *user, struct buf *out)
{
	struct sasl *s = xcalloc(1, sizeof(*s));
	struct buf tmp = BUF_INIT;

	s->mech = m;
	if (m == MECH_PLAIN) {
		/* authzid empty, authcid, password: NUL separated. */
		buf_putc(&tmp, '\0');
		buf_puts(&tmp, user);
		buf_putc(&tmp, '\0');
		buf_puts(&tmp, opt.password);
		base64_encode(tmp.data, tmp.len, out);
		wipe(tmp.data, tmp.len);
		buf_free(&tmp);
		s->st = S_DONE;
		return s;
	}
	{
		unsigned char rnd[18];
		struct buf nb = BUF_INIT;

		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			buf_free(&tmp);
			free(s);
			return NULL;
		}
		base64_encode(rnd, sizeof(rnd), &nb);
		memcpy(s->cnonce, nb.data, nb.len < 32 ? nb.len : 32);
		buf_free(&nb);
	}
	buf_puts(&s->cfirst_bare, "n=");
	put_saslname(&s->cfirst_bare, user);
	buf_puts(&s->cfirst_bare, ",r=");
	buf_puts(&s->cfirst_bare, s->cnonce);
	buf_puts(&tmp, "n,,");
	buf_append(&tmp, s->cfirst_bare.data, s->cfirst_bare.len);
	base64_encode(tmp.data, tmp.len, out);
	buf_free(&tmp);
	s->st = S_FIRST;
	return s;
}

/* Value of attribute letter a in a SCRAM message ("a=value,..."). */
static int scram_attr(const char *msg, size_t len, char a, const char **v,
	    size_t *vlen)
{
	const char *p = msg, *end = msg + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		if (e - p >= 2 && p[0] == a && p[1] == '=') {
			*v = p + 2;
			*vlen = (size_t)(e - p - 2);
			return 1;
		}
		p = e + 1;
	}
	return 0;
}

/* Checks "v=<base64 ServerSignature>" (or reports "e=<error>"). */
static int check_final(struct sasl *s, const char *msg, size_t len,
	    const char **err)
{
	struct buf sig = BUF_INIT;
	const char *v;
	size_t vl;
	int ok;

	if (scram_attr(msg, len, 'e', &v, &vl)) {
		*err = "server sent a SCRAM error";
		return -1;
	}
	if (!scram_attr(msg, len, 'v', &v, &vl) ||
	    base64_decode(v, vl, &sig) != 0) {
		*err = "malformed SCRAM server-final-message";
		buf_free(&sig);
		return -1;
	}
	ok = sig.len == klen(s->mech) &&
	    memcmp(sig.data, s->server_sig, sig.len) == 0;
	buf_free(&sig);
	if (!ok) {
		*err = "SCRAM server signature does not match";
		return -1;
	}
	s->st = S_DONE;
	return 0;
}

int sasl_step(struct sasl *s, const char *b64, size_t len, struct buf *out,
	    const char **err)
{
	struct buf msg = BUF_INIT, salt = BUF_INIT, am = BUF_INIT,
	    fin = BUF_INIT;
	unsigned char csig[KEY_MAX], proof[KEY_MAX];
	const char *r, *sv, *iv;
	size_t rl, sl, il, kl = klen(s->mech);
	struct keys k;
	unsigned long iter;
	int rc = -1;

	if (base64_decode(b64, len, &msg) != 0) {
		*err = "challenge is not base64";
		goto out;
	}
	if (s->st == S_FINAL) {
		/* Some servers send server-final as a challenge; the client
		 * answers it with an empty response. */
		rc = check_final(s, msg.data, msg.len, err);
		goto out;
	}
	if (s->st != S_FIRST) {
		*err = "unexpected SASL challenge";
		goto out;
	}
	if (msg.len == 0 || msg.data[0] == 'm' ||
	    !scram_attr(msg.data, msg.len, 'r', &r, &rl) ||
	    !scram_attr(msg.data, msg.len, 's', &sv, &sl) ||
	    !scram_attr(msg.data, msg.len, 'i', &iv, &il)) {
		*err = "malformed SCRAM server-first-message";
		goto out;
	}
	if (rl <= strlen(s->cnonce) ||
	    memcmp(r, s->cnonce, strlen(s->cnonce)) != 0) {
		*err = "SCRAM nonce does not extend ours";
		goto out;
	}
	iter = strtoul(iv, NULL, 10);
	if (base64_decode(sv, sl, &salt) != 0 || salt.len == 0 ||
	    salt.len > SALT_MAX || iter == 0 || iter > 10000000) {
		*err = "bad SCRAM salt or iteration count";
		goto out;
	}
	if (get_keys(s->mech, (unsigned char *)salt.data, salt.len,
	    (unsigned)iter, &k) != 0) {
		*err = "PBKDF2 failed";
		goto out;
	}
	/* client-final-message-without-proof; "biws" is base64("n,,"). */
	buf_puts(&fin, "c=biws,r=");
	buf_append(&fin, r, rl);
	buf_append(&am, s->cfirst_bare.data, s->cfirst_bare.len);
	buf_putc(&am, ',');
	buf_append(&am, msg.data, msg.len);
	buf_putc(&am, ',');
	buf_append(&am, fin.data, fin.len);
	if (hmac(s->mech, k.stored_key, kl, am.data, am.len, csig) != 0 ||
	    hmac(s->mech, k.server_key, kl, am.data, am.len,
	    s->server_sig) != 0) {
		*err = "HMAC failed";
		goto out;
	}
	for (size_t i = 0; i < kl; i++)
		proof[i] = k.client_key[i] ^ csig[i];
	buf_puts(&fin, ",p=");
	base64_encode(proof, kl, &fin);
	base64_encode(fin.data, fin.len, out);
	s->st = S_FINAL;
	rc = 0;
out:
	wipe(&k, sizeof(k));
	buf_free(&msg);
	buf_free(&salt);
	buf_free(&am);
	buf_free(&fin);
	return rc;
}

int sasl_finish(struct sasl *s, const char *b64, size_t len, const char **err)
{
	struct buf msg = BUF_INIT;
	int rc;

	if (s->mech == MECH_PLAIN || s->st == S_DONE)
		return 0;
	if (s->st != S_FINAL || len == 0) {
		*err = "SCRAM success without the server's proof";
		return -1;
	}
	if (base64_decode(b64, len, &msg) != 0) {
		*err = "success data is not base64";
		buf_free(&msg);
		return -1;
	}
	rc = check_final(s, msg.data, msg.len, err);
	buf_free(&msg);
	return rc;
}

void sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	buf_free(&s->cfirst_bare);
	free(s);
}
