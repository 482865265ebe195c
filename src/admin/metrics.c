/* metrics.c - see metrics.h. */
#include "admin/metrics.h"

#include <string.h>

/*
 * Bucket bounds, each with its label as OpenMetrics writes the number
 * (Go's shortest form: "5e-06", "0.001", "1.0").
 *
 * Stanza handling, from a complete stanza to routed or refused: about
 * 6 us on the message path today, so the buckets are dense from 5 us to
 * 1 ms (a slow store call shows as a shift to the right) and sparse up
 * to a quarter second (the loop stalled).
 */
static const uint64_t stanza_ns[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
	2500000, 10000000, 50000000, 250000000,
};
static const char *const stanza_le[] = {
	"5e-06", "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
	"0.001", "0.0025", "0.01", "0.05", "0.25",
};

/* One SQLite write or COMMIT: tens of microseconds in WAL mode without
 * a sync, milliseconds when the disk syncs, seconds when something is
 * wrong (a lock held by parleyctl, a failing disk). */
static const uint64_t store_ns[] = {
	25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 100000000, 1000000000,
};
static const char *const store_le[] = {
	"2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
	"0.005", "0.01", "0.025", "0.1", "1.0",
};

/* A login, from the accepted connection to the bound resource: TLS
 * handshake, SCRAM (4096 iterations cost the client, not us) and a few
 * round trips; tens of milliseconds on a LAN, seconds across the world
 * or under the failed-login back-off. */
static const uint64_t login_ns[] = {
	5000000, 10000000, 25000000, 50000000, 100000000, 250000000,
	500000000, 1000000000, 2500000000u, 5000000000u, 10000000000u,
	30000000000u,
};
static const char *const login_le[] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5",
	"5.0", "10.0", "30.0",
};

#define NB(a)	(sizeof(a) / sizeof((a)[0]))

_Static_assert(NB(stanza_ns) == NB(stanza_le), "stanza buckets");
_Static_assert(NB(store_ns) == NB(store_le), "store buckets");
_Static_assert(NB(login_ns) == NB(login_le), "login buckets");
_Static_assert(NB(stanza_ns) <= METRICS_HIST_MAX &&
    NB(store_ns) <= METRICS_HIST_MAX && NB(login_ns) <= METRICS_HIST_MAX,
    "METRICS_HIST_MAX");

#define HIST(b, l)	{ .bounds_ns = (b), .le = (l), .n = NB(b) }

struct metrics metrics = {
	.stanza_time = HIST(stanza_ns, stanza_le),
	.store_write_time = HIST(store_ns, store_le),
	.login_time = HIST(login_ns, login_le),
};

void metrics_observe(struct metrics_hist *h, uint64_t ns)
{
	size_t i = 0;

	while (i < h->n && ns > h->bounds_ns[i])
		i++;
	if (i < h->n)
		h->bucket[i]++;
	h->count++;
	h->sum_ns += ns;
}

enum metrics_kind metrics_kind_of(const char *name)
{
	if (name[0] == 'm')
		return MK_MESSAGE;
	if (name[0] == 'p')
		return MK_PRESENCE;
	return MK_IQ;
}

static void hist_reset(struct metrics_hist *h)
{
	memset(h->bucket, 0, sizeof(h->bucket));
	h->count = 0;
	h->sum_ns = 0;
}

void metrics_reset(void)
{
	struct metrics_hist a = metrics.stanza_time, b = metrics.store_write_time,
	    c = metrics.login_time;

	memset(&metrics, 0, sizeof(metrics));
	metrics.stanza_time = a;
	metrics.store_write_time = b;
	metrics.login_time = c;
	hist_reset(&metrics.stanza_time);
	hist_reset(&metrics.store_write_time);
	hist_reset(&metrics.login_time);
}

/* ---- the text format (OpenMetrics 1.0) --------------------------------- */

static const char *const kind_names[MK_NKINDS] = {
	"message", "presence", "iq",
};
static const char *const limit_names[ML_NLIMITS] = {
	"messages", "presence", "iq", "bytes", "recipients", "connections",
};

/* The metadata of one family: TYPE, UNIT (when unit is not NULL; the
 * name then ends in _unit, as the format requires), HELP. */
static void family(struct buf *b, const char *name, const char *type,
    const char *unit, const char *help)
{
	buf_printf(b, "# TYPE %s %s\n", name, type);
	if (unit != NULL)
		buf_printf(b, "# UNIT %s %s\n", name, unit);
	buf_printf(b, "# HELP %s %s\n", name, help);
}

static void counter(struct buf *b, const char *name, const char *unit,
    const char *help, uint64_t v)
{
	family(b, name, "counter", unit, help);
	buf_printf(b, "%s_total %llu\n", name, (unsigned long long)v);
}

static void by_kind(struct buf *b, const char *name, const char *help,
    const uint64_t v[MK_NKINDS])
{
	family(b, name, "counter", NULL, help);
	for (int k = 0; k < MK_NKINDS; k++)
		buf_printf(b, "%s_total{kind=\"%s\"} %llu\n", name,
		    kind_names[k], (unsigned long long)v[k]);
}

static void gauge(struct buf *b, const char *name, const char *unit,
    const char *help, int64_t v)
{
	family(b, name, "gauge", unit, help);
	if (v >= 0)
		buf_printf(b, "%s %lld\n", name, (long long)v);
}

static void seconds(struct buf *b, uint64_t ns)
{
	buf_printf(b, "%llu.%09llu", (unsigned long long)(ns / 1000000000u),
	    (unsigned long long)(ns % 1000000000u));
}

static void histogram(struct buf *b, const char *name, const char *help,
    const struct metrics_hist *h)
{
	uint64_t cum = 0;

	family(b, name, "histogram", "seconds", help);
	for (size_t i = 0; i < h->n; i++) {
		cum += h->bucket[i];
		buf_printf(b, "%s_bucket{le=\"%s\"} %llu\n", name, h->le[i],
		    (unsigned long long)cum);
	}
	buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	buf_printf(b, "%s_sum ", name);
	seconds(b, h->sum_ns);
	buf_printf(b, "\n%s_count %llu\n", name, (unsigned long long)h->count);
}

void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
    struct buf *b)
{
	family(b, "parley_sessions", "gauge", NULL,
	    "Client connections open now, by whether they have logged in.");
	if (g->sessions_unauth >= 0)
		buf_printf(b, "parley_sessions{state=\"unauthenticated\"} "
		    "%lld\n", (long long)g->sessions_unauth);
	if (g->sessions_auth >= 0)
		buf_printf(b, "parley_sessions{state=\"authenticated\"} %lld\n",
		    (long long)g->sessions_auth);
	counter(b, "parley_connections", NULL,
	    "Client connections accepted.", m->connections);
	counter(b, "parley_logins", NULL, "Successful logins (SASL).",
	    m->logins);
	counter(b, "parley_auth_failures", NULL,
	    "Failed logins: a wrong password or an unknown account.",
	    m->auth_failures);
	by_kind(b, "parley_stanzas_received",
	    "Stanzas received from logged-in clients, by kind.",
	    m->stanzas_in);
	by_kind(b, "parley_stanzas_sent",
	    "Stanzas queued to logged-in clients, by kind.", m->stanzas_out);
	counter(b, "parley_received_bytes", "bytes",
	    "Bytes read from client connections (after TLS).", m->bytes_in);
	counter(b, "parley_sent_bytes", "bytes",
	    "Bytes queued to client connections (before TLS).", m->bytes_out);
	family(b, "parley_rate_limited", "counter", NULL,
	    "Stanzas refused by a per-account rate limit, and connections "
	    "refused by a per-address limit, by limit.");
	for (int i = 0; i < ML_NLIMITS; i++)
		buf_printf(b, "parley_rate_limited_total{limit=\"%s\"} %llu\n",
		    limit_names[i], (unsigned long long)m->rate_limited[i]);
	counter(b, "parley_uploads", NULL,
	    "Files uploaded and published (XEP-0363).", m->uploads);
	counter(b, "parley_upload_bytes", "bytes",
	    "Bytes of the files uploaded and published.", m->upload_bytes);
	gauge(b, "parley_output_queue_bytes", "bytes",
	    "Bytes waiting in client connections' output queues.",
	    g->output_queue_bytes);
	gauge(b, "parley_offline_messages", NULL,
	    "Messages stored for accounts that were offline.",
	    g->offline_messages);
	gauge(b, "parley_held_messages", NULL,
	    "Messages from strangers held until the recipient consents.",
	    g->held_messages);
	gauge(b, "parley_uploads_scanning", NULL,
	    "Uploaded files waiting for the virus scanner's answer.",
	    g->uploads_scanning);
	gauge(b, "parley_traffic_pending_accounts", NULL,
	    "Accounts whose traffic counts wait for the next flush to the "
	    "database.", g->traffic_pending);
	histogram(b, "parley_stanza_handling_seconds",
	    "Time from a complete stanza to it being routed or refused.",
	    &m->stanza_time);
	histogram(b, "parley_store_write_seconds",
	    "Time of one database write statement or commit.",
	    &m->store_write_time);
	histogram(b, "parley_login_seconds",
	    "Time from an accepted connection to a bound resource.",
	    &m->login_time);
	buf_puts(b, "# EOF\n");
}
