/* tlsrelay.c - see tlsrelay.h. */
#include "http/tlsrelay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/log.h"

/* Seconds a finished connection reads (and drops) what the client still
 * sends, so that the answer reaches it before the socket closes. */
#define LINGER_S	2

struct tlsrelay {
	struct bufferevent	*tls;		/* the client, via OpenSSL */
	struct bufferevent	*plain;		/* our end of the pair */
	struct event		*linger;
	unsigned		 tls_paused:1;	/* client not read */
	unsigned		 plain_paused:1; /* consumer not read */
	unsigned		 plain_gone:1;	/* consumer closed */
	unsigned		 lingering:1;
	unsigned		 client_spoke:1; /* client sent bytes */
	unsigned		 consumer_spoke:1; /* so did consumer */
	const char		*silent_reply;
	tlsrelay_ready_fn	 ready;
	tlsrelay_gone_fn	 gone;
	void			*ud;
};

void tlsrelay_free(struct tlsrelay *t)
{
	if (t == NULL)
		return;
	if (t->tls != NULL)
		bufferevent_free(t->tls);
	if (t->plain != NULL)
		bufferevent_free(t->plain);
	if (t->linger != NULL)
		event_free(t->linger);
	free(t);
}

static void end(struct tlsrelay *t)
{
	if (t->gone != NULL)
		t->gone(t->ud, t);
	tlsrelay_free(t);
}

static void linger_cb(evutil_socket_t fd, short what, void *arg)
{
	end(arg);
}

/* Everything for the client is out: say goodbye, keep reading a while. */
static void start_linger(struct tlsrelay *t)
{
	struct timeval tv = { LINGER_S, 0 };
	SSL *ssl = bufferevent_openssl_get_ssl(t->tls);

	t->lingering = 1;
	/* close_notify, then FIN: the client's read sees a clean end. */
	if (ssl != NULL)
		(void)SSL_shutdown(ssl);
	shutdown(bufferevent_getfd(t->tls), SHUT_WR);
	bufferevent_enable(t->tls, EV_READ);
	evtimer_add(t->linger, &tv);
}

static void tls_to_plain(struct tlsrelay *t)
{
	struct evbuffer *in = bufferevent_get_input(t->tls);

	if (t->lingering || t->plain == NULL) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (evbuffer_get_length(in) > 0)
		t->client_spoke = 1;
	evbuffer_add_buffer(bufferevent_get_output(t->plain), in);
	if (evbuffer_get_length(bufferevent_get_output(t->plain)) >=
	    PARLEY_HTTP_RELAY_BUF) {
		bufferevent_disable(t->tls, EV_READ);
		t->tls_paused = 1;
	}
}

static void plain_to_tls(struct tlsrelay *t)
{
	if (evbuffer_get_length(bufferevent_get_input(t->plain)) > 0)
		t->consumer_spoke = 1;
	evbuffer_add_buffer(bufferevent_get_output(t->tls),
	    bufferevent_get_input(t->plain));
	if (evbuffer_get_length(bufferevent_get_output(t->tls)) >=
	    PARLEY_HTTP_RELAY_BUF) {
		bufferevent_disable(t->plain, EV_READ);
		t->plain_paused = 1;
	}
}

static void tls_read_cb(struct bufferevent *bev, void *arg)
{
	tls_to_plain(arg);
}

/* The client's side drained below half: take more from the consumer, or
 * finish once the consumer is gone and all is out. */
static void tls_write_cb(struct bufferevent *bev, void *arg)
{
	struct tlsrelay *t = arg;

	if (t->plain_paused && t->plain != NULL) {
		t->plain_paused = 0;
		bufferevent_enable(t->plain, EV_READ);
	}
	if (t->plain_gone && !t->lingering &&
	    evbuffer_get_length(bufferevent_get_output(t->tls)) == 0)
		start_linger(t);
}

static void plain_read_cb(struct bufferevent *bev, void *arg)
{
	plain_to_tls(arg);
}

static void plain_write_cb(struct bufferevent *bev, void *arg)
{
	struct tlsrelay *t = arg;

	if (t->tls_paused) {
		t->tls_paused = 0;
		bufferevent_enable(t->tls, EV_READ);
	}
}

static void plain_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tlsrelay *t = arg;

	/* The consumer closed its end: what it wrote goes out first.  A
	 * write error (it closed without reading the rest of a body) comes
	 * before the read side saw its answer: take that from the socket
	 * too (straight to the client: the input buffer is the
	 * bufferevent's own to fill). */
	plain_to_tls(t);
	while (evbuffer_read(bufferevent_get_output(t->tls),
	    bufferevent_getfd(bev), 65536) > 0)
		t->consumer_spoke = 1;
	/* It hung up on the client without a word (a request it could
	 * not even parse): the client still gets an answer. */
	if (t->client_spoke && !t->consumer_spoke && t->silent_reply != NULL)
		evbuffer_add(bufferevent_get_output(t->tls), t->silent_reply,
		    strlen(t->silent_reply));
	bufferevent_free(t->plain);
	t->plain = NULL;
	t->plain_gone = 1;
	if (evbuffer_get_length(bufferevent_get_output(t->tls)) == 0) {
		start_linger(t);
	} else {
		/* Wake up when it is all out, not at half. */
		bufferevent_setwatermark(t->tls, EV_WRITE, 0, 0);
		bufferevent_enable(t->tls, EV_WRITE);
	}
}

static void handshake_done(struct tlsrelay *t)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int sp[2];

	bufferevent_set_timeouts(t->tls, NULL, NULL);
	if (getpeername(bufferevent_getfd(t->tls), (struct sockaddr *)&ss,
	    &sslen) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) != 0) {
		log_warn("https: cannot set up a connection: %s",
		    strerror(errno));
		end(t);
		return;
	}
	t->plain = bufferevent_socket_new(bufferevent_get_base(t->tls), sp[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (t->plain == NULL) {
		close(sp[0]);
		close(sp[1]);
		end(t);
		return;
	}
	bufferevent_setcb(t->plain, plain_read_cb, plain_write_cb,
	    plain_event_cb, t);
	bufferevent_setwatermark(t->plain, EV_WRITE,
	    PARLEY_HTTP_RELAY_BUF / 2, 0);
	bufferevent_setwatermark(t->tls, EV_WRITE, PARLEY_HTTP_RELAY_BUF / 2,
	    0);
	bufferevent_enable(t->plain, EV_READ | EV_WRITE);
	if (t->ready(t->ud, sp[1], (struct sockaddr *)&ss, sslen) != 0) {
		end(t);
		return;
	}
	tls_to_plain(t);
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tlsrelay *t = arg;

	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(t);
		return;
	}
	/* The client went away, failed the handshake or timed out. */
	end(t);
}

struct tlsrelay *tlsrelay_new(struct event_base *base, SSL_CTX *ctx,
    evutil_socket_t fd, unsigned handshake_timeout_s,
    const char *silent_reply, tlsrelay_ready_fn ready,
    tlsrelay_gone_fn gone, void *ud)
{
	struct timeval tv = { (time_t)handshake_timeout_s, 0 };
	struct tlsrelay *t;
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->silent_reply = silent_reply;
	t->ready = ready;
	t->gone = gone;
	t->ud = ud;
	t->tls = bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (t->tls == NULL) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(t);
		return NULL;
	}
	/* A TCP close without close_notify is an ordinary end for HTTP
	 * with lengths (the parser knows whether a body was cut). */
	bufferevent_openssl_set_allow_dirty_shutdown(t->tls, 1);
	t->linger = evtimer_new(base, linger_cb, t);
	bufferevent_setcb(t->tls, tls_read_cb, tls_write_cb, tls_event_cb, t);
	bufferevent_set_timeouts(t->tls, &tv, &tv);
	bufferevent_enable(t->tls, EV_READ | EV_WRITE);
	return t;
}
