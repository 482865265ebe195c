/*
 * notice.c - delivers the notices of store/notice.h at initial presence.
 *
 * Each becomes one message from the server's domain with a body a person
 * reads, a XEP-0203 delay saying when the access happened, and
 * <access xmlns='urn:parley:notice:0' kind='...' stamp='...'/> for
 * clients that want to show it differently.  type='normal' so that
 * clients file it as a message rather than a passing headline.  Deleted
 * only after it was queued to the client.
 */
#include <string.h>
#include <time.h>

#include "core/isotime.h"
#include "core/log.h"
#include "im/im.h"
#include "store/notice.h"
#include "xml/xml.h"
#include "xmpp/ns.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

struct notice_ctx {
	struct session	*s;
	int64_t		 last;
};

static void send_notice(void *ud, int64_t id, int64_t stamp,
    const char *kind, const char *text)
{
	struct notice_ctx *nc = ud;
	struct session *s = nc->s;
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "message");
	struct xml_node *root = xml_root(st), *n;
	char when[ISOTIME_MAX];

	iso_time_str(stamp * 1000, 0, when, sizeof(when));
	xml_set_attr(st, root, "type", "normal");
	xml_set_attr(st, root, "from", s->srv->cfg->domain);
	xml_set_attr(st, root, "to", s->full);
	n = xml_add_child(st, root, NULL, "body");
	xml_add_text(st, n, text, strlen(text));
	n = xml_add_child(st, root, NS_NOTICE, "access");
	xml_set_attr(st, n, "kind", kind);
	xml_set_attr(st, n, "stamp", when);
	n = xml_add_child(st, root, NS_DELAY, "delay");
	xml_set_attr(st, n, "from", s->srv->cfg->domain);
	xml_set_attr(st, n, "stamp", when);
	session_send(s, root);
	xml_stanza_free(st);
	nc->last = id;
}

void im_notice_deliver(struct session *s)
{
	struct notice_ctx nc = { s, 0 };
	struct store *st = s->srv->store;

	/* Like offline messages: not to a resource that asked for none. */
	if (s->priority < 0)
		return;
	if (store_notice_list(st, s->user, send_notice, &nc) != STORE_OK) {
		log_error("%s: reading notices: %s", s->full,
		    store_errmsg(st));
		return;
	}
	if (nc.last > 0 &&
	    store_notice_delete_upto(st, s->user, nc.last) != STORE_OK)
		log_error("%s: deleting delivered notices: %s", s->full,
		    store_errmsg(st));
}
