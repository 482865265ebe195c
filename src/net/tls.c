/* tls.c - see tls.h. */
#include "net/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

const char *tls_last_error(void)
{
	static char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown TLS error";
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	return msg;
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return 0;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok;
}

/* Writes with O_EXCL so that an existing file is never clobbered and a key
 * is never readable by others, even for an instant. */
static FILE *open_new(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	return fd < 0 ? NULL : fdopen(fd, "w");
}

int tls_ensure_selfsigned(const char *cert_path, const char *key_path,
    const char *domain, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	X509_NAME *name;
	FILE *f = NULL;
	unsigned char serial[16];
	char san[1100];
	struct in6_addr a6;
	struct in_addr a4;
	BIGNUM *bn = NULL;
	int rc = -1;

	if (access(cert_path, F_OK) == 0 && access(key_path, F_OK) == 0)
		return 0;
	if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0) {
		snprintf(err, errlen, "only one of %s and %s exists; remove it "
		    "or configure [tls] cert and key", cert_path, key_path);
		return -1;
	}
	if ((pkey = EVP_EC_gen("P-256")) == NULL)
		goto ssl_fail;
	if ((cert = X509_new()) == NULL)
		goto ssl_fail;
	X509_set_version(cert, 2);
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto ssl_fail;
	serial[0] &= 0x7f;	/* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
		goto ssl_fail;
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
	X509_set_pubkey(cert, pkey);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)domain, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Parley self-signed", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	{
		char ip[64] = "";

		if (inet_pton(AF_INET, domain, &a4) == 1)
			snprintf(ip, sizeof(ip), "%s", domain);
		else if (domain[0] == '[' && sscanf(domain, "[%63[^]]]", ip) == 1 &&
		    inet_pton(AF_INET6, ip, &a6) != 1)
			ip[0] = '\0';
		if (ip[0] != '\0')
			snprintf(san, sizeof(san), "IP:%s", ip);
		else
			snprintf(san, sizeof(san), "DNS:%s", domain);
	}
	if (!add_ext(cert, NID_subject_alt_name, san) ||
	    !add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") ||
	    !add_ext(cert, NID_key_usage,
	    "critical,digitalSignature,keyCertSign") ||
	    !add_ext(cert, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(cert, NID_subject_key_identifier, "hash"))
		goto ssl_fail;
	if (X509_sign(cert, pkey, EVP_sha256()) == 0)
		goto ssl_fail;

	if ((f = open_new(key_path, 0600)) == NULL) {
		snprintf(err, errlen, "%s: %s", key_path, strerror(errno));
		goto out;
	}
	if (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "%s: write failed", key_path);
		goto out;
	}
	if ((f = open_new(cert_path, 0644)) == NULL) {
		snprintf(err, errlen, "%s: %s", cert_path, strerror(errno));
		goto out;
	}
	if (!PEM_write_X509(f, cert) || fclose(f) != 0) {
		f = NULL;
		snprintf(err, errlen, "%s: write failed", cert_path);
		goto out;
	}
	f = NULL;
	rc = 0;
	goto out;
ssl_fail:
	snprintf(err, errlen, "generating a certificate: %s", tls_last_error());
out:
	if (f != NULL)
		fclose(f);
	BN_free(bn);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	return rc;
}

static int alpn_select(SSL *ssl, const unsigned char **out,
    unsigned char *outlen, const unsigned char *in, unsigned int inlen,
    void *arg)
{
	static const unsigned char want[] = "\x0bxmpp-client";
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, want, sizeof(want) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

SSL_CTX *tls_ctx_new(const char *cert, const char *key, int min_version,
    const char *ciphers, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "TLS: %s", tls_last_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx,
	    min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
	/* An XMPP stream ends with </stream:stream>, so a TCP close without
	 * close_notify truncates nothing the stream layer would miss: treat
	 * it as an ordinary end, not as a TLS error. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Idle connections give their record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Read whole bursts per recv(2), not a header and a body per record. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		snprintf(err, errlen, "[tls] ciphers: no usable cipher in '%s'",
		    ciphers);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "%s: cannot load certificate: %s", cert,
		    tls_last_error());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "%s: cannot load key: %s", key,
		    tls_last_error());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s does not match %s", key, cert);
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
