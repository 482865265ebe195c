/*
 * listener.h - listening sockets from "host:port" lists.
 *
 * A listener accepts connections and hands each (fd plus the peer's
 * textual address) to its accept function; it owns nothing else.  When the
 * process runs out of descriptors, accepting pauses for a second instead
 * of spinning.
 */
#ifndef PARLEY_NET_LISTENER_H
#define PARLEY_NET_LISTENER_H

#include <stddef.h>

#include <event2/event.h>

struct listener;

typedef void (*listener_accept_fn)(void *ud, evutil_socket_t fd,
	    const char *peer_addr);

/* Parses "host:port", "[v6]:port", "*:port", "localhost:port". */
int	 listener_parse_addr(const char *spec, struct sockaddr_storage *ss,
	    int *sslen);
/* Binds spec; returns NULL with a one-line reason in err. */
struct listener *listener_new(struct event_base *base, const char *spec,
	    listener_accept_fn fn, void *ud, char *err, size_t errlen);
void	 listener_free(struct listener *l);
/* The bound port (useful when spec asked for port 0). */
int	 listener_port(const struct listener *l);

#endif
