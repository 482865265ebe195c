/*
 * policy.h - policies by group of accounts ([group.NAME] in the config,
 * core/config.h), the answer to "what may account X do", and the sweep
 * that logs off idle sessions and ends sessions past their time limit.
 *
 * Which group: the account's setting "group" (store/settings.h, set with
 * parleyctl user group); an account in no group, or in a group the
 * configuration no longer has, follows [group.default] if there is one,
 * else the global settings.  policy_for() is a hash lookup; the
 * account->group table is reloaded when another process (parleyctl)
 * changed the database, checked at most once a second, so a change of
 * group applies within a second to every later decision, sessions
 * already open included: no restart, no new login.
 *
 * Refusals: an action a policy forbids gets policy-violation (RFC 6120
 * 8.3.3.12: a local service policy, which the server may name in the
 * <text/>), type cancel (asking again will not help), whose text names
 * the group and the rule, and one "policy" line in the audit trail.
 *
 * Idle logoff and session length: the sweep (one event for the whole
 * server, not one per session) closes a bound session with no user
 * activity for idle_logoff, or older than max_session, with a
 * policy-violation stream error saying which and how long.  The sweep
 * runs every eighth of the shortest such time configured (between
 * 250 ms and 60 s), so a limit is met within an eighth of itself (or a
 * minute); with the default 8 h that is one walk over the sessions a
 * minute.
 */
#ifndef PARLEY_XMPP_POLICY_H
#define PARLEY_XMPP_POLICY_H

#include <stdint.h>

#include "core/config.h"
#include "xml/xml.h"
#include "xmpp/jid.h"
#include "xmpp/ratelimit.h"

struct server;
struct session;

/* The effective policy of a group (every key resolved). */
struct group_policy {
	const char	*name;		/* group, or NULL: no group at all */
	int		 upload;	/* XEP-0363 slots: 1 allowed */
	int		 remote_contacts; /* JIDs of other domains: 1 allowed */
	const struct domain_list *federate; /* NULL: any remote domain */
	enum group_archive archive;
	unsigned	 max_session;	/* s; 0: no limit */
	unsigned	 idle_logoff;	/* s; 0: never */
	struct rl_params rl;		/* rate budgets */
};

struct policy;

/* Resolves the configured groups; never fails (config.c checked them). */
struct policy *policy_new(struct server *srv);
void	 policy_free(struct policy *p);

/* THE lookup: the policy that applies to account localpart now. */
const struct group_policy *policy_for(struct server *srv,
	    const char *localpart);
/* archive = user|off|always for localpart (for MAM, issue 7). */
enum group_archive policy_archive(struct server *srv, const char *localpart);
/* 1 if bare (a normalised bare JID) is in [server] admins. */
int	 policy_is_admin(const struct server *srv, const char *bare);

/*
 * Refuses orig (sent by s) because rule of s's group forbids it: sends
 * policy-violation naming the group and rule (detail, if not NULL, is
 * added to the text, e.g. the domain), and audits it.  Always returns 1.
 */
int	 policy_refuse(struct session *s, const struct xml_node *orig,
	    const struct group_policy *p, const char *rule,
	    const char *detail);

/*
 * The router is about to answer a stanza to another domain (there is no
 * federation yet: remote-server-not-found).  1 if a policy refused it
 * first (s got the error): remote_contacts = deny for messages and
 * subscription requests and approvals, the federate allow-list for
 * everything.  0 to go on.
 */
int	 policy_remote_refused(struct session *s, const struct xml_node *st,
	    const struct jid *to);
/* 1 if contact (a bare JID) is outside this server and the account may
 * not have such contacts (it was told, with orig as the request). */
int	 policy_contact_refused(struct session *s, const struct xml_node *orig,
	    const char *contact_domain);

/*
 * 1 if a stanza a bound session sent shows a person at work, for idle
 * logoff: a message with a body or subject, or typing (XEP-0085
 * composing/paused); presence that is available and not away or xa, or
 * a subscription request or answer; an IQ get or set other than a
 * XEP-0199 ping.  Keep-alives (pings, whitespace), automatic answers
 * (IQ results and errors, receipts, markers, chat states other than
 * typing), auto-away presence and XEP-0352 CSI are not.
 */
int	 policy_is_activity(const struct xml_node *stanza);

/* Milliseconds between sweeps for this configuration; 0: no sweep
 * (no idle_logoff and no max_session anywhere). */
uint64_t policy_sweep_interval_ms(const struct config *cfg);

#endif
