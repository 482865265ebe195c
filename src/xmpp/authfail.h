/*
 * authfail.h - growing back-off after failed logins, per account and per
 * source address.
 *
 * Each failure raises a counter for the account and for the address; the
 * counters decay by one every decay period.  The answer to a failed login
 * is held back by base * 2^(n-1) ms (capped), n being the larger of the
 * two counters, and the connection reads nothing meanwhile.  A correct
 * password is never delayed, so guessing from elsewhere cannot lock the
 * real user out.  Tables are bounded: when full, idle entries go first.
 */
#ifndef PARLEY_XMPP_AUTHFAIL_H
#define PARLEY_XMPP_AUTHFAIL_H

struct authfail;

struct authfail *authfail_new(unsigned base_ms, unsigned max_ms);
void	 authfail_free(struct authfail *af);
/* Records one failure; returns the delay (ms) for answering it, and the
 * recent failure count in *count. */
unsigned authfail_record(struct authfail *af, const char *account,
	    const char *addr, unsigned *count);

#endif
