/*
 * conn.h - one client connection on libevent: plain, STARTTLS-upgraded or
 * direct TLS; bounded output; closing that never frees inside a callback.
 *
 * The owner (an xmpp session) gets bytes through ops->on_read as they
 * arrive (decrypted when TLS is up), is told when TLS is established, and is
 * told exactly once, from a fresh loop turn, that the connection is gone
 * (ops->on_close); after on_close returns the conn is freed and must not be
 * used.  conn_close() flushes what is queued (bounded by a write timeout)
 * before the socket closes.
 *
 * Output: conn_write() copies into the connection's queue; when the queue
 * would pass max_outq bytes the peer is too slow and the connection closes.
 */
#ifndef PARLEY_NET_CONN_H
#define PARLEY_NET_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct conn;

struct conn_ops {
	void	(*on_read)(void *ud, const char *data, size_t len);
	void	(*on_tls)(void *ud);
	void	(*on_close)(void *ud, const char *why);
};

/* Takes ownership of fd.  tls non-NULL: a direct TLS connection. */
struct conn *conn_new(struct event_base *base, evutil_socket_t fd,
	    SSL_CTX *tls, const struct conn_ops *ops, void *ud,
	    size_t max_outq);
/* Queues bytes; returns 0, or -1 if the connection is closing. */
int	 conn_write(struct conn *c, const void *data, size_t len);
/* After the queued output (the <proceed/>) is flushed, starts a TLS
 * handshake on the same socket.  Reading stops until then. */
void	 conn_starttls(struct conn *c, SSL_CTX *tls);
/* Flushes, then closes; why is logged by the owner in on_close. */
void	 conn_close(struct conn *c, const char *why);
/* Stops/starts reading (back-off delays, flow control). */
void	 conn_pause(struct conn *c, int paused);
int	 conn_is_tls(const struct conn *c);
int	 conn_is_closing(const struct conn *c);
/* Bytes queued for output. */
size_t	 conn_outq(const struct conn *c);
/* TLS version and cipher, for the login log line ("-" if none). */
const char *conn_tls_desc(const struct conn *c);

#endif
