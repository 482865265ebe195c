/*
 * im.h - the IM features: one handler per feature, found through one
 * table (im/handlers.c).
 *
 * The router has already decided where a stanza is addressed (struct
 * im_req: the server, an account's bare JID, or a bound resource) and the
 * session layer has checked and stamped it.  im_dispatch() picks the
 * handler: IQ get/set by the namespace and name of their one child and
 * by the target; message and presence by kind.  Before any handler,
 * blocking (im/blocking.c) may answer or drop a stanza between two
 * accounts.  A handler reads req, sends what it must through the router
 * and session API, and never frees req->st (the dispatcher does).
 * Handlers never touch sockets or bytes.
 */
#ifndef PARLEY_IM_IM_H
#define PARLEY_IM_IM_H

#include "xml/xml.h"
#include "xmpp/jid.h"

struct server;
struct session;

enum im_kind { IM_MESSAGE = 1, IM_PRESENCE = 2, IM_IQ = 4 };

/* Where a stanza is addressed. */
enum im_target {
	T_SERVER = 1,	/* the domain itself (or no 'to' on presence) */
	T_SELF = 2,	/* the sender's own bare JID (or no 'to' on iq) */
	T_ACCOUNT = 4,	/* another local account's bare JID */
	T_RESOURCE = 8,	/* a local full JID */
};

struct im_req {
	struct server		*srv;
	struct session		*from;
	struct xml_stanza	*st;
	struct xml_node		*stanza;	/* root of st */
	enum im_kind		 kind;
	const char		*type;		/* NULL if absent */
	enum im_target		 target;
	int			 has_to;	/* 'to' was given */
	struct jid		 to;		/* normalised; domain only for
						   T_SERVER */
};

enum iq_type { IQ_GET = 1, IQ_SET = 2 };

typedef void (*im_fn)(struct im_req *req);

/* Which disco#info lists a feature (XEP-0030). */
enum im_disco { D_NONE = 0, D_SERVER = 1, D_ACCOUNT = 2 };

struct im_handler {
	enum im_kind	 kind;		/* 0: a feature-only row */
	unsigned	 iq_types;	/* IQ_GET | IQ_SET, for IM_IQ */
	unsigned	 targets;	/* T_* mask */
	const char	*ns;		/* child namespace (IQ) */
	const char	*name;		/* child name (IQ) */
	im_fn		 fn;
	const char	*feature;	/* disco#info var, or NULL */
	unsigned	 disco;		/* D_* where the feature is listed */
	/* NULL, or whether the configuration turned the feature on. */
	int		(*enabled)(const struct server *srv);
};

extern const struct im_handler im_handlers[];
extern const unsigned im_nhandlers;

/* Finds and runs the handler; frees req->st and req->to. */
void	 im_dispatch(struct im_req *req);

/* Replies to the request with an IQ result carrying payload (may be NULL). */
void	 im_iq_result(struct im_req *req, const struct xml_node *payload);
/* Replies with a stanza error. */
void	 im_error(struct im_req *req, int stanza_err, const char *text);

/* Features (one file each). */
void	 im_ping(struct im_req *req);
void	 im_roster_get(struct im_req *req);
void	 im_roster_set(struct im_req *req);
/* Presence of type subscribe/subscribed/unsubscribe/unsubscribed. */
void	 im_subscription(struct im_req *req);
/* Shows stored subscription requests to a newly available resource. */
void	 im_roster_deliver_pending(struct session *s);
/* The subscription state of user's roster item for contact (SUB_*). */
unsigned im_roster_sub(struct server *srv, const char *user,
	    const char *contact);
/* 1 if viewer (a bare JID) may see owner's presence: owner itself, or a
 * contact whose item in owner's roster has 'from' or 'both'. */
int	 im_may_see_presence(struct server *srv, const char *owner,
	    const char *viewer_bare);
/* Offline messages (XEP-0160): store one for req->to (returns 0), or -1
 * when offline storage is off or full (the sender got an error). */
int	 im_offline_store(struct im_req *req);
/* The message as it will be delivered later (offline.c): serialized into
 * out with a XEP-0203 <delay from='domain' stamp='now'>reason</delay>. */
void	 im_delayed_copy(const struct im_req *req, const char *reason,
	    struct buf *out);
/* A message worth keeping for someone (message.c): chat or normal, with
 * a body (or a subject, when subject_counts), and not asking to stay
 * unstored (XEP-0334 no-store, no-permanent-store).  What consent holds
 * and what an archive records (XEP-0313 4.1.1: a body) are both this. */
int	 im_message_keepable(const struct im_req *req, int subject_counts);
/* Message carbons (XEP-0280): enable/disable, and the copies of a
 * message one resource sent, or some resources received. */
void	 im_carbons_toggle(struct im_req *req);
/* Private XML storage (XEP-0049) and vCard-temp (XEP-0054). */
void	 im_private(struct im_req *req);
void	 im_vcard(struct im_req *req);
void	 im_carbons_sent(struct im_req *req);
void	 im_carbons_received(struct im_req *req, struct session **delivered,
	    size_t n);
/* Whether offline storage is on ([limits] max_offline_messages > 0). */
int	 im_offline_enabled(const struct server *srv);
/* Sends stored messages to a resource that just became available. */
void	 im_offline_deliver(struct session *s);
/* Tells the user, at initial presence, what the server owes them a word
 * about (store/notice.h): one message from the domain per notice, then
 * deletes them.  Called after offline delivery. */
void	 im_notice_deliver(struct session *s);
void	 im_session(struct im_req *req);
void	 im_disco_info(struct im_req *req);
void	 im_disco_items(struct im_req *req);
void	 im_message(struct im_req *req);
void	 im_presence(struct im_req *req);
/* A bound session is going away: tell the account's other resources. */
void	 im_presence_session_ended(struct session *s);
/* PEP (XEP-0163, im/pep.c): the pubsub and pubsub#owner IQs. */
void	 im_pep(struct im_req *req);
void	 im_pep_owner(struct im_req *req);
/* s sent available presence (initial: its first since unavailable): learn
 * its entity capabilities and send it the last items it wants. */
void	 im_pep_available(struct session *s, int initial);
/* Sends s the last item of each of these nodes (for which its caps have
 * +notify) of its own account and of each contact whose presence it may
 * see, where it may retrieve them. */
void	 im_pep_send_last(struct session *s, char *const *nodes, size_t n);
/* disco#info of an account: the pubsub/pep identity. */
void	 im_pep_identity(struct xml_stanza *st, struct xml_node *query);
/* disco#items of an account: the nodes the requester may retrieve. */
void	 im_pep_disco_items(struct im_req *req, struct xml_stanza *st,
	    struct xml_node *query);
/* Entity capabilities (XEP-0115, im/caps.c).  Our disco#info queries to
 * clients carry ids starting with IM_CAPS_ID_PREFIX; im_dispatch hands
 * the answers to im_caps_result(). */
#define IM_CAPS_ID_PREFIX	"caps-"
void	 im_caps_presence(struct session *s, int initial);
void	 im_caps_result(struct im_req *req);
/* 1 if s asked for events of node (its caps list node+notify). */
int	 im_caps_wants(const struct session *s, const char *node);
/* Frees s->caps (the session is going away). */
void	 im_caps_free(struct session *s);
/* First-contact consent (im/consent.c).  1 if the message may be
 * delivered; 0 when consent.c took it (held as a contact request from a
 * stranger, refused with an error, or dropped). */
int	 im_consent_allows(struct im_req *req);
/* Deletes what contact_bare has held (waiting for consent) for the local
 * account user.  The subscription state is roster.c's business. */
void	 im_consent_forget(struct server *srv, const char *user,
	    const char *contact_bare);
/* An account was deleted inside parleyd (XEP-0133): what consent.c
 * remembers of who may write to whom is dropped and reloaded, as when
 * parleyctl deletes one, so a new account of the same name starts clean. */
void	 im_consent_account_deleted(void);
/* roster.c: user sent a subscription presence of type to contact, and
 * it was processed: an acceptance releases the held messages, a refusal
 * or a withdrawn request deletes them. */
void	 im_consent_answered(struct server *srv, const char *user,
	    const char *contact, const char *type);
/* roster.c changed user's item for contact. */
void	 im_consent_roster_changed(struct server *srv, const char *user,
	    const char *contact);
/* Held messages the account now accepts go to a resource that just sent
 * initial presence. */
void	 im_consent_deliver(struct session *s);
/* The account's own first-contact setting (IQ get/set). */
void	 im_consent_policy(struct im_req *req);
/* Removes what a client put in the consent namespace of a presence. */
void	 im_consent_scrub(struct xml_node *presence);
/* For consent.c: 1 if contact fits in user's roster (or is in it), and
 * a subscribe from user to contact processed as if the user sent it. */
int	 im_roster_room(struct server *srv, const char *user,
	    const char *contact);
void	 im_roster_request(struct server *srv, const char *user,
	    const char *contact, const struct xml_node *presence);

/*
 * Blocking (XEP-0191) and reports with a block (XEP-0377), im/blocking.c.
 * im_block_between() is THE decision: whether traffic from 'from' to 'to'
 * is blocked, and by whom (IM_BLOCKED_* bits).  Cheap: no store access
 * unless one side is an offline account and somebody blocks somebody.
 */
enum { IM_BLOCK_NONE = 0, IM_BLOCKED_BY_SENDER = 1,
	IM_BLOCKED_BY_RECIPIENT = 2 };
unsigned im_block_between(struct server *srv, const struct jid *from,
	    const struct jid *to);
/* The same between the account local (sending) and the bare JID peer:
 * each account's bare JID against the other's list. */
unsigned im_block_accounts(struct server *srv, const char *local,
	    const char *peer_bare);
/* For a stanza to another account: 1 if blocking stopped it (the sender
 * got the XEP-0191 answer, or it was dropped), 0 to go on. */
int	 im_block_stops(struct im_req *req);
/* The account's last session ended: its list leaves memory. */
void	 im_block_account_offline(struct server *srv, const char *local);
void	 im_blocklist(struct im_req *req);
void	 im_block(struct im_req *req);
void	 im_unblock(struct im_req *req);

/*
 * In-band registration and password change (XEP-0077) with invitation
 * tokens (XEP-0445), im/register.c.  Before login there is no routing:
 * session.c hands over IQs itself.  The state of one connection's
 * registration hangs off the session (s->reg).
 */
struct buf;
/* Appends the register stream features [register] mode allows. */
void	 im_register_features(const struct session *s, struct buf *b);
/* An element received before login: 0 if it was a registration IQ and
 * has been answered, -1 if it is none of ours. */
int	 im_register_preauth(struct session *s, struct xml_node *iq);
/* After login: the account's own registration (get, password change). */
void	 im_register(struct im_req *req);
/* Frees s->reg (the session is going away). */
void	 im_register_free(struct session *s);

/*
 * HTTP File Upload (XEP-0363), the XMPP side, im/upload.c: the slot
 * request to the server's domain, and the upload service's identity and
 * max-file-size form in the domain's disco#info.  The HTTP side (PUT,
 * GET, virus scan, expiry) is http/upload.c.
 */
int	 im_upload_enabled(const struct server *srv);
void	 im_upload_request(struct im_req *req);
void	 im_upload_disco_identity(const struct server *srv,
	    struct xml_stanza *st, struct xml_node *query);
void	 im_upload_disco_form(const struct server *srv,
	    struct xml_stanza *st, struct xml_node *query);
/* Tells owner's online resources something about their upload. */
void	 im_upload_notice(struct server *srv, const char *owner,
	    const char *text);

/*
 * Ad-hoc commands (XEP-0050) with the service administration commands
 * of XEP-0133 for [server] admins, im/adhoc.c: execution, the commands
 * node's disco#items (filled for admins only) and a command node's
 * disco#info (0 if node was a command node and got its answer).
 */
/* Advertised (disco#info) when [server] admins names someone. */
int	 im_adhoc_enabled(const struct server *srv);
void	 im_adhoc_command(struct im_req *req);
void	 im_adhoc_disco_items(struct im_req *req, struct xml_stanza *st,
	    struct xml_node *query);
int	 im_adhoc_disco_info(struct im_req *req, const char *node);

/*
 * Peer-to-peer transfer offers, im/p2p.c: unless [policy] p2p_transfers
 * = allow, an IQ to a resource that would hand out a network address
 * (SOCKS5 streamhosts, Jingle host/srflx/prflx or direct S5B
 * candidates) or carry a file past the virus scan (IBB, SI and Jingle
 * file transfer) is refused with policy-violation pointing to HTTP
 * upload.  1 if refused (the sender has its error), 0 to route it.
 */
int	 im_p2p_refused(struct im_req *req);

/*
 * Message archives (XEP-0313) with disclosure, im/mam.c, and THE
 * decision whether OWNER's archive records the conversation with PEER,
 * im/archive_policy.c.  See those files and docs/FEATURES.md.
 */
enum archive_by { ARCH_BY_USER = 1, ARCH_BY_ORG = 2 };
struct archive_decision {
	int		 on;		/* 1: owner's archive records it */
	enum archive_by	 by;		/* whose rule decided */
	unsigned	 retention;	/* s the messages are kept; 0: until
					   the archive's quota */
};
/* owner: a local localpart; peer_bare: a normalised bare JID (any
 * domain).  Fills d and returns d->on. */
int	 im_archive_decide(struct server *srv, const char *owner,
	    const char *peer_bare, struct archive_decision *d);
/* 1 when no archive can record anything now: nothing forced by the
 * config or a group, the default is never and no account has preferences
 * of its own.  The message path's shortcut past im_archive_decide(). */
int	 im_archive_idle(struct server *srv);
/* 1 if an organisation policy archives the conversations of this
 * server's accounts with peer_bare (NULL: with anyone). */
int	 im_archive_forced(const struct server *srv, const char *peer_bare);
/* The default preference in force for user (enum archive_default);
 * *own is 1 when the user set preferences of their own. */
int	 im_archive_user_default(struct server *srv, const char *user,
	    int *own);
/* The user's preferences changed (dflt -1: deleted). */
void	 im_archive_prefs_changed(struct server *srv, const char *user,
	    int dflt);
/* message.c: a message between two local accounts passed consent and is
 * about to be delivered: disclose, archive, stamp the stanza-id. */
void	 im_archive_message(struct im_req *req);
/* message.c: removes stanza-ids a client claims in our name. */
void	 im_archive_strip_ids(struct im_req *req);
void	 im_mam_query(struct im_req *req);
void	 im_mam_prefs(struct im_req *req);
void	 im_archive_state(struct im_req *req);
void	 im_archive_purge(struct im_req *req);
/* disco#info of an account: the XEP-0128 form saying how it archives. */
void	 im_archive_disco_form(struct im_req *req, struct xml_stanza *st,
	    struct xml_node *query);
/* Starts the retention sweep and re-discloses what changed while the
 * server was down; stops it. */
void	 im_archive_start(struct server *srv);
void	 im_archive_stop(struct server *srv);

#endif
