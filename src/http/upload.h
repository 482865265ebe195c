/*
 * upload.h - HTTP File Upload (XEP-0363) behind the HTTPS listener:
 * slots, the PUT and GET routes, the virus scan before a file is served,
 * quarantine, quotas and expiry.  im/upload.c is the XMPP side (the slot
 * request IQ and disco); this is everything else.
 *
 * A slot is two URLs with one random token each (128 bits from
 * RAND_bytes): PUT https://HOST/upload/PUTTOKEN/NAME, valid once and for
 * [upload] slot_lifetime, for exactly the slot's size and content type;
 * GET https://HOST/file/GETTOKEN/NAME, valid once the scan said clean and
 * until the file expires.  NAME is the client's file name, cleaned and
 * percent-encoded, only for the client's benefit (http/uploadpath.h).
 *
 * On disk, under [upload] dir: incoming/ while a file arrives and is
 * scanned, files/ once it may be served, quarantine/ when clamd found
 * something.  Each file is named by the 64 hex digits of its GET token's
 * SHA-256, nothing else: no path is ever built from anything a user sent,
 * and the directory is never listed to anyone.
 *
 * The body streams to the file as it arrives (never whole in memory).
 * Then clamd scans it (scan/clamd.h, on the loop) while the PUT waits for
 * its answer: 201 when clean; 422 with the signature when infected (the
 * file goes to quarantine/, the GET URL answers 404 like an unknown one,
 * the uploader's online resources get a notice, the log a line without
 * the file name, and the audit trail a quarantine event); 503 when clamd
 * cannot say (fails closed), unless [scan] fail_open = on.
 *
 * A periodic job on the loop removes files past their expiry and slots
 * never used.  At start, what a previous run left half done is removed.
 */
#ifndef PARLEY_HTTP_UPLOAD_H
#define PARLEY_HTTP_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct http_server;
struct upload_svc;

enum upload_slot_rc {
	UPLOAD_OK,
	UPLOAD_BAD_REQUEST,	/* missing or malformed attribute */
	UPLOAD_TOO_LARGE,	/* size above [upload] max_file_size */
	UPLOAD_TYPE_REFUSED,	/* content type not allowed */
	UPLOAD_QUOTA,		/* the account's quota would be passed */
	UPLOAD_RATE,		/* too many slots in the last hour */
	UPLOAD_ERROR,		/* the server's own trouble */
};

struct upload_slot {
	enum upload_slot_rc rc;
	char		*put_url;	/* UPLOAD_OK: malloc'd */
	char		*get_url;
	char		 text[256];	/* otherwise: why, for <text/> */
	int64_t		 retry_at;	/* UPLOAD_RATE: wall-clock s */
};

/* Makes the directories, cleans up after a previous run, registers the
 * routes.  NULL with a one-line reason in err. */
struct upload_svc *upload_svc_new(struct server *srv, struct http_server *h,
	    char *err, size_t errlen);
/* Call after http_server_free() (requests in flight are gone). */
void	 upload_svc_free(struct upload_svc *u);
/* A slot for owner (localpart).  size and content_type are the request's
 * attributes as sent (content_type may be NULL). */
void	 upload_slot_new(struct upload_svc *u, const char *owner,
	    const char *filename, const char *size, const char *content_type,
	    struct upload_slot *out);
void	 upload_slot_free(struct upload_slot *s);
uint64_t upload_max_file_size(const struct upload_svc *u);
/* Files waiting for the virus scanner's answer (a gauge of /metrics). */
unsigned upload_scanning(const struct upload_svc *u);

#endif
