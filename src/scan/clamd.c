/* clamd.c - see clamd.h. */
#include "scan/clamd.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/log.h"

/* Bytes per INSTREAM chunk, and bytes left waiting in the socket's output
 * before the next chunk is read from the file. */
#define SCAN_CHUNK	(64u * 1024u)
#define SCAN_QUEUED	(4u * SCAN_CHUNK)
/* clamd's answer is one short line; more is not clamd. */
#define REPLY_MAX	1024u

struct scan {
	struct scanner		*sc;
	struct scan		*next, *prev;	/* queue or active list */
	int			 fd;		/* our dup of the file */
	uint64_t		 size, sent;
	int			 active;
	int			 all_sent;	/* the zero chunk is queued */
	struct bufferevent	*bev;
	struct event		*timer;		/* deadline, or a failure
						   reported from the loop */
	struct buf		 reply;
	char			 why[160];	/* failure to report */
	scan_done_fn		 fn;
	void			*ud;
};

struct scanner {
	struct event_base	*base;
	char			*path;
	unsigned		 timeout_s;
	struct scan		*queue, *queue_tail;
	struct scan		*active;
	unsigned		 nactive;
};

static void start_next(struct scanner *sc);

/* Printable ASCII only, so that a name never forges a log line. */
static void sanitize(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++)
		out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[n] = '\0';
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

enum scan_verdict clamd_parse_reply(const char *line, size_t len,
    char *detail, size_t dlen)
{
	static const char prefix[] = "stream: ";
	const char *p = line;
	size_t n = len;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' ||
	    p[n - 1] == '\0'))
		n--;
	if (dlen > 0)
		detail[0] = '\0';
	if (n >= sizeof(prefix) - 1 &&
	    memcmp(p, prefix, sizeof(prefix) - 1) == 0) {
		p += sizeof(prefix) - 1;
		n -= sizeof(prefix) - 1;
	} else {
		/* Not an INSTREAM answer: say what it was. */
		sanitize(line, len, detail, dlen);
		return SCAN_FAILED;
	}
	if (n == 2 && memcmp(p, "OK", 2) == 0)
		return SCAN_CLEAN;
	if (ends_with(p, n, " FOUND") && n > 6) {
		sanitize(p, n - 6, detail, dlen);
		return SCAN_INFECTED;
	}
	sanitize(p, n, detail, dlen);
	return SCAN_FAILED;
}

/* Unlinks s from whichever list holds it. */
static void unlink_scan(struct scan *s)
{
	struct scanner *sc = s->sc;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (s->active)
		sc->active = s->next;
	else
		sc->queue = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else if (!s->active)
		sc->queue_tail = s->prev;
	if (s->active)
		sc->nactive--;
	s->next = s->prev = NULL;
}

static void scan_free(struct scan *s)
{
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->fd >= 0)
		close(s->fd);
	buf_free(&s->reply);
	free(s);
}

static void finish(struct scan *s, enum scan_verdict v, const char *detail)
{
	struct scanner *sc = s->sc;
	scan_done_fn fn = s->fn;
	void *ud = s->ud;
	char copy[160];

	snprintf(copy, sizeof(copy), "%s", detail ? detail : "");
	unlink_scan(s);
	scan_free(s);
	start_next(sc);
	fn(ud, v, v == SCAN_CLEAN ? NULL : copy);
}

static void fail(struct scan *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(struct scan *s, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	finish(s, SCAN_FAILED, why);
}

/* Queues chunks until SCAN_QUEUED bytes wait or the file is all sent. */
static void fill(struct scan *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);

	while (!s->all_sent && evbuffer_get_length(out) < SCAN_QUEUED) {
		uint64_t left = s->size - s->sent;
		size_t want = left < SCAN_CHUNK ? (size_t)left : SCAN_CHUNK;
		struct evbuffer_iovec v;
		unsigned char *p;
		ssize_t r;

		if (want == 0) {
			static const unsigned char end[4];

			evbuffer_add(out, end, sizeof(end));
			s->all_sent = 1;
			break;
		}
		if (evbuffer_reserve_space(out, 4 + want, &v, 1) < 1 ||
		    v.iov_len < 4 + want) {
			fail(s, "%s", "out of buffer space");
			return;
		}
		p = v.iov_base;
		do {
			r = pread(s->fd, p + 4, want, (off_t)s->sent);
		} while (r < 0 && errno == EINTR);
		if (r <= 0) {
			fail(s, "cannot read the file to scan: %s",
			    r < 0 ? strerror(errno) : "it is shorter than "
			    "expected");
			return;
		}
		p[0] = (unsigned char)((uint32_t)r >> 24);
		p[1] = (unsigned char)((uint32_t)r >> 16);
		p[2] = (unsigned char)((uint32_t)r >> 8);
		p[3] = (unsigned char)r;
		v.iov_len = 4 + (size_t)r;
		evbuffer_commit_space(out, &v, 1);
		s->sent += (uint64_t)r;
	}
}

/* 1 when clamd's whole answer (up to its NUL) is in: s is finished. */
static int take_reply(struct scan *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char tmp[256];
	const char *nul;
	char detail[160];
	enum scan_verdict v;
	int n;

	while ((n = evbuffer_remove(in, tmp, sizeof(tmp))) > 0) {
		if (s->reply.len + (size_t)n > REPLY_MAX) {
			fail(s, "%s", "clamd's answer is too long");
			return 1;
		}
		buf_append(&s->reply, tmp, (size_t)n);
	}
	nul = s->reply.len ? memchr(s->reply.data, '\0', s->reply.len) : NULL;
	if (nul == NULL)
		return 0;
	v = clamd_parse_reply(s->reply.data, (size_t)(nul - s->reply.data),
	    detail, sizeof(detail));
	if (v == SCAN_FAILED && detail[0] == '\0')
		snprintf(detail, sizeof(detail), "clamd gave no verdict");
	finish(s, v, detail);
	return 1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	take_reply(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	fill(arg);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct scan *s = arg;
	int e = EVUTIL_SOCKET_ERROR();

	/* clamd may answer and close early (StreamMaxLength): the answer
	 * counts more than the broken pipe. */
	if (take_reply(s))
		return;
	if (s->reply.len > 0) {
		char detail[160];

		sanitize(s->reply.data, s->reply.len, detail, sizeof(detail));
		fail(s, "clamd answered '%s' and closed", detail);
	} else if (what & BEV_EVENT_EOF) {
		fail(s, "%s", "clamd closed the connection without a verdict");
	} else {
		fail(s, "talking to clamd: %s", strerror(e));
	}
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct scan *s = arg;
	char why[64];

	if (s->why[0] != '\0') {
		fail(s, "%s", s->why);
		return;
	}
	snprintf(why, sizeof(why), "no verdict from clamd within %u s",
	    s->sc->timeout_s);
	fail(s, "%s", why);
}

static int fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -1;
	strcpy(sun->sun_path, path);
	return 0;
}

/* Connects without blocking: a unix socket connects at once or fails at
 * once (EAGAIN when clamd's backlog is full, which counts as busy). */
static int connect_clamd(const char *path, char *why, size_t len)
{
	struct sockaddr_un sun;
	int fd;

	if (fill_addr(path, &sun) != 0) {
		snprintf(why, len, "clamd socket path too long: %s", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, len, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 &&
	    errno != EINPROGRESS) {
		snprintf(why, len, "cannot connect to clamd at %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void start(struct scan *s)
{
	struct scanner *sc = s->sc;
	struct timeval tv = { (time_t)sc->timeout_s, 0 };
	int fd;

	s->active = 1;
	s->next = sc->active;
	if (sc->active != NULL)
		sc->active->prev = s;
	sc->active = s;
	sc->nactive++;
	fd = connect_clamd(sc->path, s->why, sizeof(s->why));
	if (fd < 0) {
		/* Reported from the loop, not from inside whoever
		 * submitted or finished the previous scan. */
		tv.tv_sec = 0;
		evtimer_add(s->timer, &tv);
		return;
	}
	s->bev = bufferevent_socket_new(sc->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, SCAN_QUEUED / 2, 0);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	evbuffer_add(bufferevent_get_output(s->bev), "zINSTREAM", 10);
	evtimer_add(s->timer, &tv);
	fill(s);
}

static void start_next(struct scanner *sc)
{
	while (sc->queue != NULL && sc->nactive < PARLEY_SCAN_PARALLEL) {
		struct scan *s = sc->queue;

		unlink_scan(s);
		start(s);
	}
}

struct scanner *scanner_new(struct event_base *base, const char *socket_path,
    unsigned timeout_s)
{
	struct scanner *sc = xcalloc(1, sizeof(*sc));

	sc->base = base;
	sc->path = xstrdup(socket_path);
	sc->timeout_s = timeout_s;
	return sc;
}

void scanner_free(struct scanner *sc)
{
	if (sc == NULL)
		return;
	/* The queue first, or cancelling an active scan would start one. */
	while (sc->queue != NULL)
		scan_cancel(sc->queue);
	while (sc->active != NULL)
		scan_cancel(sc->active);
	free(sc->path);
	free(sc);
}

struct scan *scanner_submit(struct scanner *sc, int fd, uint64_t size,
    scan_done_fn fn, void *ud)
{
	struct scan *s = xcalloc(1, sizeof(*s));

	s->sc = sc;
	s->size = size;
	s->fn = fn;
	s->ud = ud;
	s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	s->timer = evtimer_new(sc->base, timer_cb, s);
	if (s->fd < 0)
		snprintf(s->why, sizeof(s->why), "dup: %s", strerror(errno));
	s->prev = sc->queue_tail;
	if (sc->queue_tail != NULL)
		sc->queue_tail->next = s;
	else
		sc->queue = s;
	sc->queue_tail = s;
	if (s->fd < 0) {
		struct timeval now = { 0, 0 };

		/* Fails from the loop, like every other outcome. */
		unlink_scan(s);
		s->active = 1;
		s->next = sc->active;
		if (sc->active != NULL)
			sc->active->prev = s;
		sc->active = s;
		sc->nactive++;
		evtimer_add(s->timer, &now);
		return s;
	}
	start_next(sc);
	return s;
}

void scan_cancel(struct scan *s)
{
	struct scanner *sc;

	if (s == NULL)
		return;
	sc = s->sc;
	unlink_scan(s);
	scan_free(s);
	start_next(sc);
}

int scanner_reachable(const struct scanner *sc, char *why, size_t len)
{
	int fd = connect_clamd(sc->path, why, len);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}
