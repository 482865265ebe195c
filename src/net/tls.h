/*
 * tls.h - the server's TLS context (OpenSSL 3) and its certificate.
 *
 * One SSL_CTX serves every listener: TLS 1.2 or newer only, AEAD ciphers
 * with forward secrecy, no compression, no renegotiation, released buffers
 * while idle (SSL_MODE_RELEASE_BUFFERS), ALPN "xmpp-client" (XEP-0368).
 * When no certificate is configured, tls_ensure_selfsigned() makes an ECDSA
 * P-256 key and a self-signed certificate for the domain on first start.
 */
#ifndef PARLEY_NET_TLS_H
#define PARLEY_NET_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* Creates cert and key (mode 0600) for domain if either file is missing.
 * Returns 0, or -1 with a one-line reason in err. */
int	 tls_ensure_selfsigned(const char *cert, const char *key,
	    const char *domain, char *err, size_t errlen);
/* min_version is 12 or 13.  Returns NULL with a reason in err. */
SSL_CTX	*tls_ctx_new(const char *cert, const char *key, int min_version,
	    const char *ciphers, char *err, size_t errlen);
/* The first OpenSSL error on this thread as text (and clears the queue). */
const char *tls_last_error(void);

#endif
