/*
 * addrlimit.h - per-source-address accounting for connections that have
 * not authenticated yet, and the rate of new connections.
 *
 * These limits are for attackers, not offices: a whole company may sit
 * behind one NAT address, so an address is only bounded in connections
 * that have not logged in and in how fast it opens new ones; authenticated
 * sessions are not counted here (per-account limits live in the router).
 *
 * Entries are keyed by the textual address and dropped once idle, so the
 * table is bounded by the number of addresses currently active.
 */
#ifndef PARLEY_NET_ADDRLIMIT_H
#define PARLEY_NET_ADDRLIMIT_H

struct addrlimit;

struct addrlimit *addrlimit_new(unsigned max_unauth, unsigned rate_per_s);
void	 addrlimit_free(struct addrlimit *al);
/*
 * A new connection from addr.  Returns NULL if admitted (the connection
 * now counts as unauthenticated), else a short reason for the refusal.
 */
const char *addrlimit_admit(struct addrlimit *al, const char *addr);
/* The connection from addr authenticated or closed before that. */
void	 addrlimit_release(struct addrlimit *al, const char *addr);
/* Drops idle entries; call periodically. */
void	 addrlimit_gc(struct addrlimit *al);

#endif
