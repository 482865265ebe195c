/*
 * ratelimit.h - per-account rate limits: token buckets for message,
 * presence and IQ stanzas and for stanza bytes, shared by every session
 * of the account, and a cap on distinct new recipients of messages per
 * hour.  AOL's answer to spam ("a limit on how much text you can send in
 * a time period"), per account rather than per connection, so that
 * opening more resources buys a bot nothing.
 *
 * This module only does the arithmetic; session.c asks it about every
 * stanza a bound session sends, refuses what it refuses and stops reading
 * from the connection for the wait it returns.  A refused stanza charges
 * nothing: the pause, not the debt, is what slows a flood down.
 *
 * Buckets hold integer milli-tokens and refill per whole millisecond, so
 * the arithmetic is exact and a test with its own clock can predict every
 * answer.
 *
 * "New recipient": a bare JID the account has not written to within the
 * hour and that known() does not vouch for (session.c: a roster contact
 * with a subscription either way, or one who asked for one).  Known
 * contacts are remembered too, so the roster is read once per contact,
 * not per message; a few dozen of them are kept, the least recent go.
 *
 * Memory: one entry per account that sent something lately.  An entry
 * whose buckets are full and that started no new conversation within the
 * hour is in the same state as no entry at all; ratelimit_gc() drops
 * those, so the table holds the accounts that are busy now (a bounded
 * number: they have sessions, or did seconds ago) plus those that started
 * a conversation within the hour, at most one entry per account.
 */
#ifndef PARLEY_XMPP_RATELIMIT_H
#define PARLEY_XMPP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

enum rl_bucket {
	RL_MESSAGE,
	RL_PRESENCE,
	RL_IQ,
	RL_BYTES,
	RL_NBUCKETS
};

struct rl_params {
	unsigned	rate[RL_NBUCKETS];	/* tokens a second, >= 1 */
	unsigned	burst[RL_NBUCKETS];	/* tokens at most, >= 1 */
	unsigned	new_rcpt_per_hour;	/* >= 1 */
};

enum rl_verdict {
	RL_PASS = 0,
	RL_OVER_MESSAGES,
	RL_OVER_PRESENCE,
	RL_OVER_IQ,
	RL_OVER_BYTES,
	RL_OVER_RECIPIENTS,
};

struct ratelimit;

/* now: the clock (NULL: clock_mono_ms). */
struct ratelimit *ratelimit_new(const struct rl_params *p, clock_ms_fn now);
void	 ratelimit_free(struct ratelimit *rl);

/*
 * One stanza of kind (RL_MESSAGE, RL_PRESENCE or RL_IQ), bytes long, from
 * account.  RL_PASS when both its kind's bucket and the byte bucket had
 * room, and both are charged; otherwise nothing is charged and *wait_ms
 * is how long until the same stanza would pass.  A stanza larger than the
 * byte burst costs the whole burst.
 */
enum rl_verdict ratelimit_charge(struct ratelimit *rl, const char *account,
	    enum rl_bucket kind, size_t bytes, uint64_t *wait_ms);

/*
 * A message from account to the bare JID to.  RL_PASS when to was
 * written to within the hour, when known(ud, to) says it is a contact
 * (asked only for a JID not remembered), or when the account may still
 * start a new conversation this hour (it then counts); otherwise
 * RL_OVER_RECIPIENTS with *wait_ms until the oldest new conversation of
 * the hour stops counting.
 */
enum rl_verdict ratelimit_recipient(struct ratelimit *rl,
	    const char *account, const char *to,
	    int (*known)(void *ud, const char *to), void *ud,
	    uint64_t *wait_ms);

/*
 * Per-account budgets (groups of accounts, xmpp/policy.h): lookup(ud,
 * account) gives the budgets of an account, or NULL for those given to
 * ratelimit_new().  It is asked at every charge (it must be cheap, and
 * the pointer must stay valid while the ratelimit lives), so a change of
 * group applies to the next stanza; a bucket fuller than its new burst
 * is cut down to it.
 */
void	 ratelimit_set_lookup(struct ratelimit *rl,
	    const struct rl_params *(*lookup)(void *ud, const char *account),
	    void *ud);
/* Says which limit a verdict is, with its numbers, as one human sentence
 * for a stanza error's <text/>: the default budgets, or account's. */
void	 ratelimit_explain(const struct ratelimit *rl, enum rl_verdict v,
	    char *out, size_t cap);
void	 ratelimit_explain_for(const struct ratelimit *rl,
	    const char *account, enum rl_verdict v, char *out, size_t cap);
/* A short name of the limit, for log lines: "messages", "bytes", ... */
const char *ratelimit_name(enum rl_verdict v);

/* Drops the entries that hold nothing (see above); call periodically. */
void	 ratelimit_gc(struct ratelimit *rl);
/* Entries held, for tests and statistics. */
size_t	 ratelimit_count(const struct ratelimit *rl);

#endif
