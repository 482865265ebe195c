/*
 * worker.c - one thread, one libevent base, many connections.
 *
 * A worker owns its connections outright; nothing else touches them.  It
 * learns what to do from the phase variable, which its tick (1 or 10 ms)
 * reads, and reports through the atomic counters in w->st.  New
 * connections start from a queue, at most max_connecting at a time, so
 * the connect phase measures the server, not a SYN flood.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "parley-bench/bench.h"

#define SCRATCH_LEN		(64 * 1024)
#define DEADLINE_EVERY_MS	100

static void tick_cb(evutil_socket_t fd, short what, void *arg);

void worker_init(struct worker *w, int id, size_t nconns,
	    const struct scen_ops *ops, _Atomic int *phase, unsigned tick_us)
{
	struct event_config *cfg;
	struct timeval tv;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->ops = ops;
	w->phase = phase;
	w->seen_phase = -1;
	w->tick_us = tick_us;
	w->max_connecting = 1;
	w->nconns = nconns;
	w->conns = xcalloc(nconns ? nconns : 1, sizeof(*w->conns));
	w->startq = xcalloc(nconns ? nconns : 1, sizeof(*w->startq));
	for (size_t i = 0; i < nconns; i++) {
		w->conns[i].w = w;
		w->conns[i].fd = -1;
		buf_init(&w->conns[i].out);
	}
	w->scratch_len = SCRATCH_LEN;
	w->scratch = xmalloc(SCRATCH_LEN);
	/* One thread per base: libevent's locks would be pure cost. */
	cfg = event_config_new();
	if (cfg == NULL)
		abort();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	/* Open-loop load ticks faster than epoll's millisecond timeout:
	 * a timerfd keeps the sends spread as asked, not in bursts. */
	if (tick_us < 1000)
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (w->base == NULL)
		abort();
	event_assign(&w->tick, w->base, -1, EV_PERSIST, tick_cb, w);
	tv.tv_sec = tick_us / 1000000;
	tv.tv_usec = tick_us % 1000000;
	event_add(&w->tick, &tv);
}

void worker_free(struct worker *w)
{
	for (size_t i = 0; i < w->nconns; i++) {
		conn_abort(&w->conns[i], NULL);
		free(w->conns[i].jid);
		free(w->conns[i].x);
	}
	event_del(&w->tick);
	event_base_free(w->base);
	free(w->conns);
	free(w->startq);
	free(w->scratch);
	hist_free(&w->lat);
	hist_free(&w->login);
	free(w->x);
	w->conns = NULL;
	w->nconns = 0;
}

void worker_queue(struct worker *w, struct conn *c)
{
	if (c->queued || w->nconns == 0)
		return;
	c->queued = 1;
	w->startq[(w->q_head + w->q_len) % w->nconns] = c;
	w->q_len++;
}

void worker_mark_dirty(struct worker *w, struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = 1;
	c->dirty_next = w->dirty;
	w->dirty = c;
}

void worker_error(struct worker *w, const char *msg)
{
	if (w->first_error[0] == '\0')
		snprintf(w->first_error, sizeof(w->first_error), "%s", msg);
}

void worker_after(struct worker *w)
{
	size_t n;

	/* Flushing may fail a connection, whose scenario hook may send on
	 * another one: loop until nothing is dirty. */
	while (w->dirty != NULL) {
		struct conn *c = w->dirty;

		w->dirty = c->dirty_next;
		c->dirty = 0;
		c->dirty_next = NULL;
		conn_flush(c);
	}
	/* Only what was queued on entry: a connection that fails at once
	 * and is queued again waits for the next callback. */
	n = w->q_len;
	while (n-- > 0 && w->connecting < w->max_connecting &&
	    w->q_len > 0 && *w->phase < PH_CLOSE) {
		struct conn *c = w->startq[w->q_head];

		w->q_head = (w->q_head + 1) % w->nconns;
		w->q_len--;
		c->queued = 0;
		conn_start(c);
	}
	while (w->dirty != NULL) {
		struct conn *c = w->dirty;

		w->dirty = c->dirty_next;
		c->dirty = 0;
		c->dirty_next = NULL;
		conn_flush(c);
	}
}

void worker_close_all(struct worker *w)
{
	for (size_t i = 0; i < w->q_len; i++)
		w->startq[(w->q_head + i) % w->nconns]->queued = 0;
	w->q_len = 0;
	for (size_t i = 0; i < w->nconns; i++)
		conn_close(&w->conns[i]);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t now = now_ns(), ms = now / 1000000u;
	int ph = atomic_load(w->phase);

	if (ph != w->seen_phase) {
		w->seen_phase = ph;
		if (ph == PH_CLOSE)
			worker_close_all(w);
		if (ph == PH_CONNECT && w->ops->autostart)
			for (size_t i = 0; i < w->nconns; i++)
				worker_queue(w, &w->conns[i]);
		if (ph < PH_CLOSE && w->ops->phase != NULL)
			w->ops->phase(w, ph);
	}
	if (ph == PH_EXIT) {
		/* main waited (bounded) for the polite close; whatever is
		 * left now is cut. */
		for (size_t i = 0; i < w->nconns; i++)
			conn_abort(&w->conns[i], NULL);
		worker_after(w);
		event_base_loopbreak(w->base);
		return;
	}
	if (ph < PH_CLOSE && w->ops->tick != NULL)
		w->ops->tick(w, now);
	if (ms >= w->next_deadline_check) {
		w->next_deadline_check = ms + DEADLINE_EVERY_MS;
		for (size_t i = 0; i < w->nconns; i++)
			conn_check_deadline(&w->conns[i], ms);
	}
	worker_after(w);
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

int worker_spawn(struct worker *w)
{
	return pthread_create(&w->thr, NULL, thread_main, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thr, NULL);
}
