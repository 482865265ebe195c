/* listener.c - see listener.h. */
#include "net/listener.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/listener.h>

#include "core/alloc.h"
#include "core/log.h"

struct listener {
	struct evconnlistener	*l;
	struct event		*resume;
	listener_accept_fn	 fn;
	void			*ud;
	char			*spec;
};

int listener_parse_addr(const char *spec, struct sockaddr_storage *ss,
    int *sslen)
{
	char host[128];
	const char *colon, *ps;
	char *end;
	long port;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - spec - 1);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, hl);
		host[hl] = '\0';
		ps = rb + 2;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - spec);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, spec, hl);
		host[hl] = '\0';
		ps = colon + 1;
	}
	errno = 0;
	port = strtol(ps, &end, 10);
	if (*ps == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
		return -1;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (strcmp(host, "*") == 0) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_any;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
		return 0;
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			*sslen = sizeof(*s4);
			return 0;
		}
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*sslen = sizeof(*s6);
			return 0;
		}
	}
	return -1;
}

static void peer_str(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		/* An IPv4 client on a dual-stack socket is the v4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
			    (socklen_t)len);
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)len);
	} else {
		snprintf(out, len, "unknown");
	}
}

static void accept_cb(struct evconnlistener *el, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	char addr[INET6_ADDRSTRLEN];

	peer_str(sa, addr, sizeof(addr));
	l->fn(l->ud, fd, addr);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	evconnlistener_enable(l->l);
}

static void error_cb(struct evconnlistener *el, void *arg)
{
	struct listener *l = arg;
	struct timeval tv = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	/* EMFILE/ENFILE: retrying at once would spin on the same error. */
	log_error("listener %s: accept: %s; pausing for a second", l->spec,
	    evutil_socket_error_to_string(e));
	evconnlistener_disable(l->l);
	evtimer_add(l->resume, &tv);
}

struct listener *listener_new(struct event_base *base, const char *spec,
    listener_accept_fn fn, void *ud, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct listener *l;
	int sslen;

	if (listener_parse_addr(spec, &ss, &sslen) != 0) {
		snprintf(err, errlen, "%s: not a host:port address", spec);
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->fn = fn;
	l->ud = ud;
	l->spec = xstrdup(spec);
	l->l = evconnlistener_new_bind(base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    511, (struct sockaddr *)&ss, sslen);
	if (l->l == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		free(l->spec);
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->l, error_cb);
	l->resume = evtimer_new(base, resume_cb, l);
	return l;
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	evconnlistener_free(l->l);
	event_free(l->resume);
	free(l->spec);
	free(l);
}

int listener_port(const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(evconnlistener_get_fd(l->l), (struct sockaddr *)&ss,
	    &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}
