/*
 * reglimit.h - how often one source address may register accounts in-band
 * (XEP-0077, im/register.c): accounts created, and refused attempts, per
 * sliding hour.
 *
 * Account farming needs many accounts from few machines; a person needs
 * one.  So an address may create a few accounts an hour (only where
 * anyone may register: an invitation is its own limit, and a whole office
 * behind one NAT address must be able to accept its invitations at
 * once), and may be refused a few times an hour (a taken or bad name, a
 * short password, an unknown invitation), which bounds probing for
 * account names and guessing of tokens.
 *
 * IPv4 addresses count one by one; IPv6 addresses count per /64, the
 * block one subscriber gets (counting each of its 2^64 addresses alone
 * would bound nothing).  The windows are exact: each event's time is kept
 * for an hour.  The table holds at most PARLEY_REG_ADDRS_MAX blocks;
 * when full of recent events, registration waits (fails closed).
 *
 * Times are milliseconds of the monotonic clock, passed in (so tests can
 * move them).  Refusal texts never contain the address.
 */
#ifndef PARLEY_NET_REGLIMIT_H
#define PARLEY_NET_REGLIMIT_H

#include <stdint.h>

enum reglimit_event {
	RL_ACCOUNT,	/* an account was created */
	RL_REFUSED,	/* an attempt was refused */
};

struct reglimit;

/* Limits per address and hour; 0 turns that limit off. */
struct reglimit *reglimit_new(unsigned accounts_per_hour,
	    unsigned refused_per_hour);
void	 reglimit_free(struct reglimit *rl);
/*
 * May addr attempt a registration now?  NULL if so, else a sentence for
 * the client.  creates_account: the attempt would create an account
 * without an invitation, so the account limit applies as well.
 */
const char *reglimit_check(struct reglimit *rl, const char *addr,
	    int creates_account, uint64_t now_ms);
/* Records what came of an attempt from addr. */
void	 reglimit_note(struct reglimit *rl, const char *addr,
	    enum reglimit_event ev, uint64_t now_ms);

#endif
