/* upload.c - see upload.h. */
#include "http/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "admin/metrics.h"
#include "admin/traffic.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "http/http.h"
#include "http/uploadpath.h"
#include "im/im.h"
#include "scan/clamd.h"
#include "store/upload.h"
#include "xmpp/server.h"

#define FILE_HEX	(2 * UPLOAD_HASH_LEN)
/* Seconds between expiry sweeps (1 when a test sets expire_seconds). */
#define SWEEP_S		60
/* Rows handled per sweep step. */
#define SWEEP_BATCH	64
/* Free space kept on the upload file system beyond a new file. */
#define DISK_RESERVE	(64ull * 1024 * 1024)

struct upload_svc {
	struct server		*srv;
	const struct config	*cfg;
	struct scanner		*scanner;	/* NULL: [scan] enabled = off */
	int			 incoming_fd, files_fd, quarantine_fd;
	char			*base_url;	/* "https://host:port" */
	struct event		*ev_sweep;
	unsigned		 scanning;	/* files at clamd now */
};

/* One PUT, from its headers to its answer. */
struct put {
	struct upload_svc	*u;
	struct http_req		*r;
	struct upload_rec	 rec;
	char			 file[FILE_HEX + 1];
	int			 fd;
	int			 state;		/* the row's, as we moved it */
	int			 write_failed;
	uint64_t		 got;
	struct scan		*scan;
};

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void token_hash(const unsigned char token[UPLOAD_TOKEN_LEN],
    unsigned char out[UPLOAD_HASH_LEN])
{
	unsigned int n = UPLOAD_HASH_LEN;

	EVP_Digest(token, UPLOAD_TOKEN_LEN, out, &n, EVP_sha256(), NULL);
}

static int64_t expire_after(const struct config *c)
{
	return c->upload_expire_seconds ? (int64_t)c->upload_expire_seconds :
	    (int64_t)c->upload_expire_days * 86400;
}

static const char *who(const struct upload_svc *u, const char *owner,
    char *out, size_t len)
{
	snprintf(out, len, "%s@%s", owner, u->cfg->domain);
	return out;
}

/* Strict decimal, as in an HTTP Content-Length or an XEP-0363 size. */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 19)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int type_listed(const struct type_list *l, const char *media)
{
	size_t mlen = strlen(media);

	for (size_t i = 0; i < l->n; i++) {
		const char *t = l->v[i];
		size_t tl = strlen(t);

		if (strcmp(t, media) == 0)
			return 1;
		/* "image/" and a star cover image/png. */
		if (tl >= 2 && t[tl - 1] == '*' && t[tl - 2] == '/' &&
		    mlen > tl - 1 && strncmp(t, media, tl - 1) == 0)
			return 1;
	}
	return 0;
}

/* ---- slots -------------------------------------------------------------- */

unsigned upload_scanning(const struct upload_svc *u)
{
	return u->scanning;
}

uint64_t upload_max_file_size(const struct upload_svc *u)
{
	return u->cfg->upload_max_file_size;
}

void upload_slot_free(struct upload_slot *s)
{
	free(s->put_url);
	free(s->get_url);
	s->put_url = s->get_url = NULL;
}

static void refuse(struct upload_slot *out, enum upload_slot_rc rc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(struct upload_slot *out, enum upload_slot_rc rc,
    const char *fmt, ...)
{
	va_list ap;

	out->rc = rc;
	va_start(ap, fmt);
	vsnprintf(out->text, sizeof(out->text), fmt, ap);
	va_end(ap);
}

static char *make_url(const struct upload_svc *u, const char *kind,
    const unsigned char token[UPLOAD_TOKEN_LEN], const char *name)
{
	struct buf b = BUF_INIT;
	char th[UPLOAD_TOKEN_HEX + 1];

	hex(token, UPLOAD_TOKEN_LEN, th);
	buf_printf(&b, "%s/%s/%s/", u->base_url, kind, th);
	upload_name_encode(name, &b);
	return buf_steal(&b);
}

void upload_slot_new(struct upload_svc *u, const char *owner,
    const char *filename, const char *size_s, const char *content_type,
    struct upload_slot *out)
{
	const struct config *c = u->cfg;
	char name[PARLEY_UPLOAD_NAME_MAX + 1];
	char media[PARLEY_UPLOAD_TYPE_MAX + 1];
	unsigned char put[UPLOAD_TOKEN_LEN], get[UPLOAD_TOKEN_LEN];
	unsigned char put_h[UPLOAD_HASH_LEN], get_h[UPLOAD_HASH_LEN];
	int64_t now = clock_wall_s(), id, oldest;
	uint64_t size, used;
	unsigned count;
	char w[1100];

	memset(out, 0, sizeof(*out));
	if (filename == NULL || *filename == '\0') {
		refuse(out, UPLOAD_BAD_REQUEST, "the request needs a filename");
		return;
	}
	if (parse_size(size_s, &size) != 0) {
		refuse(out, UPLOAD_BAD_REQUEST, "size must be a number of "
		    "bytes");
		return;
	}
	if (size > c->upload_max_file_size) {
		refuse(out, UPLOAD_TOO_LARGE, "file too large: the largest "
		    "file this server accepts is %zu bytes",
		    c->upload_max_file_size);
		return;
	}
	if (content_type == NULL || *content_type == '\0')
		content_type = "application/octet-stream";
	if (upload_type_parse(content_type, media, sizeof(media)) != 0) {
		refuse(out, UPLOAD_BAD_REQUEST, "content-type must be a media "
		    "type such as image/png");
		return;
	}
	if (type_listed(&c->upload_refused_types, media) ||
	    (c->upload_allowed_types.n > 0 &&
	    !type_listed(&c->upload_allowed_types, media))) {
		refuse(out, UPLOAD_TYPE_REFUSED, "files of type %s are not "
		    "accepted here", media);
		return;
	}
	if (store_upload_usage(u->srv->store, owner, now, now - 3600, &used,
	    &count, &oldest) != STORE_OK) {
		log_error("upload: %s", store_errmsg(u->srv->store));
		refuse(out, UPLOAD_ERROR, "internal error");
		return;
	}
	if (count >= c->uploads_per_hour) {
		refuse(out, UPLOAD_RATE, "too many uploads: at most %u an hour",
		    c->uploads_per_hour);
		out->retry_at = oldest + 3600;
		return;
	}
	if (used + size > c->upload_quota) {
		refuse(out, UPLOAD_QUOTA, "upload quota reached: %llu of %zu "
		    "bytes in use; files expire after %lld s",
		    (unsigned long long)used, c->upload_quota,
		    (long long)expire_after(c));
		return;
	}
	upload_name_clean(filename, strlen(filename), name,
	    PARLEY_UPLOAD_NAME_MAX);
	if (RAND_bytes(put, sizeof(put)) != 1 ||
	    RAND_bytes(get, sizeof(get)) != 1) {
		log_error("upload: no randomness for a token");
		refuse(out, UPLOAD_ERROR, "internal error");
		return;
	}
	token_hash(put, put_h);
	token_hash(get, get_h);
	if (store_upload_add(u->srv->store, put_h, get_h, owner, name,
	    content_type, size, now, now + (int64_t)c->upload_slot_lifetime,
	    &id) != STORE_OK) {
		log_error("upload: %s", store_errmsg(u->srv->store));
		refuse(out, UPLOAD_ERROR, "internal error");
		return;
	}
	out->put_url = make_url(u, "upload", put, name);
	out->get_url = make_url(u, "file", get, name);
	out->rc = UPLOAD_OK;
	log_info("upload: slot %lld for %s: %llu bytes, %s",
	    (long long)id, who(u, owner, w, sizeof(w)),
	    (unsigned long long)size, media);
}

/* ---- PUT ---------------------------------------------------------------- */

static void put_fail_row(struct put *p)
{
	if (p->state != UPLOAD_GONE &&
	    store_upload_move(p->u->srv->store, p->rec.id, p->state,
	    UPLOAD_GONE, 0) == STORE_ERR)
		log_error("upload: %s", store_errmsg(p->u->srv->store));
	p->state = UPLOAD_GONE;
}

/* Drops what this PUT stored so far. */
static void put_discard(struct put *p)
{
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
		unlinkat(p->u->incoming_fd, p->file, 0);
	}
	put_fail_row(p);
}

static void put_begin(struct http_req *r)
{
	struct upload_svc *u = http_req_route(r)->ud;
	unsigned char token[UPLOAD_TOKEN_LEN], h[UPLOAD_HASH_LEN];
	char name[PARLEY_UPLOAD_NAME_MAX + 1];
	const char *cl = http_req_header(r, "Content-Length");
	const char *ct = http_req_header(r, "Content-Type");
	struct upload_rec rec;
	struct statvfs vfs;
	uint64_t len;
	enum store_rc rc;
	struct put *p;
	char msg[200];

	if (upload_path_parse(http_req_path(r), "/upload/", token, name,
	    sizeof(name)) != 0) {
		http_reply_text(r, 404, "no such upload slot");
		return;
	}
	token_hash(token, h);
	rc = store_upload_by_put(u->srv->store, h, &rec);
	if (rc == STORE_ERR) {
		log_error("upload: %s", store_errmsg(u->srv->store));
		http_reply_text(r, 500, "internal error");
		return;
	}
	if (rc == STORE_NOT_FOUND || strcmp(rec.filename, name) != 0) {
		if (rc == STORE_OK)
			upload_rec_free(&rec);
		http_reply_text(r, 404, "no such upload slot");
		return;
	}
	if (clock_wall_s() >= rec.slot_expires) {
		http_reply_text(r, 410, "this upload slot has expired; ask "
		    "for a new one");
		goto out;
	}
	if (rec.state != UPLOAD_SLOT) {
		http_reply_text(r, 409, "this upload URL was used already; "
		    "ask for a new slot");
		goto out;
	}
	if (http_req_header(r, "Transfer-Encoding") != NULL || cl == NULL) {
		http_reply_text(r, 411, "send the file with a Content-Length");
		goto out;
	}
	if (parse_size(cl, &len) != 0 || len != rec.size) {
		snprintf(msg, sizeof(msg), "Content-Length must be %llu, the "
		    "size given in the slot request",
		    (unsigned long long)rec.size);
		http_reply_text(r, parse_size(cl, &len) == 0 &&
		    len > rec.size ? 413 : 400, msg);
		goto out;
	}
	if (ct == NULL || strcasecmp(ct, rec.content_type) != 0) {
		snprintf(msg, sizeof(msg), "Content-Type must be %s, as in "
		    "the slot request", rec.content_type);
		http_reply_text(r, 415, msg);
		goto out;
	}
	if (fstatvfs(u->incoming_fd, &vfs) == 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize <
	    rec.size + DISK_RESERVE) {
		log_error("upload: the upload file system is full");
		http_reply_text(r, 507, "the server has no room for this file "
		    "now");
		goto out;
	}
	/* Compare-and-set: of two PUTs racing for one slot, one wins. */
	rc = store_upload_move(u->srv->store, rec.id, UPLOAD_SLOT,
	    UPLOAD_RECEIVING, 0);
	if (rc != STORE_OK) {
		if (rc == STORE_ERR)
			log_error("upload: %s", store_errmsg(u->srv->store));
		http_reply_text(r, rc == STORE_ERR ? 500 : 409, rc ==
		    STORE_ERR ? "internal error" : "this upload URL was used "
		    "already; ask for a new slot");
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->u = u;
	p->r = r;
	p->rec = rec;
	p->state = UPLOAD_RECEIVING;
	hex(rec.get_hash, UPLOAD_HASH_LEN, p->file);
	p->fd = openat(u->incoming_fd, p->file, O_RDWR | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600);
	http_req_set_data(r, p);
	if (p->fd < 0) {
		log_error("upload: cannot create incoming/%s: %s", p->file,
		    strerror(errno));
		put_fail_row(p);
		http_reply_text(r, 500, "cannot store the file");
	}
	return;
out:
	upload_rec_free(&rec);
}

static void put_body(struct http_req *r, const char *data, size_t len)
{
	struct put *p = http_req_data(r);

	if (p == NULL || p->fd < 0)
		return;
	if (p->got + len > p->rec.size) {
		put_discard(p);
		http_reply_text(r, 413, "more bytes than the slot's size");
		return;
	}
	while (len > 0) {
		ssize_t n = write(p->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("upload: writing incoming/%s: %s", p->file,
			    n < 0 ? strerror(errno) : "no progress");
			put_discard(p);
			http_reply_text(r, 507, "the server could not store "
			    "the file");
			return;
		}
		data += n;
		len -= (size_t)n;
		p->got += (uint64_t)n;
	}
}

/*
 * The audit trail's record of an upload (xmpp/audit.h): kind upload (served:
 * scan=clean, off or unscanned), quarantine (scan=infected) or
 * upload-refused (scan=scan-failed), with the uploader's account and the
 * HTTP client's address.  The detail reads "id=N size=N type=T scan=S",
 * then file=quarantine/HEX for a quarantined file, then signature= or
 * reason= (free text, last).  Never the file name the uploader chose.
 */
static void record_event(struct put *p, const char *kind, const char *scan,
    const char *file, const char *label, const char *text)
{
	server_audit(p->u->srv, kind, p->rec.owner, http_req_peer(p->r),
	    "id=%lld size=%llu type=%s scan=%s%s%s%s%s%s%s",
	    (long long)p->rec.id, (unsigned long long)p->rec.size,
	    p->rec.content_type, scan, file ? " file=quarantine/" : "",
	    file ? file : "", text ? " " : "", text ? label : "",
	    text ? "=" : "", text ? text : "");
}

/* Moves the file from incoming/ to dir_fd and the row to state. */
static int put_move(struct put *p, int dir_fd, int state)
{
	if (renameat(p->u->incoming_fd, p->file, dir_fd, p->file) != 0) {
		log_error("upload: cannot move incoming/%s: %s", p->file,
		    strerror(errno));
		return -1;
	}
	close(p->fd);
	p->fd = -1;
	if (store_upload_move(p->u->srv->store, p->rec.id, p->state, state,
	    clock_wall_s() + expire_after(p->u->cfg)) != STORE_OK) {
		log_error("upload: %s", store_errmsg(p->u->srv->store));
		unlinkat(dir_fd, p->file, 0);
		p->state = UPLOAD_GONE;
		return -1;
	}
	p->state = state;
	return 0;
}

/* scan: what the audit trail says of the scan (see record_event). */
static void publish(struct put *p, const char *scan, const char *reason)
{
	char w[1100];

	if (put_move(p, p->u->files_fd, UPLOAD_AVAILABLE) != 0) {
		put_discard(p);
		http_reply_text(p->r, 500, "cannot store the file");
		return;
	}
	log_info("upload %lld: %s stored %llu bytes", (long long)p->rec.id,
	    who(p->u, p->rec.owner, w, sizeof(w)),
	    (unsigned long long)p->rec.size);
	metrics.uploads++;
	metrics.upload_bytes += p->rec.size;
	traffic_file(p->u->srv->traffic, p->rec.owner, p->rec.size);
	record_event(p, "upload", scan, NULL, "reason", reason);
	http_reply_text(p->r, 201, "stored");
}

static void quarantine(struct put *p, const char *signature)
{
	struct upload_svc *u = p->u;
	char msg[300], w[1100];

	who(u, p->rec.owner, w, sizeof(w));
	/* The file name is the uploader's text: it stays out of the log. */
	log_warn("upload %lld: %s sent an infected file (%llu bytes, %s): "
	    "%s; quarantined as quarantine/%s", (long long)p->rec.id, w,
	    (unsigned long long)p->rec.size, p->rec.content_type, signature,
	    p->file);
	if (put_move(p, u->quarantine_fd, UPLOAD_QUARANTINED) != 0)
		put_discard(p);
	record_event(p, "quarantine", "infected",
	    p->state == UPLOAD_QUARANTINED ? p->file : NULL, "signature",
	    signature);
	snprintf(msg, sizeof(msg), "Your upload was refused: the virus "
	    "scanner found %s in it. The file was quarantined and the "
	    "administrator has been told.", signature);
	im_upload_notice(u->srv, p->rec.owner, msg);
	http_reply_text(p->r, 422, msg);
}

static void scan_done(void *ud, enum scan_verdict v, const char *detail)
{
	struct put *p = ud;
	char w[1100];

	p->scan = NULL;
	p->u->scanning--;
	switch (v) {
	case SCAN_CLEAN:
		publish(p, "clean", NULL);
		return;
	case SCAN_INFECTED:
		quarantine(p, detail);
		return;
	case SCAN_FAILED:
		break;
	}
	who(p->u, p->rec.owner, w, sizeof(w));
	if (p->u->cfg->scan_fail_open) {
		log_warn("upload %lld: from %s NOT scanned ([scan] fail_open "
		    "= on): %s", (long long)p->rec.id, w, detail);
		publish(p, "unscanned", detail);
		return;
	}
	log_error("upload %lld: from %s refused, it could not be scanned: %s",
	    (long long)p->rec.id, w, detail);
	record_event(p, "upload-refused", "scan-failed", NULL, "reason",
	    detail);
	put_discard(p);
	http_reply_text(p->r, 503, "Refused: the file could not be scanned "
	    "for viruses (the scanner is unavailable), so it was not stored. "
	    "Try again later.");
}

static void put_end(struct http_req *r)
{
	struct put *p = http_req_data(r);

	if (p == NULL || p->fd < 0)
		return;		/* answered already */
	if (p->got != p->rec.size) {
		put_discard(p);
		http_reply_text(r, 400, "the body is shorter than the slot's "
		    "size");
		return;
	}
	if (store_upload_move(p->u->srv->store, p->rec.id, UPLOAD_RECEIVING,
	    UPLOAD_SCANNING, 0) != STORE_OK) {
		put_discard(p);
		http_reply_text(r, 500, "internal error");
		return;
	}
	p->state = UPLOAD_SCANNING;
	if (p->u->scanner == NULL) {
		publish(p, "off", NULL);
		return;
	}
	http_req_wait(r);
	p->u->scanning++;
	p->scan = scanner_submit(p->u->scanner, p->fd, p->rec.size, scan_done,
	    p);
}

static void put_done(struct http_req *r)
{
	struct put *p = http_req_data(r);

	if (p == NULL)
		return;
	if (p->scan != NULL) {
		scan_cancel(p->scan);
		p->u->scanning--;
	}
	/* The client went away before the end, or the server stops. */
	if (p->state == UPLOAD_RECEIVING || p->state == UPLOAD_SCANNING)
		put_discard(p);
	if (p->fd >= 0)
		close(p->fd);
	upload_rec_free(&p->rec);
	free(p);
}

/* ---- GET ---------------------------------------------------------------- */

/* Shown in place (pictures, sound, video, plain text) or saved. */
static const char *disposition(const char *content_type)
{
	static const char *const inline_types[] = {
		"image/", "audio/", "video/", "text/plain",
	};

	for (size_t i = 0; i < sizeof(inline_types) / sizeof(inline_types[0]);
	    i++)
		if (strncasecmp(content_type, inline_types[i],
		    strlen(inline_types[i])) == 0)
			return "inline";
	return "attachment";
}

static void get_begin(struct http_req *r)
{
	struct upload_svc *u = http_req_route(r)->ud;
	unsigned char token[UPLOAD_TOKEN_LEN], h[UPLOAD_HASH_LEN];
	char name[PARLEY_UPLOAD_NAME_MAX + 1], file[FILE_HEX + 1];
	struct upload_rec rec;
	enum store_rc rc;
	struct stat sb;
	int fd;

	/* Unknown, quarantined, expired or misspelt: all the same 404,
	 * so that nothing tells one from another. */
	if (upload_path_parse(http_req_path(r), "/file/", token, name,
	    sizeof(name)) != 0) {
		http_reply_text(r, 404, "not found");
		return;
	}
	token_hash(token, h);
	rc = store_upload_by_get(u->srv->store, h, &rec);
	if (rc == STORE_ERR) {
		log_error("upload: %s", store_errmsg(u->srv->store));
		http_reply_text(r, 500, "internal error");
		return;
	}
	if (rc == STORE_NOT_FOUND) {
		http_reply_text(r, 404, "not found");
		return;
	}
	if (rec.state != UPLOAD_AVAILABLE || rec.expires <= clock_wall_s() ||
	    strcmp(rec.filename, name) != 0) {
		http_reply_text(r, 404, "not found");
		goto out;
	}
	hex(rec.get_hash, UPLOAD_HASH_LEN, file);
	fd = openat(u->files_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (uint64_t)sb.st_size != rec.size) {
		if (fd >= 0)
			close(fd);
		http_reply_text(r, 404, "not found");
		goto out;
	}
	http_reply_file(r, fd, rec.size, rec.content_type,
	    disposition(rec.content_type));
out:
	upload_rec_free(&rec);
}

/* ---- expiry ------------------------------------------------------------- */

/* Removes the files of rows whose time is up (or, at start, that a
 * previous run left half done) and marks the rows gone. */
static void sweep(struct upload_svc *u, int unfinished)
{
	struct upload_due due[SWEEP_BATCH];
	int64_t now = clock_wall_s();
	size_t n, files = 0;

	do {
		if (store_upload_due(u->srv->store, now, unfinished, due,
		    SWEEP_BATCH, &n) != STORE_OK) {
			log_error("upload: %s", store_errmsg(u->srv->store));
			return;
		}
		for (size_t i = 0; i < n; i++) {
			char file[FILE_HEX + 1];
			int dir = -1;

			hex(due[i].get_hash, UPLOAD_HASH_LEN, file);
			if (due[i].state == UPLOAD_AVAILABLE)
				dir = u->files_fd;
			else if (due[i].state == UPLOAD_QUARANTINED)
				dir = u->quarantine_fd;
			else if (due[i].state != UPLOAD_SLOT)
				dir = u->incoming_fd;
			if (dir >= 0 && unlinkat(dir, file, 0) == 0)
				files++;
			if (store_upload_move(u->srv->store, due[i].id,
			    due[i].state, UPLOAD_GONE, 0) == STORE_ERR) {
				log_error("upload: %s",
				    store_errmsg(u->srv->store));
				return;
			}
		}
	} while (n == SWEEP_BATCH);
	if (files > 0)
		log_info("upload: removed %zu expired file%s", files,
		    files == 1 ? "" : "s");
	/* Gone rows only count for the hourly limit. */
	if (store_upload_prune(u->srv->store, now - 3600) != STORE_OK)
		log_error("upload: %s", store_errmsg(u->srv->store));
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	sweep(arg, 0);
}

/* ---- set-up ------------------------------------------------------------- */

static int open_dir(int parent, const char *name, const char *shown,
    char *err, size_t errlen)
{
	int fd;

	if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", shown,
		    strerror(errno));
		return -1;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", shown,
		    strerror(errno));
	return fd;
}

/* Nothing is in flight at start: whatever incoming/ holds is stale. */
static void clear_incoming(struct upload_svc *u)
{
	int fd = fcntl(u->incoming_fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(u->incoming_fd, e->d_name, 0);
	closedir(d);
}

static char *base_url(const struct config *c, const struct http_server *h)
{
	struct buf b = BUF_INIT;

	if (*c->http_url != '\0')
		return xstrdup(c->http_url);
	buf_printf(&b, "https://%s:%d", c->domain, http_server_port(h, 0));
	return buf_steal(&b);
}

struct upload_svc *upload_svc_new(struct server *srv, struct http_server *h,
    char *err, size_t errlen)
{
	const struct config *c = srv->cfg;
	struct upload_svc *u = xcalloc(1, sizeof(*u));
	struct http_route put = {
		.prefix = "/upload/", .methods = HTTP_PUT, .begin = put_begin,
		.body = put_body, .end = put_end, .done = put_done, .ud = u,
	};
	struct http_route get = {
		.prefix = "/file/", .methods = HTTP_GET | HTTP_HEAD,
		.begin = get_begin, .ud = u,
	};
	struct timeval tv = { c->upload_expire_seconds ? 1 : SWEEP_S, 0 };
	char why[200];
	int top;

	u->srv = srv;
	u->cfg = c;
	u->incoming_fd = u->files_fd = u->quarantine_fd = -1;
	top = open_dir(AT_FDCWD, c->upload_dir, c->upload_dir, err, errlen);
	if (top < 0)
		goto fail;
	u->incoming_fd = open_dir(top, "incoming", "uploads/incoming", err,
	    errlen);
	u->files_fd = open_dir(top, "files", "uploads/files", err, errlen);
	u->quarantine_fd = open_dir(top, "quarantine", "uploads/quarantine",
	    err, errlen);
	close(top);
	if (u->incoming_fd < 0 || u->files_fd < 0 || u->quarantine_fd < 0)
		goto fail;
	u->base_url = base_url(c, h);
	if (c->scan_enabled) {
		u->scanner = scanner_new(srv->base, c->clamd_socket,
		    c->scan_timeout);
		if (!scanner_reachable(u->scanner, why, sizeof(why)))
			log_warn("upload: %s; uploads are refused until clamd "
			    "answers", why);
	} else {
		log_warn("[scan] enabled = off: uploaded files are served "
		    "without a virus scan");
	}
	clear_incoming(u);
	sweep(u, 1);
	http_server_route(h, &put);
	http_server_route(h, &get);
	u->ev_sweep = event_new(srv->base, -1, EV_PERSIST, sweep_cb, u);
	event_add(u->ev_sweep, &tv);
	log_info("file uploads at %s (XEP-0363), files kept %lld s",
	    u->base_url, (long long)expire_after(c));
	return u;
fail:
	upload_svc_free(u);
	return NULL;
}

void upload_svc_free(struct upload_svc *u)
{
	if (u == NULL)
		return;
	if (u->ev_sweep != NULL)
		event_free(u->ev_sweep);
	scanner_free(u->scanner);
	if (u->incoming_fd >= 0)
		close(u->incoming_fd);
	if (u->files_fd >= 0)
		close(u->files_fd);
	if (u->quarantine_fd >= 0)
		close(u->quarantine_fd);
	free(u->base_url);
	free(u);
}
