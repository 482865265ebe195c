/*
 * tlsrelay.h - one accepted TLS connection carried as plaintext over a
 * local socket pair, so that a library that only reads and writes plain
 * sockets (libmicrohttpd) serves HTTPS with parleyd's own OpenSSL.
 *
 * The relay owns the accepted socket.  When the TLS handshake is done it
 * makes a socket pair, keeps one end and hands the other to ready(),
 * which owns it from then on.  Bytes then flow both ways through two
 * bufferevents; each direction holds at most PARLEY_HTTP_RELAY_BUF, past
 * which the relay stops reading that side until the other drains, so a
 * fast sender behind a slow consumer costs bounded memory.
 *
 * Either side ending ends the relay: the client going away closes the
 * pair; the consumer closing its end flushes what it wrote to the
 * client, then half-closes and reads (and drops) what the client still
 * sends for a moment before closing, so that an early answer (say, 413
 * to a large body) is not lost to a TCP reset.
 */
#ifndef PARLEY_HTTP_TLSRELAY_H
#define PARLEY_HTTP_TLSRELAY_H

#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct tlsrelay;

/* The handshake is done: fd is the consumer's end of the pair, peer the
 * client's address.  Returns 0, or -1 if it could not take fd (then
 * closed by the callee anyway; the relay ends). */
typedef int (*tlsrelay_ready_fn)(void *ud, int fd,
	    const struct sockaddr *peer, socklen_t peerlen);
/* A relay ended (for the owner's count). */
typedef void (*tlsrelay_gone_fn)(void *ud, struct tlsrelay *t);

/* silent_reply (may be NULL): bytes for the client when the consumer
 * closes without having written anything after the client sent some. */
struct tlsrelay *tlsrelay_new(struct event_base *base, SSL_CTX *ctx,
	    evutil_socket_t fd, unsigned handshake_timeout_s,
	    const char *silent_reply, tlsrelay_ready_fn ready,
	    tlsrelay_gone_fn gone, void *ud);
/* Ends it now (shutdown); gone() is not called. */
void	 tlsrelay_free(struct tlsrelay *t);

#endif
