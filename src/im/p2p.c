/*
 * p2p.c - refuses peer-to-peer transfer offers (DESIGN dangers 1 and 3).
 *
 * A direct transfer offer names a network address for the other side to
 * connect to, or asks it for one, and a client that accepts connects
 * straight to the offerer: both learn each other's address, which is
 * what Parley's relaying exists to prevent.  Files sent that way, or in
 * band through the server, also skip the virus scan.  So by default
 * ([policy] p2p_transfers = refuse) these IQs to a resource are answered
 * with policy-violation and a <text/> pointing to HTTP upload:
 *
 *  - XEP-0065 SOCKS5 bytestreams: a query with any <streamhost/>.  A
 *    streamhost is acceptable only when it is a proxy of this server,
 *    and Parley runs none (is_server_proxy() is where one would go);
 *  - Jingle (XEP-0166), any action: ICE-UDP candidates (XEP-0176) of
 *    type host, srflx or prflx (each is the sender's own address; relay
 *    candidates, a TURN server's, pass, so calls through TURN work),
 *    raw-UDP candidates (XEP-0177, always the sender's address), and
 *    S5B candidates (XEP-0260) other than type proxy;
 *  - file transfers that carry the file past the scan without naming an
 *    address: Jingle file transfer (XEP-0234), SI file transfer offers
 *    (XEP-0096) and in-band bytestreams (XEP-0047).
 *
 * Only IQ sets to a full JID are looked at: every one of these is one,
 * and im/handlers.c routes them in one place (iq_to_resource), which
 * calls im_p2p_refused() first.
 */
#include <string.h>

#include "core/log.h"
#include "im/im.h"
#include "xmpp/audit.h"
#include "xmpp/errors.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define NS_BYTESTREAMS	"http://jabber.org/protocol/bytestreams"
#define NS_IBB		"http://jabber.org/protocol/ibb"
#define NS_SI		"http://jabber.org/protocol/si"
#define NS_SI_FT	"http://jabber.org/protocol/si/profile/file-transfer"
#define NS_JINGLE	"urn:xmpp:jingle:1"
#define NS_JINGLE_ICE	"urn:xmpp:jingle:transports:ice-udp:1"
#define NS_JINGLE_RAW	"urn:xmpp:jingle:transports:raw-udp:1"
#define NS_JINGLE_S5B	"urn:xmpp:jingle:transports:s5b:1"
/* XEP-0234's namespaces: ":5" now, ":4" and ":3" from older clients. */
#define NS_JINGLE_FT	"urn:xmpp:jingle:apps:file-transfer:"

enum p2p_why { P2P_OK, P2P_ADDRESS, P2P_UNSCANNED };

static const char *const why_text[] = {
	[P2P_ADDRESS] = "Refused: a direct peer-to-peer transfer would give "
	    "your network address to the other side (and skip the virus "
	    "scan). Send files with HTTP upload (XEP-0363): this server "
	    "relays them and scans them for viruses.",
	[P2P_UNSCANNED] = "Refused: files sent this way skip the server's "
	    "virus scan. Send files with HTTP upload (XEP-0363): this server "
	    "relays them and scans them for viruses.",
};

static int is_server_proxy(const char *jid)
{
	/* Parley runs no XEP-0065 proxy yet; its JID would be accepted
	 * here (and only here). */
	(void)jid;
	return 0;
}

static enum p2p_why bytestreams(const struct xml_node *q)
{
	for (const struct xml_node *n = xml_first_elem(q); n != NULL;
	    n = xml_next_elem(n)) {
		const char *jid = xml_attr(n, "jid");

		if (strcmp(n->name, "streamhost") == 0 &&
		    (jid == NULL || !is_server_proxy(jid)))
			return P2P_ADDRESS;
	}
	return P2P_OK;
}

static enum p2p_why transport(const struct xml_node *t)
{
	for (const struct xml_node *c = xml_first_elem(t); c != NULL;
	    c = xml_next_elem(c)) {
		const char *type = xml_attr(c, "type");

		if (strcmp(c->name, "candidate") != 0)
			continue;
		if (strcmp(t->ns, NS_JINGLE_RAW) == 0)
			return P2P_ADDRESS;
		if (strcmp(t->ns, NS_JINGLE_ICE) == 0 &&
		    (type == NULL || strcmp(type, "relay") != 0))
			return P2P_ADDRESS;
		/* XEP-0260: type defaults to direct. */
		if (strcmp(t->ns, NS_JINGLE_S5B) == 0 &&
		    (type == NULL || strcmp(type, "proxy") != 0))
			return P2P_ADDRESS;
	}
	return P2P_OK;
}

static enum p2p_why jingle(const struct xml_node *j)
{
	enum p2p_why why = P2P_OK;

	for (const struct xml_node *c = xml_first_elem(j); c != NULL;
	    c = xml_next_elem(c)) {
		if (strcmp(c->name, "content") != 0)
			continue;
		for (const struct xml_node *d = xml_first_elem(c); d != NULL;
		    d = xml_next_elem(d)) {
			if (strcmp(d->name, "transport") == 0 &&
			    transport(d) == P2P_ADDRESS)
				return P2P_ADDRESS;
			if (strcmp(d->name, "description") == 0 &&
			    strncmp(d->ns, NS_JINGLE_FT,
			    strlen(NS_JINGLE_FT)) == 0)
				why = P2P_UNSCANNED;
		}
	}
	return why;
}

static enum p2p_why judge(const struct xml_node *child)
{
	if (strcmp(child->ns, NS_BYTESTREAMS) == 0 &&
	    strcmp(child->name, "query") == 0)
		return bytestreams(child);
	if (strcmp(child->ns, NS_JINGLE) == 0 &&
	    strcmp(child->name, "jingle") == 0)
		return jingle(child);
	if (strcmp(child->ns, NS_IBB) == 0 && strcmp(child->name, "open") == 0)
		return P2P_UNSCANNED;
	if (strcmp(child->ns, NS_SI) == 0 && strcmp(child->name, "si") == 0) {
		const char *profile = xml_attr(child, "profile");

		if (profile != NULL && strcmp(profile, NS_SI_FT) == 0)
			return P2P_UNSCANNED;
	}
	return P2P_OK;
}

int im_p2p_refused(struct im_req *req)
{
	const struct xml_node *child;
	enum p2p_why why;

	if (req->srv->cfg->p2p_allow || req->kind != IM_IQ ||
	    req->type == NULL || strcmp(req->type, "set") != 0)
		return 0;
	child = xml_first_elem(req->stanza);
	if (child == NULL || (why = judge(child)) == P2P_OK)
		return 0;
	log_info("%s: refused a %s offer to a resource (%s)", req->from->bare,
	    child->name, why == P2P_ADDRESS ? "network address" :
	    "unscanned file");
	audit_policy(req->srv, req->from->user, req->from->addr,
	    "p2p_transfers", child->name);
	im_error(req, ERR_POLICY_VIOLATION, why_text[why]);
	return 1;
}
