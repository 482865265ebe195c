/* traffic.c - see traffic.h. */
#include "store/traffic.h"

#include "store/store_int.h"

static int64_t floor_to(int64_t t, int64_t span)
{
	int64_t r = t % span;

	return r < 0 ? t - r - span : t - r;
}

void traffic_window(int64_t now, int64_t window_s, int64_t *span,
    int64_t *from)
{
	int64_t sp = window_s <= TRAFFIC_MINUTES_KEPT ? TRAFFIC_MINUTE :
	    TRAFFIC_HOUR;
	int64_t n = (window_s + sp - 1) / sp;

	if (n < 1)
		n = 1;
	*span = sp;
	*from = floor_to(now, sp) - (n - 1) * sp;
}

static enum store_rc add_one(struct store *st, int64_t span, int64_t start,
    const char *account, const struct traffic_counts *c)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO traffic (span, start, "
	    "account, messages, bytes, files, file_bytes) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (span, start, account) "
	    "DO UPDATE SET messages = messages + excluded.messages, "
	    "bytes = bytes + excluded.bytes, files = files + excluded.files, "
	    "file_bytes = file_bytes + excluded.file_bytes");

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, span);
	sqlite3_bind_int64(s, 2, start);
	sqlite3_bind_text(s, 3, account, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)c->messages);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)c->bytes);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)c->files);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)c->file_bytes);
	return store_step_done(st, s, "write traffic counts");
}

static enum store_rc add_both(struct store *st, int64_t now,
    const char *account, const struct traffic_counts *c)
{
	enum store_rc rc = add_one(st, TRAFFIC_MINUTE,
	    floor_to(now, TRAFFIC_MINUTE), account, c);

	if (rc != STORE_OK)
		return rc;
	return add_one(st, TRAFFIC_HOUR, floor_to(now, TRAFFIC_HOUR), account,
	    c);
}

static enum store_rc prune(struct store *st, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM traffic WHERE "
	    "span = ?1 AND start < ?2");
	int64_t span, from;
	enum store_rc rc;

	if (s == NULL)
		return STORE_ERR;
	traffic_window(now, TRAFFIC_MINUTES_KEPT, &span, &from);
	sqlite3_bind_int64(s, 1, span);
	sqlite3_bind_int64(s, 2, from);
	rc = store_step_done(st, s, "prune traffic counts");
	if (rc != STORE_OK)
		return rc;
	traffic_window(now, TRAFFIC_HOURS_KEPT, &span, &from);
	sqlite3_bind_int64(s, 1, span);
	sqlite3_bind_int64(s, 2, from);
	return store_step_done(st, s, "prune traffic counts");
}

enum store_rc store_traffic_flush(struct store *st, int64_t now,
    const struct traffic_row *rows, size_t n)
{
	enum store_rc rc = store_begin(st);

	for (size_t i = 0; i < n && rc == STORE_OK; i++)
		rc = add_both(st, now, rows[i].account, &rows[i].c);
	if (rc == STORE_OK)
		rc = prune(st, now);
	if (rc != STORE_OK) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st);
}

#define TOP_SQL(col) "SELECT account, SUM(messages), SUM(bytes), " \
	"SUM(files), SUM(file_bytes) FROM traffic WHERE span = ?1 AND " \
	"start >= ?2 GROUP BY account HAVING SUM(" col ") > 0 " \
	"ORDER BY SUM(" col ") DESC, account LIMIT ?3"

enum store_rc store_traffic_top(struct store *st, int64_t now,
    int64_t window_s, enum traffic_by by, unsigned limit,
    void (*fn)(void *ud, const struct traffic_row *r), void *ud)
{
	sqlite3_stmt *s;
	int64_t span, from;
	int rc;

	switch (by) {
	case TRAFFIC_BY_BYTES:
		s = store_stmt(st, TOP_SQL("bytes"));
		break;
	case TRAFFIC_BY_FILES:
		s = store_stmt(st, TOP_SQL("files"));
		break;
	default:
		s = store_stmt(st, TOP_SQL("messages"));
		break;
	}
	if (s == NULL)
		return STORE_ERR;
	if (window_s > TRAFFIC_WINDOW_MAX)
		window_s = TRAFFIC_WINDOW_MAX;
	traffic_window(now, window_s, &span, &from);
	sqlite3_bind_int64(s, 1, span);
	sqlite3_bind_int64(s, 2, from);
	sqlite3_bind_int64(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct traffic_row r = {
			(const char *)sqlite3_column_text(s, 0),
			{
				(uint64_t)sqlite3_column_int64(s, 1),
				(uint64_t)sqlite3_column_int64(s, 2),
				(uint64_t)sqlite3_column_int64(s, 3),
				(uint64_t)sqlite3_column_int64(s, 4),
			},
		};

		fn(ud, &r);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_db_error(st, "read traffic counts");
		return STORE_ERR;
	}
	return STORE_OK;
}

enum store_rc store_queue_counts(struct store *st, int64_t *offline,
    int64_t *held)
{
	enum store_rc rc = store_query_int(st, offline, "count offline "
	    "messages", "SELECT count(*) FROM offline", NULL);

	if (rc != STORE_OK)
		return rc;
	return store_query_int(st, held, "count held messages",
	    "SELECT count(*) FROM held", NULL);
}
