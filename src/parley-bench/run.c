/*
 * run.c - what every scenario shares: starting and stopping the workers,
 * the connect phase, waiting with bounds, and the report (human lines on
 * stdout plus one "RESULT key=value ..." line for scripts).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "parley-bench/bench.h"

struct worker *workers;
_Atomic int g_phase = PH_INIT;
_Atomic uint64_t g_t_load, g_t_run;

static struct buf resline = BUF_INIT;

void set_phase(int ph)
{
	atomic_store(&g_phase, ph);
}

void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0)
		;
}

unsigned open_loop_tick_us(double rate)
{
	double per_worker = rate / opt.threads, us;

	if (per_worker <= 0)
		return 1000;
	us = 4e6 / per_worker;
	return us < 100 ? 100 : us > 1000 ? 1000 : (unsigned)us;
}

void workers_create(size_t (*conns_for)(int wid), const struct scen_ops *ops,
	    unsigned tick_us)
{
	int per = (opt.concurrency + opt.threads - 1) / opt.threads;

	workers = xcalloc((size_t)opt.threads, sizeof(*workers));
	for (int i = 0; i < opt.threads; i++) {
		worker_init(&workers[i], i, conns_for(i), ops, &g_phase,
		    tick_us);
		workers[i].max_connecting = per > 0 ? per : 1;
	}
}

void workers_start(void)
{
	for (int i = 0; i < opt.threads; i++) {
		if (worker_spawn(&workers[i]) != 0) {
			fprintf(stderr, "parley-bench: error: cannot start "
			    "a thread\n");
			exit(1);
		}
	}
}

uint64_t sum_stat(size_t off)
{
	uint64_t s = 0;

	for (int i = 0; i < opt.threads; i++)
		s += atomic_load_explicit((_Atomic uint64_t *)(void *)
		    ((char *)&workers[i].st + off), memory_order_relaxed);
	return s;
}

static int all_closed(void)
{
	return SUM(live) == 0;
}

void workers_finish(void)
{
	set_phase(PH_CLOSE);
	/* The polite close waits up to 3 s for each server reply. */
	wait_until(all_closed, 5);
	set_phase(PH_EXIT);
	for (int i = 0; i < opt.threads; i++)
		worker_join(&workers[i]);
}

int wait_until(int (*cond)(void), double timeout_s)
{
	uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);

	for (;;) {
		if (cond())
			return 1;
		if (opt.max_failures >= 0 &&
		    SUM(failed) > (uint64_t)opt.max_failures &&
		    atomic_load(&g_phase) < PH_CLOSE)
			return -1;
		if (now_ns() >= end)
			return 0;
		sleep_s(0.002);
	}
}

static int never(void)
{
	return 0;
}

int run_for(double s)
{
	return wait_until(never, s) < 0 ? -1 : 0;
}

void fail_run(const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	workers_finish();
	fprintf(stderr, "parley-bench: error: %s\n", why);
	exit(1);
}

const char *first_error(void)
{
	for (int i = 0; i < opt.threads; i++)
		if (workers[i].first_error[0] != '\0')
			return workers[i].first_error;
	return "";
}

static uint64_t connect_total;

static int connect_cond(void)
{
	return SUM(up) + SUM(failed) >= connect_total;
}

int connect_all(uint64_t total, struct connect_result *r)
{
	uint64_t t0 = now_ns();
	unsigned long hits, misses;
	int rc;

	connect_total = total;
	set_phase(PH_CONNECT);
	rc = wait_until(connect_cond, opt.connect_timeout);
	if (rc == 1 && SUM(failed) > (uint64_t)opt.max_failures)
		rc = -1;
	r->secs = (double)(now_ns() - t0) / 1e9;
	r->up = SUM(up);
	r->failed = SUM(failed);
	r->rate = r->secs > 0 ? (double)r->up / r->secs : 0;
	if (rc != 1) {
		char why[400];

		if (rc < 0)
			snprintf(why, sizeof(why), "%llu of %llu sessions "
			    "failed to log in (so far); first error: %s",
			    (unsigned long long)r->failed,
			    (unsigned long long)total, first_error());
		else
			snprintf(why, sizeof(why), "only %llu of %llu "
			    "sessions logged in within %.0f s%s%s",
			    (unsigned long long)r->up,
			    (unsigned long long)total, opt.connect_timeout,
			    first_error()[0] ? "; first error: " : "",
			    first_error());
		workers_finish();
		fprintf(stderr, "parley-bench: error: %s\n", why);
		exit(1);
	}
	sasl_cache_stats(&hits, &misses);
	say("  sessions: %llu up in %.2f s = %.0f logins/s, %llu failed "
	    "(PBKDF2 runs in the generator: %lu)\n",
	    (unsigned long long)r->up, r->secs, r->rate,
	    (unsigned long long)r->failed, misses);
	res_add("sessions", "%llu", (unsigned long long)r->up);
	res_add("connect_s", "%.3f", r->secs);
	res_add("connect_rate", "%.1f", r->rate);
	return 0;
}

/* ---- /proc and getrusage ----------------------------------------------- */

static double server_cpu_s(void)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	if (opt.server_pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)opt.server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may contain spaces: fields count from the
	 * last ')'.  utime and stime are fields 14 and 15 (proc(5)). */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long server_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	if (opt.server_pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)opt.server_pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void usage_now(struct usage *u)
{
	struct rusage ru;

	u->t_ns = now_ns();
	u->srv_cpu_s = server_cpu_s();
	getrusage(RUSAGE_SELF, &ru);
	u->gen_cpu_s = (double)ru.ru_utime.tv_sec +
	    (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the report ------------------------------------------------------- */

void say(const char *fmt, ...)
{
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void res_add(const char *key, const char *fmt, ...)
{
	va_list ap;

	buf_printf(&resline, " %s=", key);
	va_start(ap, fmt);
	buf_vprintf(&resline, fmt, ap);
	va_end(ap);
}

void res_print(void)
{
	printf("RESULT scenario=%s%s\n", opt.scen_name, buf_str(&resline));
	fflush(stdout);
	buf_free(&resline);
}

void report_cpu(const struct usage *a, const struct usage *b, uint64_t units,
	    const char *unit)
{
	double dt = (double)(b->t_ns - a->t_ns) / 1e9;
	double gen = b->gen_cpu_s - a->gen_cpu_s;
	double gpct = dt > 0 ? 100 * gen / dt : 0;
	char key[64];

	if (a->srv_cpu_s >= 0 && b->srv_cpu_s >= 0) {
		double srv = b->srv_cpu_s - a->srv_cpu_s;

		say("  server (pid %d): %.2f s CPU in %.2f s = %.0f%% of one "
		    "core", (int)opt.server_pid, srv, dt,
		    dt > 0 ? 100 * srv / dt : 0);
		if (units > 0)
			say(", %.1f us per %s", srv * 1e6 / (double)units,
			    unit);
		say("\n");
		res_add("server_cpu_s", "%.3f", srv);
		res_add("server_cpu_pct", "%.1f", dt > 0 ? 100 * srv / dt : 0);
		if (units > 0) {
			snprintf(key, sizeof(key), "server_us_per_%s", unit);
			res_add(key, "%.2f", srv * 1e6 / (double)units);
		}
	}
	say("  generator: %.2f s CPU = %.0f%% of one core (%d thread%s)%s\n",
	    gen, gpct, opt.threads, opt.threads > 1 ? "s" : "",
	    gpct > 90.0 * opt.threads ? "  -- SATURATED: throughput is the "
	    "generator's limit, not the server's; server CPU per unit still "
	    "holds" : "");
	res_add("gen_cpu_s", "%.3f", gen);
	res_add("gen_cpu_pct", "%.1f", gpct);
}

void report_hist(const char *what, const char *key, const struct hist *h)
{
	char k[64];

	say("  %s: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms "
	    "(%llu samples)\n", what,
	    (double)hist_quantile(h, 0.50) / 1e6,
	    (double)hist_quantile(h, 0.99) / 1e6,
	    (double)hist_quantile(h, 0.999) / 1e6,
	    (double)h->max / 1e6, (unsigned long long)h->count);
	snprintf(k, sizeof(k), "%s_p50_ms", key);
	res_add(k, "%.3f", (double)hist_quantile(h, 0.50) / 1e6);
	snprintf(k, sizeof(k), "%s_p99_ms", key);
	res_add(k, "%.3f", (double)hist_quantile(h, 0.99) / 1e6);
	snprintf(k, sizeof(k), "%s_p999_ms", key);
	res_add(k, "%.3f", (double)hist_quantile(h, 0.999) / 1e6);
	snprintf(k, sizeof(k), "%s_max_ms", key);
	res_add(k, "%.3f", (double)h->max / 1e6);
}

void merged_hist(struct hist *out, int login)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < opt.threads; i++)
		hist_merge(out, login ? &workers[i].login : &workers[i].lat);
}

void run_measured(const char *what, size_t off_a, size_t off_b,
    struct measured *m)
{
	if (opt.warmup > 0) {
		set_phase(PH_WARM);
		if (run_for(opt.warmup) < 0)
			fail_run("%s failed during the warm-up; first error: "
			    "%s", what, first_error());
	}
	/* Counters are read right beside the CPU samples so that per-unit
	 * CPU figures cover exactly the same interval. */
	usage_now(&m->u0);
	m->a0 = sum_stat(off_a);
	m->b0 = sum_stat(off_b);
	atomic_store(&g_t_run, m->u0.t_ns);
	set_phase(PH_RUN);
	if (run_for(opt.duration) < 0)
		fail_run("%s failed during the run; first error: %s", what,
		    first_error());
	usage_now(&m->u1);
	m->a1 = sum_stat(off_a);
	m->b1 = sum_stat(off_b);
}
