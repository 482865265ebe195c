/*
 * upload.h - the record of HTTP file uploads (XEP-0363, http/upload.c)
 * and of what the virus scanner found.
 *
 * A slot has two random tokens, one in its PUT URL and one in its GET
 * URL.  Only their SHA-256 is stored, so that a copy of the database
 * hands out no upload or download; the file on disk is named by the hex
 * of the GET hash (64 characters), never by anything a user chose.
 *
 * A row moves only forward:
 *   SLOT -> RECEIVING -> SCANNING -> AVAILABLE | QUARANTINED -> GONE
 * (any state may go to GONE: failed, expired or refused).  Moves are
 * compare-and-set (store_upload_move names the state it expects), so two
 * PUTs racing for one slot cannot both win.  Rows live on as GONE for an
 * hour because the hourly upload count reads them.  The admin's record of
 * uploads and of what the scanner found is the audit trail (kinds upload,
 * quarantine, upload-refused: http/upload.c, store/audit.h).
 */
#ifndef PARLEY_STORE_UPLOAD_H
#define PARLEY_STORE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define UPLOAD_HASH_LEN		32	/* SHA-256 of a token */

enum upload_state {
	UPLOAD_SLOT = 0,	/* given out; its PUT URL not used yet */
	UPLOAD_RECEIVING = 1,	/* the PUT is under way */
	UPLOAD_SCANNING = 2,	/* the body is on disk, clamd is asked */
	UPLOAD_AVAILABLE = 3,	/* served by its GET URL until expires */
	UPLOAD_QUARANTINED = 4,	/* infected: moved aside, never served */
	UPLOAD_GONE = 5,	/* no file: failed, refused or expired */
};

struct upload_rec {
	int64_t		 id;
	unsigned char	 get_hash[UPLOAD_HASH_LEN];
	char		*owner;		/* localpart */
	char		*filename;	/* the URLs' last segment, decoded */
	char		*content_type;
	uint64_t	 size;
	int		 state;		/* enum upload_state */
	int64_t		 created;	/* wall-clock seconds */
	int64_t		 slot_expires;	/* the PUT URL is dead after */
	int64_t		 expires;	/* the file goes after; 0 if none */
};

void	 upload_rec_free(struct upload_rec *r);

/* Records a new slot (state SLOT); *id gets its row. */
enum store_rc store_upload_add(struct store *st,
	    const unsigned char put_hash[UPLOAD_HASH_LEN],
	    const unsigned char get_hash[UPLOAD_HASH_LEN], const char *owner,
	    const char *filename, const char *content_type, uint64_t size,
	    int64_t now, int64_t slot_expires, int64_t *id);
/* The row of a PUT or GET token's hash; STORE_NOT_FOUND if none. */
enum store_rc store_upload_by_put(struct store *st,
	    const unsigned char hash[UPLOAD_HASH_LEN], struct upload_rec *out);
enum store_rc store_upload_by_get(struct store *st,
	    const unsigned char hash[UPLOAD_HASH_LEN], struct upload_rec *out);
/* Moves row id from state from to state to, setting expires when it is
 * not 0; STORE_NOT_FOUND when the row is not in state from. */
enum store_rc store_upload_move(struct store *st, int64_t id, int from,
	    int to, int64_t expires);
/* What owner holds at now: bytes of its live rows (slots not yet dead
 * count, so that slots cannot be hoarded past the quota), the slots it
 * requested since since, and when the oldest of those was (0: none). */
enum store_rc store_upload_usage(struct store *st, const char *owner,
	    int64_t now, int64_t since, uint64_t *bytes, unsigned *count,
	    int64_t *oldest);

struct upload_due {
	int64_t		 id;
	int		 state;
	unsigned char	 get_hash[UPLOAD_HASH_LEN];
};
/* Up to max rows whose time is up at now (files past expires, slots past
 * slot_expires), and with unfinished set, every row a previous run left
 * RECEIVING or SCANNING; *n gets the count. */
enum store_rc store_upload_due(struct store *st, int64_t now,
	    int unfinished, struct upload_due *out, size_t max, size_t *n);
/* Deletes GONE rows created before before. */
enum store_rc store_upload_prune(struct store *st, int64_t before);

#endif
