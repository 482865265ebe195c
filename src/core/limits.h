/*
 * limits.h - every limit on untrusted input, with its reason and ceiling.
 *
 * Each PARLEY_*_DEFAULT is the value used when the config file is silent;
 * each PARLEY_*_CEILING is the largest value the config may set (config.c
 * refuses more).  Each limit is enforced at exactly one site, named here.
 */
#ifndef PARLEY_CORE_LIMITS_H
#define PARLEY_CORE_LIMITS_H

/*
 * Bytes of one stanza, counted from the first byte after the previous
 * top-level item up to the end of the stanza's closing tag, so a half-sent
 * start tag or an endless text node counts too.  RFC 6120 section 13.12
 * asks servers to bound this; 256 KiB fits avatars and OMEMO bundles.
 * Enforced in xml/stream.c.
 */
#define PARLEY_STANZA_MAX_DEFAULT	(256u * 1024u)
#define PARLEY_STANZA_MAX_CEILING	(16u * 1024u * 1024u)
#define PARLEY_STANZA_MAX_FLOOR		10000u	/* RFC 6120 13.12: >= 10000 */

/* Bytes of the stream header (<?xml ...?><stream:stream ...>).
 * Enforced in xml/stream.c. */
#define PARLEY_HEADER_MAX_DEFAULT	4096u
#define PARLEY_HEADER_MAX_CEILING	65536u

/* Element nesting inside a stanza (the stanza itself is depth 1).  Deep
 * nesting costs stack and time in every consumer.  Enforced in xml/stream.c. */
#define PARLEY_DEPTH_MAX_DEFAULT	32u
#define PARLEY_DEPTH_MAX_CEILING	256u

/* Attributes on one element (expat's hash of attributes is the cost).
 * Enforced in xml/stream.c. */
#define PARLEY_ATTRS_MAX_DEFAULT	64u
#define PARLEY_ATTRS_MAX_CEILING	1024u

/* RFC 7622 section 3.1: each JID part is at most 1023 bytes. Enforced in
 * xmpp/jid.c. */
#define PARLEY_JID_PART_MAX		1023u

/* SASL: bytes of one decoded SASL message (SCRAM messages are short).
 * Enforced in xmpp/sasl.c. */
#define PARLEY_SASL_MSG_MAX		4096u

/* Output queued to one connection before it is dropped as a slow reader.
 * Enforced in net/conn.c. */
#define PARLEY_OUTQ_MAX_DEFAULT		(4u * 1024u * 1024u)
#define PARLEY_OUTQ_MAX_CEILING		(256u * 1024u * 1024u)

/* Connections from one address that have not authenticated yet (attackers
 * and slowloris; never a bound on an office behind NAT once logged in).
 * Enforced in net/addrlimit.c. */
#define PARLEY_UNAUTH_PER_ADDR_DEFAULT	32u
#define PARLEY_UNAUTH_PER_ADDR_CEILING	100000u

/* New connections per address per second (token bucket, burst = 4x).
 * Enforced in net/addrlimit.c. */
#define PARLEY_CONNECT_RATE_DEFAULT	20u
#define PARLEY_CONNECT_RATE_CEILING	1000000u

/* Sessions (resources) of one account at once.  Enforced in xmpp/router.c. */
#define PARLEY_SESSIONS_PER_ACCOUNT_DEFAULT	10u
#define PARLEY_SESSIONS_PER_ACCOUNT_CEILING	1000u

/* Seconds an unauthenticated connection may take to log in and bind. */
#define PARLEY_AUTH_TIMEOUT_DEFAULT	30u
#define PARLEY_AUTH_TIMEOUT_CEILING	3600u

/* SCRAM iteration count for new credentials (RFC 7677 asks >= 4096). */
#define PARLEY_SCRAM_ITER_DEFAULT	4096u
#define PARLEY_SCRAM_ITER_FLOOR		4096u
#define PARLEY_SCRAM_ITER_CEILING	1000000u

/* Password bytes accepted by parleyctl and PLAIN. */
#define PARLEY_PASSWORD_MAX		1023u

/* Visible roster items per account (RFC 6121 2.3.3 lets a server refuse
 * more).  Enforced in im/roster.c. */
#define PARLEY_ROSTER_MAX_DEFAULT	1000u
#define PARLEY_ROSTER_MAX_CEILING	100000u

/* Offline messages held per account, by count and by bytes (XEP-0160);
 * past either the sender gets resource-constraint.  0 messages turns
 * offline storage off.  Enforced in store/offline.c. */
#define PARLEY_OFFLINE_MSGS_DEFAULT	1000u
#define PARLEY_OFFLINE_MSGS_CEILING	1000000u
#define PARLEY_OFFLINE_BYTES_DEFAULT	(4u * 1024u * 1024u)
#define PARLEY_OFFLINE_BYTES_CEILING	(1024u * 1024u * 1024u)

/* Serialized bytes of one vCard (XEP-0054) and of one private XML entry
 * (XEP-0049).  Enforced in im/vcard.c and im/private.c. */
#define PARLEY_VCARD_MAX_DEFAULT	(64u * 1024u)
#define PARLEY_PRIVATE_MAX_DEFAULT	(64u * 1024u)
#define PARLEY_BLOB_MAX_CEILING		PARLEY_STANZA_MAX_CEILING

/* PEP (XEP-0163): nodes per account and items kept per node.  Enforced
 * in im/pep.c. */
#define PARLEY_PEP_NODES_DEFAULT	64u
#define PARLEY_PEP_NODES_CEILING	10000u
#define PARLEY_PEP_ITEMS_DEFAULT	32u
#define PARLEY_PEP_ITEMS_CEILING	10000u

/* Presence updates held back for a client that said it is inactive
 * (XEP-0352), one per sender; past this the queue is flushed.  Enforced
 * in xmpp/session.c. */
#define PARLEY_CSI_HELD_DEFAULT		500u
#define PARLEY_CSI_HELD_CEILING		100000u

/* First-contact consent (im/consent.c): a stranger's messages wait in the
 * store until the recipient answers the contact request they became.  A
 * few short messages say who is asking; more would turn the waiting room
 * into a mailbox for spam.  Per (sender, recipient), by count and by
 * serialized bytes; past either the sender gets policy-violation.
 * Enforced in store/held.c. */
#define PARLEY_HELD_MSGS_DEFAULT	5u
#define PARLEY_HELD_MSGS_CEILING	100u
#define PARLEY_HELD_BYTES_DEFAULT	(8u * 1024u)
#define PARLEY_HELD_BYTES_FLOOR		1024u
#define PARLEY_HELD_BYTES_CEILING	(1024u * 1024u)

/* New contact requests (first held messages) one sender may start per
 * hour, each recipient at most once an hour: a person meets a few new
 * people an hour, a spammer wants thousands.  Enforced in store/held.c. */
#define PARLEY_FIRST_CONTACTS_HOUR_DEFAULT	10u
#define PARLEY_FIRST_CONTACTS_HOUR_CEILING	10000u

/* Items in one account's blocklist (XEP-0191).  Each online account's
 * list is kept in memory and scanned for every stanza it sends or gets;
 * a block past the limit is refused with not-acceptable and blocks
 * nothing.  Enforced in store/block.c. */
#define PARLEY_BLOCKLIST_MAX_DEFAULT	1000u
#define PARLEY_BLOCKLIST_MAX_CEILING	100000u

/* Spam reports (XEP-0377) queued for the admin: bytes of a report's text
 * kept (cut at a character boundary), stanza ids kept per report and the
 * bytes of each, and reports one account may have in the queue (past it
 * the block still happens, the report is not queued: one user cannot
 * flood the admin).  Enforced in im/blocking.c and store/block.c. */
#define PARLEY_REPORT_TEXT_MAX		1024u
#define PARLEY_REPORT_IDS_MAX		16u
#define PARLEY_REPORT_ID_MAX		256u
#define PARLEY_REPORTS_PER_USER		100u

/*
 * Per-account rate limits (xmpp/ratelimit.c): token buckets shared by all
 * of an account's sessions, RATE tokens a second up to BURST.  A person
 * never meets them: typing, chat states and receipts stay well under a
 * message a second, and logging in (roster, disco, PEP, vCards, initial
 * presence) fits in the bursts.  A bot sending hundreds a second meets
 * them within a second.  Past one the stanza is refused with
 * policy-violation (type wait) and the connection stops reading until
 * the bucket has room.  All off with [limits] rate_limits = off.
 * Enforced in xmpp/session.c, one call before routing.
 */
#define PARLEY_MSG_RATE_DEFAULT		5u	/* messages a second */
#define PARLEY_MSG_BURST_DEFAULT	60u
#define PARLEY_PRES_RATE_DEFAULT	2u	/* presence a second */
#define PARLEY_PRES_BURST_DEFAULT	40u
#define PARLEY_IQ_RATE_DEFAULT		20u	/* IQs a second */
#define PARLEY_IQ_BURST_DEFAULT		200u
#define PARLEY_STANZA_RATE_CEILING	1000000u
#define PARLEY_STANZA_BURST_CEILING	1000000u
/* Stanza bytes as received: 64 KiB/s is a hundred times what anyone
 * types; the burst holds avatars and OMEMO bundles.  The burst may not be
 * below max_stanza_size, or the largest stanza could never pass. */
#define PARLEY_BYTE_RATE_DEFAULT	(64u * 1024u)
#define PARLEY_BYTE_BURST_DEFAULT	(1024u * 1024u)
#define PARLEY_BYTE_RATE_CEILING	(1024u * 1024u * 1024u)
#define PARLEY_BYTE_BURST_CEILING	(1024u * 1024u * 1024u)

/* Distinct new recipients of messages per account per hour: bare JIDs it
 * has not written to within the hour and that have no subscription with
 * it either way (nor asked for one).  Colleagues count too, consent or
 * not: a person starts a handful of new conversations an hour, a spammer
 * thousands.  Enforced in xmpp/ratelimit.c. */
#define PARLEY_NEW_RCPT_HOUR_DEFAULT	30u
#define PARLEY_NEW_RCPT_HOUR_CEILING	10000u
#define PARLEY_NEW_RCPT_WINDOW_MS	(3600u * 1000u)

/* Longest a rate-limited connection is left unread at once: longer would
 * look like a dead server to the client's own keepalive. */
#define PARLEY_RATE_PAUSE_MAX_MS	5000u

/* Bytes a connection may send before it has authenticated: a login with
 * a few wrong passwords, or an in-band registration, takes a few KiB; a
 * stranger gets no more than this, not max_stanza_size again and again
 * until auth_timeout.  Enforced in xmpp/session.c. */
#define PARLEY_UNAUTH_BYTES_DEFAULT	(32u * 1024u)
#define PARLEY_UNAUTH_BYTES_FLOOR	4096u
#define PARLEY_UNAUTH_BYTES_CEILING	(16u * 1024u * 1024u)

/*
 * In-band registration (XEP-0077, im/register.c), per source address
 * (IPv6: per /64) and sliding hour: accounts created where anyone may
 * register (with invitations each account spends one instead, so that an
 * office behind one NAT address can accept its invitations together),
 * and refused attempts (taken or bad names, short passwords, unknown
 * invitations), which bounds probing for names and tokens.  Past either
 * the client gets policy-violation.  Off with [limits] rate_limits = off.
 * The table keeps at most PARLEY_REG_ADDRS_MAX blocks; when all of them
 * are recent, registration waits.  Enforced in net/reglimit.c.
 */
#define PARLEY_REG_ACCOUNTS_HOUR_DEFAULT	3u
#define PARLEY_REG_REFUSED_HOUR_DEFAULT		10u
#define PARLEY_REG_HOUR_CEILING			10000u
#define PARLEY_REG_ADDRS_MAX			65536u

/* Characters of a password a client chooses in-band (registration or
 * change, XEP-0077); parleyctl, the admin's tool, is trusted to choose.
 * Enforced in xmpp/account.c. */
#define PARLEY_PASSWORD_MIN_DEFAULT	8u

/*
 * The HTTPS listener (http/http.c), which serves file uploads.  Every
 * HTTP connection is unauthenticated (a URL's token is the only key), so
 * they are bounded in number, overall and per address, and in idle time.
 * The request line and headers must fit in max_header_size; libmicrohttpd
 * gets that plus PARLEY_HTTP_IO_BUF as its per-connection memory pool and
 * answers 431 past it.  PARLEY_HTTP_RELAY_BUF is what one connection may
 * queue in each direction between TLS and the HTTP parser before reading
 * stops (memory per upload does not grow with the file).
 */
#define PARLEY_HTTP_HEADER_MAX_DEFAULT	8192u
#define PARLEY_HTTP_HEADER_MAX_CEILING	65536u
#define PARLEY_HTTP_IO_BUF		(16u * 1024u)
#define PARLEY_HTTP_RELAY_BUF		(256u * 1024u)
#define PARLEY_HTTP_TIMEOUT_DEFAULT	30u
#define PARLEY_HTTP_TIMEOUT_CEILING	3600u
#define PARLEY_HTTP_CONNS_DEFAULT	512u
#define PARLEY_HTTP_CONNS_CEILING	100000u
#define PARLEY_HTTP_CONNS_ADDR_DEFAULT	64u

/*
 * File uploads (XEP-0363, http/upload.c): bytes per file, bytes kept per
 * account (files not yet expired, quarantined ones included, and slots
 * not yet used), slots per account per sliding hour.  Enforced when a
 * slot is requested (im/upload.c asks http/upload.c) and again when the
 * body arrives (Content-Length must be the slot's size).  The default
 * file size fits Debian's clamd StreamMaxLength (25M), so that the
 * default set-up scans everything it accepts.
 */
#define PARLEY_UPLOAD_FILE_MAX_DEFAULT	(20u * 1024u * 1024u)
#define PARLEY_UPLOAD_FILE_MAX_FLOOR	1024u
#define PARLEY_UPLOAD_FILE_MAX_CEILING	(1024u * 1024u * 1024u)
#define PARLEY_UPLOAD_QUOTA_DEFAULT	(100ull * 1024u * 1024u)
#define PARLEY_UPLOAD_QUOTA_CEILING	(1024ull * 1024u * 1024u * 1024u)
#define PARLEY_UPLOADS_HOUR_DEFAULT	30u
#define PARLEY_UPLOADS_HOUR_CEILING	10000u
/* Days a file stays downloadable; a periodic job removes it after. */
#define PARLEY_UPLOAD_EXPIRE_DAYS_DEFAULT 7u
#define PARLEY_UPLOAD_EXPIRE_DAYS_CEILING 3650u
/* Seconds a slot's upload URL may be used in; one use only. */
#define PARLEY_UPLOAD_SLOT_S_DEFAULT	300u
#define PARLEY_UPLOAD_SLOT_S_CEILING	3600u
/* Bytes of a requested file name and content type (the name only ever
 * appears as the URLs' last segment, percent-encoded). */
#define PARLEY_UPLOAD_NAME_MAX		255u
#define PARLEY_UPLOAD_TYPE_MAX		127u

/* Virus scanning (scan/clamd.c): seconds one scan may take from connect
 * to verdict, and scans sent to clamd at once (clamd's own MaxThreads
 * default is 10; the rest wait in parleyd's queue). */
#define PARLEY_SCAN_TIMEOUT_DEFAULT	120u
#define PARLEY_SCAN_TIMEOUT_CEILING	3600u
#define PARLEY_SCAN_PARALLEL		4u

/*
 * Metrics and traffic counts ([metrics], http/metrics.c, admin/traffic.c).
 * The bearer token that opens /metrics to non-loopback clients is at
 * least 16 characters (about 96 bits from a base64 generator), checked
 * by config.c.  Per-account traffic counts are flushed to the database
 * every flush_interval seconds: often enough that `parleyctl top` is a
 * minute behind at most, rarely enough that the writes cost nothing; a
 * ceiling of an hour keeps the 1h window meaningful.
 */
#define PARLEY_METRICS_TOKEN_MIN		16
#define PARLEY_METRICS_FLUSH_DEFAULT		60u
#define PARLEY_METRICS_FLUSH_CEILING		3600u

/*
 * Idle logoff ([c2s] idle_logoff, per group too): a session that shows no
 * sign of a person for this long is closed (DESIGN danger 1: an
 * unattended, logged-in client is a door left open).  Keep-alives do not
 * count (xmpp/policy.h says what does).  The longest duration any
 * duration key takes is a year.  Enforced in xmpp/policy.c's sweep.
 */
#define PARLEY_IDLE_LOGOFF_DEFAULT	(8u * 3600u)
#define PARLEY_DURATION_CEILING		(365u * 86400u)

/* Ad-hoc command sessions (XEP-0050, im/adhoc.c) one admin may have
 * open at once, and how long an unfinished one is kept. */
#define PARLEY_ADHOC_SESSIONS_MAX	16u
#define PARLEY_ADHOC_SESSION_S		600u

/* The admin's audit trail (store/audit.h, xmpp/audit.h). */
/* Seconds an audit event is kept: long enough to look back over a quarter,
 * short enough that client addresses do not pile up forever.  Ten years
 * at most (the value is held in an unsigned). */
#define PARLEY_AUDIT_RETENTION_DEFAULT	(90u * 86400u)
#define PARLEY_AUDIT_RETENTION_CEILING	(3650u * 86400u)
/* Repeated hits (rate limits, policy refusals) of one account on one
 * limit make one row per this many seconds, with a count: a flood must
 * not become a flood of rows. */
#define PARLEY_AUDIT_COALESCE_S		60u
/* Longest detail text of one event. */
#define PARLEY_AUDIT_DETAIL_MAX		512u
/* `parleyctl check` warns when the last backup is older than this. */
#define PARLEY_BACKUP_MAX_AGE_DEFAULT	(7u * 86400u)
#define PARLEY_BACKUP_MAX_AGE_CEILING	(366u * 86400u)

/*
 * Message archives (XEP-0313, im/mam.c and store/archive.c).  Messages
 * kept per account: past it the oldest go first (store_archive_add).
 * A page: RSM max above it is capped to it (im/mam.c), so one query
 * costs a bounded read and a bounded burst of output.  Retention of a
 * user's own archive (0: until the quota), and of an organisation's
 * forced archive; at most ten years.  Preference lists: JIDs per list
 * (im/mam.c).
 */
#define PARLEY_ARCHIVE_MSGS_DEFAULT	100000u
#define PARLEY_ARCHIVE_MSGS_CEILING	10000000u
#define PARLEY_ARCHIVE_PAGE_DEFAULT	100u
#define PARLEY_ARCHIVE_PAGE_CEILING	1000u
#define PARLEY_ARCHIVE_RETENTION_DEFAULT (365u * 86400u)
#define PARLEY_ARCHIVE_FORCE_RETENTION_DEFAULT (90u * 86400u)
#define PARLEY_ARCHIVE_RETENTION_CEILING (3650u * 86400u)
#define PARLEY_ARCHIVE_PREFS_JIDS_MAX	1000u

#if PARLEY_STANZA_MAX_DEFAULT > PARLEY_BYTE_BURST_DEFAULT
#error "byte burst default below the largest stanza"
#endif
#if PARLEY_STANZA_MAX_DEFAULT > PARLEY_STANZA_MAX_CEILING
#error "stanza limit default above its ceiling"
#endif
#if PARLEY_DEPTH_MAX_DEFAULT > PARLEY_DEPTH_MAX_CEILING
#error "depth limit default above its ceiling"
#endif
#if PARLEY_ATTRS_MAX_DEFAULT > PARLEY_ATTRS_MAX_CEILING
#error "attribute limit default above its ceiling"
#endif
#if PARLEY_HEADER_MAX_DEFAULT > PARLEY_HEADER_MAX_CEILING
#error "header limit default above its ceiling"
#endif

#endif
