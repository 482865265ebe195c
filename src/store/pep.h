/*
 * pep.h - stored Personal Eventing nodes (XEP-0163 on XEP-0060): per
 * account, nodes with their configuration, the items published to them,
 * and each node's whitelist.
 *
 * A node's rows go with the node (and the node with its account).  Items
 * carry a sequence number so that "newest" survives replacing an item
 * with the same id: a replaced item becomes the newest.  Every write that
 * checks a bound (node count, items per node, members per node) does so
 * in the same transaction as the write.  Payloads are stored as the
 * caller serialized them and come back byte for byte.
 */
#ifndef PARLEY_STORE_PEP_H
#define PARLEY_STORE_PEP_H

#include <stddef.h>

#include "core/buf.h"
#include "store/store.h"

/* Who may retrieve a node's items.  These numbers are stored: never
 * renumber them. */
enum pep_access {
	PEP_ACCESS_OPEN = 0,		/* any user of this server */
	PEP_ACCESS_PRESENCE = 1,	/* who may see the owner's presence */
	PEP_ACCESS_WHITELIST = 2,	/* the owner's chosen members */
};

struct pep_conf {
	unsigned	access;		/* enum pep_access */
	unsigned	max_items;	/* >= 1 */
	unsigned	send_last;	/* 1: the last item goes to resources
					   coming online (XEP-0060
					   on_sub_and_presence); 0: never */
};

/* STORE_NOT_FOUND if the account has no such node. */
enum store_rc store_pep_node_get(struct store *st, const char *user,
	    const char *node, struct pep_conf *out);
/* STORE_EXISTS if the node exists; STORE_FULL if the account already has
 * max_nodes nodes. */
enum store_rc store_pep_node_create(struct store *st, const char *user,
	    const char *node, const struct pep_conf *c, unsigned max_nodes);
/* Changes the configuration; items beyond the new max_items go, oldest
 * first.  STORE_NOT_FOUND if no such node. */
enum store_rc store_pep_node_set(struct store *st, const char *user,
	    const char *node, const struct pep_conf *c);
/* Deletes the node with its items and whitelist. */
enum store_rc store_pep_node_delete(struct store *st, const char *user,
	    const char *node);
/* Calls fn for each node of the account, in node name order.  fn must
 * not call back into the store for the same account's node list. */
enum store_rc store_pep_node_list(struct store *st, const char *user,
	    void (*fn)(void *ud, const char *node, const struct pep_conf *c),
	    void *ud);

/* Stores (or replaces) an item as the node's newest and evicts the
 * oldest beyond the node's max_items.  STORE_NOT_FOUND if no such node. */
enum store_rc store_pep_item_put(struct store *st, const char *user,
	    const char *node, const char *item, const char *xml, size_t len);
/* STORE_NOT_FOUND if the node has no such item. */
enum store_rc store_pep_item_delete(struct store *st, const char *user,
	    const char *node, const char *item);
/* Deletes every item of the node. */
enum store_rc store_pep_item_purge(struct store *st, const char *user,
	    const char *node);
/* Appends the item's payload to out; STORE_NOT_FOUND if there is none. */
enum store_rc store_pep_item_get(struct store *st, const char *user,
	    const char *node, const char *item, struct buf *out);
/* Calls fn for the newest max items (0: all), oldest of them first. */
enum store_rc store_pep_item_list(struct store *st, const char *user,
	    const char *node, unsigned max,
	    void (*fn)(void *ud, const char *item, const char *xml,
	    size_t len), void *ud);

/* Adds (member 1) or removes (member 0) a bare JID from the whitelist.
 * STORE_NOT_FOUND if no such node; STORE_FULL if adding would pass
 * max_members. */
enum store_rc store_pep_member_set(struct store *st, const char *user,
	    const char *node, const char *jid, int member,
	    unsigned max_members);
/* STORE_OK if jid is on the node's whitelist, else STORE_NOT_FOUND. */
enum store_rc store_pep_member_check(struct store *st, const char *user,
	    const char *node, const char *jid);
/* Calls fn for each whitelisted JID, in order. */
enum store_rc store_pep_member_list(struct store *st, const char *user,
	    const char *node, void (*fn)(void *ud, const char *jid), void *ud);

#endif
