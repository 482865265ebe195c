/*
 * audit.h - the server's side of the admin's audit trail (store/audit.h):
 * events that repeat are coalesced, and old events are pruned.
 *
 * A one-off event (a login, a block, an upload) is one server_audit()
 * call (xmpp/server.h).  An event that a client can repeat as fast as it
 * sends (a rate-limit hit, a policy refusal) goes through audit_hit()
 * instead: the first hit of an account on one limit writes a row at once
 * with count=1; later hits within PARLEY_AUDIT_COALESCE_S only count in
 * memory, and a timer writes the count into that row every few seconds.
 * So a flood costs one row per account, limit and minute, never one per
 * refused stanza.
 *
 * The same timer deletes events older than [audit] retention (never, when
 * it is off).  Everything runs on the server's loop; a store error is
 * logged and the audited action goes on.
 *
 * What a detail may hold: names of limits, policies, mechanisms, reasons,
 * sizes, counts.  Never a message body, a password, a token or an upload's
 * file name; addresses go only in the addr column.
 */
#ifndef PARLEY_XMPP_AUDIT_H
#define PARLEY_XMPP_AUDIT_H

struct server;
struct audit_svc;

/* Starts the timer (and prunes once); NULL never: allocation aborts. */
struct audit_svc *audit_svc_new(struct server *srv);
/* Writes the counts still in memory, stops the timer. */
void	 audit_svc_free(struct audit_svc *a);
/* Writes pending counts and prunes now (the timer's work; for tests). */
void	 audit_svc_tick(struct audit_svc *a);

/*
 * One hit of account on a limit.  kind is the event kind ("rate-limit",
 * "policy"); what names the limit as it should read in the detail
 * ("limit=messages", "policy=uploads"), and is the coalescing key with
 * kind and account; note (or NULL) is added after the count, from the
 * first hit of the row.  The row reads "WHAT count=N[ NOTE]".
 */
void	 audit_hit(struct server *srv, const char *kind, const char *account,
	    const char *addr, const char *what, const char *note);

/*
 * The one call for an action a policy refused: kind "policy", detail
 * "policy=NAME count=N ACTION".  policy is the policy's name as the
 * config and the error's <text/> give it ("p2p_transfers", or a group
 * policy's key); action says what was refused ("a SOCKS5 offer", "an
 * upload").  Coalesced like a rate-limit hit.  Call it where the refusal
 * is sent, with the session's account and address.
 */
void	 audit_policy(struct server *srv, const char *account,
	    const char *addr, const char *policy, const char *action);

#endif
