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
