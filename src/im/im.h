/*
 * im.h - the IM features: one handler per feature, found through one
 * table (im/handlers.c).
 *
 * The router has already decided where a stanza is addressed (struct
 * im_req: the server, an account's bare JID, or a bound resource) and the
 * session layer has checked and stamped it.  im_dispatch() picks the
 * handler: IQ get/set by the namespace and name of their one child and
 * by the target; message and presence by kind.  A handler reads req,
 * sends what it must through the router and session API, and never frees
 * req->st (the dispatcher does).  Handlers never touch sockets or bytes.
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

struct im_handler {
	enum im_kind	 kind;
	unsigned	 iq_types;	/* IQ_GET | IQ_SET, for IM_IQ */
	unsigned	 targets;	/* T_* mask */
	const char	*ns;		/* child namespace (IQ) */
	const char	*name;		/* child name (IQ) */
	im_fn		 fn;
	const char	*feature;	/* disco#info var, or NULL */
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
void	 im_session(struct im_req *req);
void	 im_disco_info(struct im_req *req);
void	 im_disco_items(struct im_req *req);
void	 im_message(struct im_req *req);
void	 im_presence(struct im_req *req);
/* A bound session is going away: tell the account's other resources. */
void	 im_presence_session_ended(struct session *s);

#endif
