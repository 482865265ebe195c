/*
 * offline.c - store and forward for accounts that are offline (XEP-0160,
 * RFC 6121 8.5.2.2.1).
 *
 * A chat or normal message that no resource can take is committed to the
 * store, stamped with a XEP-0203 delay, before anything else happens; at
 * the next initial presence with a non-negative priority the messages go
 * out in the order they came and are then deleted.  Messages that carry
 * nothing worth keeping (only chat states) or ask not to be stored
 * (XEP-0334 no-store) are dropped.  A full store answers the sender with
 * resource-constraint and keeps what it had.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/isotime.h"
#include "core/log.h"
#include "im/im.h"
#include "store/offline.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define NS_CHATSTATES	"http://jabber.org/protocol/chatstates"

/* Worth keeping: anything but chat states and hints. */
static int worth_storing(const struct xml_node *msg)
{
	int keep = 0;

	for (struct xml_node *n = xml_first_elem(msg); n; n = xml_next_elem(n)) {
		if (strcmp(n->ns, NS_HINTS) == 0 &&
		    (strcmp(n->name, "no-store") == 0 ||
		    strcmp(n->name, "no-permanent-store") == 0))
			return 0;
		if (strcmp(n->ns, NS_CHATSTATES) != 0 &&
		    strcmp(n->ns, NS_HINTS) != 0)
			keep = 1;
	}
	return keep;
}

int im_offline_enabled(const struct server *srv)
{
	return srv->cfg->max_offline_messages > 0;
}

void im_delayed_copy(const struct im_req *req, const char *reason,
    struct buf *out)
{
	struct xml_stanza *copy = xml_stanza_copy(req->st);
	struct xml_node *root = xml_root(copy), *d;
	char stamp[ISOTIME_MAX];

	iso_time_str(clock_wall_s() * 1000, 0, stamp, sizeof(stamp));
	d = xml_add_child(copy, root, NS_DELAY, "delay");
	xml_set_attr(copy, d, "from", req->srv->cfg->domain);
	xml_set_attr(copy, d, "stamp", stamp);
	xml_add_text(copy, d, reason, strlen(reason));
	router_serialize(root, out);
	xml_stanza_free(copy);
}

int im_offline_store(struct im_req *req)
{
	struct server *srv = req->srv;
	struct buf b = BUF_INIT;
	enum store_rc rc;

	if (!im_offline_enabled(srv)) {
		im_error(req, ERR_SERVICE_UNAVAILABLE,
		    "the recipient is offline and this server keeps no "
		    "offline messages");
		return -1;
	}
	if (!worth_storing(req->stanza))
		return 0;
	im_delayed_copy(req, "Offline Storage", &b);
	rc = store_offline_push(srv->store, req->to.local, req->from->full,
	    b.data, b.len, srv->cfg->max_offline_messages,
	    srv->cfg->max_offline_bytes);
	buf_free(&b);
	if (rc == STORE_FULL) {
		im_error(req, ERR_RESOURCE_CONSTRAINT,
		    "the recipient is offline and their message store is full");
		return -1;
	}
	if (rc != STORE_OK) {
		log_error("offline store for %s: %s", req->to.local,
		    store_errmsg(srv->store));
		im_error(req, ERR_INTERNAL_SERVER_ERROR,
		    "the message could not be stored");
		return -1;
	}
	return 0;
}

struct deliver_ctx {
	struct session	*s;
	int64_t		 last;
};

static void send_one(void *ud, int64_t id, const char *xml, size_t len)
{
	struct deliver_ctx *dc = ud;

	session_send_raw(dc->s, xml, len);
	dc->last = id;
}

void im_offline_deliver(struct session *s)
{
	struct deliver_ctx dc = { s, 0 };

	/* XEP-0160: a resource with negative priority gets none. */
	if (s->priority < 0)
		return;
	if (store_offline_list(s->srv->store, s->user, send_one, &dc) !=
	    STORE_OK) {
		log_error("%s: reading offline messages: %s", s->full,
		    store_errmsg(s->srv->store));
		return;
	}
	/* Deleted only once queued to the client: a crash before this
	 * point delivers them again rather than never. */
	if (dc.last > 0 && store_offline_delete_upto(s->srv->store, s->user,
	    dc.last) != STORE_OK)
		log_error("%s: deleting delivered offline messages: %s",
		    s->full, store_errmsg(s->srv->store));
}
