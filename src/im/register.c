/*
 * register.c - in-band registration and password change (XEP-0077,
 * jabber:iq:register) with invitation tokens (XEP-0445, urn:xmpp:pars:0).
 *
 * [register] mode decides who may create an account in-band:
 *   closed  no register stream feature; a registration IQ before login is
 *           answered service-unavailable (XEP-0077 3.1: what a host that
 *           does not support in-band registration MUST return);
 *   invite  the client first presents a token with <preauth/> (XEP-0445),
 *           then registers; the account spends one use of the invitation
 *           in the transaction that creates it (store/invite.h);
 *   open    anyone may register.
 * Registration happens only before authentication, over TLS (session.c
 * hands us IQs only in that state), at most once per connection
 * (XEP-0077 3.1.5 allows not-acceptable for a second one), and within
 * the per-address limits of net/reglimit.h; the stream then goes on to
 * SASL.  Accounts are made by the rules of xmpp/account.h, as parleyctl
 * user add makes them.
 *
 * After login, in every mode, a user may change their own password
 * (XEP-0077 3.3; every stream is TLS); removing the account in-band
 * (<remove/>) is refused with not-allowed: one stolen session must not be
 * able to destroy an account and everything stored with it, so the admin
 * deletes accounts (parleyctl user delete).
 *
 * Error replies never echo the request: it holds a password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "im/im.h"
#include "net/reglimit.h"
#include "store/invite.h"
#include "store/store.h"
#include "xmpp/account.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

/* Per-connection registration state, from the first registration IQ to
 * the end of the connection. */
struct im_register {
	unsigned char	 invite[INVITE_HASH_LEN]; /* token presented */
	unsigned	 invite_ok:1;	/* ... and accepted (XEP-0445) */
	unsigned	 registered:1;	/* an account was made here */
};

void im_register_free(struct session *s)
{
	if (s->reg != NULL) {
		wipe(s->reg, sizeof(*s->reg));
		free(s->reg);
		s->reg = NULL;
	}
}

static struct im_register *reg_state(struct session *s)
{
	if (s->reg == NULL)
		s->reg = xcalloc(1, sizeof(*s->reg));
	return s->reg;
}

void im_register_features(const struct session *s, struct buf *b)
{
	enum register_mode m = s->srv->cfg->register_mode;

	if (m == REGISTER_INVITE)
		buf_puts(b, "<register xmlns='" NS_IBR_TOKEN "'/>");
	if (m != REGISTER_CLOSED)
		buf_puts(b, "<register xmlns='" NS_REGISTER_FEATURE "'/>");
}

/* ---- replies ------------------------------------------------------------ */

/* Before login the reply has no 'to' (the client has no address yet);
 * after it, it goes to the full JID like every other reply. */
static void address_reply(struct session *s, struct xml_stanza *st,
    const struct xml_node *iq)
{
	struct xml_node *root = xml_root(st);

	xml_set_attr(st, root, "to", s->full);
	if (s->full != NULL && xml_attr(iq, "to") == NULL)
		xml_set_attr(st, root, "from", s->bare);
}

static void reply_error(struct session *s, const struct xml_node *iq,
    enum stanza_err e, const char *text, int wait)
{
	/* RFC 6120 8.3.3.12: a policy that passes with time is "wait". */
	struct xml_stanza *st = stanza_error_reply_type(iq, e,
	    wait ? "wait" : NULL, text);
	struct xml_node *root, *n, *next;

	if (st == NULL)
		return;
	root = xml_root(st);
	for (n = root->children; n != NULL; n = next) {
		next = n->next;
		if (n->type != XML_ELEM || strcmp(n->name, "error") != 0)
			xml_remove(n);
	}
	address_reply(s, st, iq);
	session_send(s, root);
	xml_stanza_free(st);
}

static void reply_result(struct session *s, const struct xml_node *iq,
    const struct xml_node *payload)
{
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "iq");
	struct xml_node *root = xml_root(st);
	const char *v;

	xml_set_attr(st, root, "type", "result");
	if ((v = xml_attr(iq, "id")) != NULL)
		xml_set_attr(st, root, "id", v);
	if ((v = xml_attr(iq, "to")) != NULL)
		xml_set_attr(st, root, "from", v);
	address_reply(s, st, iq);
	if (payload != NULL)
		xml_add_copy(st, root, payload);
	session_send(s, root);
	xml_stanza_free(st);
}

/* ---- reading the request ------------------------------------------------ */

/*
 * The text of the one child {NS_REGISTER}name of q: 1 with it appended
 * to out, 0 when absent, -1 when given twice.
 */
static int field(const struct xml_node *q, const char *name, struct buf *out)
{
	const struct xml_node *n, *found = NULL;

	for (n = xml_first_elem(q); n != NULL; n = xml_next_elem(n)) {
		if (strcmp(n->ns, NS_REGISTER) != 0 ||
		    strcmp(n->name, name) != 0)
			continue;
		if (found != NULL)
			return -1;
		found = n;
	}
	if (found == NULL)
		return 0;
	xml_text(found, out);
	return 1;
}

/* Clears the password's text inside the request, so that it does not
 * stay in freed memory. */
static void wipe_field(struct xml_node *q, const char *name)
{
	for (struct xml_node *n = xml_first_elem(q); n != NULL;
	    n = xml_next_elem(n)) {
		if (strcmp(n->ns, NS_REGISTER) != 0 ||
		    strcmp(n->name, name) != 0)
			continue;
		for (struct xml_node *t = n->children; t != NULL; t = t->next)
			if (t->type == XML_TEXT && t->len > 0)
				wipe((char *)t->text, t->len);
	}
}

static void buf_wipe_free(struct buf *b)
{
	if (b->data != NULL)
		wipe(b->data, b->cap);
	buf_free(b);
}

/* ---- before login: registering ------------------------------------------ */

static const char *limited(struct session *s, int creates_account)
{
	if (s->srv->reglimit == NULL)
		return NULL;
	return reglimit_check(s->srv->reglimit, s->addr, creates_account,
	    clock_mono_ms());
}

static void note(struct session *s, enum reglimit_event ev)
{
	if (s->srv->reglimit != NULL)
		reglimit_note(s->srv->reglimit, s->addr, ev, clock_mono_ms());
}

/* A refused attempt: counted against the address, logged, answered. */
static void refuse(struct session *s, const struct xml_node *iq,
    enum stanza_err e, const char *text)
{
	note(s, RL_REFUSED);
	log_info("conn %llu: registration refused from %s: %s",
	    (unsigned long long)s->id, s->addr, text);
	reply_error(s, iq, e, text, 0);
}

static void send_form(struct session *s, const struct xml_node *iq)
{
	struct xml_stanza *st = xml_stanza_new(NS_REGISTER, "query");
	struct xml_node *q = xml_root(st), *n;
	const char *text = s->srv->cfg->register_mode == REGISTER_INVITE ?
	    "This server registers accounts by invitation: present the "
	    "invitation's token first (XEP-0445), then choose a username "
	    "and a password." :
	    "Choose a username and a password.";

	n = xml_add_child(st, q, NULL, "instructions");
	xml_add_text(st, n, text, strlen(text));
	xml_add_child(st, q, NULL, "username");
	xml_add_child(st, q, NULL, "password");
	reply_result(s, iq, q);
	xml_stanza_free(st);
}

/* XEP-0445: the token is checked (including its expiry) now, and spent
 * only when the account is made. */
static void preauth(struct session *s, const struct xml_node *iq,
    const struct xml_node *el)
{
	struct im_register *r = reg_state(s);
	const char *token = xml_attr(el, "token");
	const char *why;
	enum store_rc rc = STORE_NOT_FOUND;

	if (strcmp(xml_attr(iq, "type"), "set") != 0 || token == NULL ||
	    token[0] == '\0') {
		reply_error(s, iq, ERR_BAD_REQUEST, "send <preauth "
		    "token='...'/> in an iq of type set", 0);
		return;
	}
	if ((why = limited(s, 0)) != NULL) {
		reply_error(s, iq, ERR_POLICY_VIOLATION, why, 1);
		return;
	}
	r->invite_ok = 0;
	if (strlen(token) == INVITE_TOKEN_LEN) {
		invite_token_hash(token, INVITE_TOKEN_LEN, r->invite);
		rc = store_invite_check(s->srv->store, r->invite,
		    clock_wall_s());
	}
	if (rc == STORE_OK) {
		r->invite_ok = 1;
		reply_result(s, iq, NULL);
	} else if (rc == STORE_NOT_FOUND) {
		refuse(s, iq, ERR_ITEM_NOT_FOUND, "the invitation is unknown, "
		    "used up, revoked or expired");
	} else {
		log_error("conn %llu: invitation check: %s",
		    (unsigned long long)s->id, store_errmsg(s->srv->store));
		reply_error(s, iq, ERR_INTERNAL_SERVER_ERROR,
		    "cannot check the invitation now", 0);
	}
}

static void create_account(struct session *s, const struct xml_node *iq,
    const char *lp, const struct buf *pw)
{
	const struct config *cfg = s->srv->cfg;
	struct im_register *r = s->reg;
	struct scram_creds sha1, sha256;
	enum store_rc rc;
	int invited = cfg->register_mode == REGISTER_INVITE;

	if (account_creds_make(pw->data, pw->len, cfg->scram_iterations,
	    &sha1, &sha256) != 0) {
		reply_error(s, iq, ERR_INTERNAL_SERVER_ERROR,
		    "cannot derive the credentials now", 0);
		return;
	}
	rc = invited ? store_invite_redeem(s->srv->store, r->invite, lp,
	    &sha1, &sha256) : store_user_create(s->srv->store, lp, &sha1,
	    &sha256);
	wipe(&sha1, sizeof(sha1));
	wipe(&sha256, sizeof(sha256));
	switch (rc) {
	case STORE_OK:
		r->registered = 1;
		r->invite_ok = 0;
		note(s, RL_ACCOUNT);
		log_info("conn %llu: registered %s@%s (%s) from %s",
		    (unsigned long long)s->id, lp, cfg->domain,
		    invited ? "by invitation" : "open registration", s->addr);
		reply_result(s, iq, NULL);
		break;
	case STORE_EXISTS:
		refuse(s, iq, ERR_CONFLICT, "that username is taken");
		break;
	case STORE_NOT_FOUND:
		r->invite_ok = 0;
		refuse(s, iq, ERR_FORBIDDEN, "the invitation has been used up "
		    "or revoked");
		break;
	default:
		log_error("conn %llu: registering %s: %s",
		    (unsigned long long)s->id, lp, store_errmsg(s->srv->store));
		reply_error(s, iq, ERR_INTERNAL_SERVER_ERROR,
		    "cannot create the account now", 0);
		break;
	}
}

static void register_set(struct session *s, const struct xml_node *iq,
    struct xml_node *q)
{
	const struct config *cfg = s->srv->cfg;
	struct im_register *r = reg_state(s);
	struct buf user = BUF_INIT, pw = BUF_INIT;
	const char *why;
	char msg[128];
	char *lp = NULL;
	int hu, hp;

	if (xml_child(q, NS_REGISTER, "remove") != NULL) {
		reply_error(s, iq, ERR_NOT_ALLOWED, "accounts are deleted by "
		    "the administrator, not in-band", 0);
		goto out;
	}
	if (r->registered) {
		reply_error(s, iq, ERR_NOT_ACCEPTABLE, "one account per "
		    "connection: log in with it now", 0);
		goto out;
	}
	if ((why = limited(s, cfg->register_mode == REGISTER_OPEN)) != NULL) {
		log_info("conn %llu: registration from %s held back: %s",
		    (unsigned long long)s->id, s->addr, why);
		reply_error(s, iq, ERR_POLICY_VIOLATION, why, 1);
		goto out;
	}
	if (cfg->register_mode == REGISTER_INVITE && !r->invite_ok) {
		refuse(s, iq, ERR_FORBIDDEN, "this server registers accounts "
		    "by invitation only: present the invitation's token first "
		    "(XEP-0445 <preauth/>)");
		goto out;
	}
	hu = field(q, "username", &user);
	hp = field(q, "password", &pw);
	if (hu < 0 || hp < 0) {
		refuse(s, iq, ERR_BAD_REQUEST, "give one username and one "
		    "password");
		goto out;
	}
	/* XEP-0077 3.1: missing or empty fields are not-acceptable. */
	if (hu == 0 || hp == 0 || user.len == 0 || pw.len == 0) {
		refuse(s, iq, ERR_NOT_ACCEPTABLE, "a username and a password "
		    "are required");
		goto out;
	}
	if ((lp = account_name_prep(buf_str(&user), &why)) == NULL) {
		refuse(s, iq, ERR_NOT_ACCEPTABLE, why);
		goto out;
	}
	if (account_password_check(pw.data, pw.len, cfg->min_password_length,
	    msg, sizeof(msg)) != 0) {
		refuse(s, iq, ERR_NOT_ACCEPTABLE, msg);
		goto out;
	}
	create_account(s, iq, lp, &pw);
out:
	free(lp);
	buf_free(&user);
	buf_wipe_free(&pw);
	wipe_field(q, "password");
}

int im_register_preauth(struct session *s, struct xml_node *iq)
{
	const struct config *cfg = s->srv->cfg;
	struct xml_node *c = xml_first_elem(iq);
	const char *type = xml_attr(iq, "type");
	const char *to = xml_attr(iq, "to");
	int is_query, is_preauth;

	if (strcmp(iq->ns, NS_CLIENT) != 0 || strcmp(iq->name, "iq") != 0 ||
	    c == NULL)
		return -1;
	is_query = strcmp(c->ns, NS_REGISTER) == 0 &&
	    strcmp(c->name, "query") == 0;
	is_preauth = strcmp(c->ns, NS_PARS) == 0 &&
	    strcmp(c->name, "preauth") == 0;
	if (!is_query && !is_preauth)
		return -1;
	if (type == NULL || (strcmp(type, "get") != 0 &&
	    strcmp(type, "set") != 0) || xml_attr(iq, "id") == NULL ||
	    xml_count_elems(iq) != 1) {
		reply_error(s, iq, ERR_BAD_REQUEST, "an iq get or set with an "
		    "id and one child element", 0);
		return 0;
	}
	if (to != NULL && strcmp(to, cfg->domain) != 0) {
		reply_error(s, iq, ERR_SERVICE_UNAVAILABLE, "only this server "
		    "registers accounts here", 0);
		return 0;
	}
	if (cfg->register_mode == REGISTER_CLOSED) {
		reply_error(s, iq, ERR_SERVICE_UNAVAILABLE, "in-band "
		    "registration is off on this server: the administrator "
		    "creates accounts", 0);
		return 0;
	}
	if (!s->tls) {
		/* session.c never lets it get here; say so if it does. */
		reply_error(s, iq, ERR_NOT_AUTHORIZED, "STARTTLS first", 0);
		return 0;
	}
	if (is_preauth)
		preauth(s, iq, c);
	else if (strcmp(type, "get") == 0)
		send_form(s, iq);
	else
		register_set(s, iq, c);
	return 0;
}

/* ---- after login: the account's own registration ------------------------ */

static void registered_info(struct im_req *req)
{
	struct xml_stanza *st = xml_stanza_new(NS_REGISTER, "query");
	struct xml_node *q = xml_root(st), *n;
	const char *user = req->from->user;

	xml_add_child(st, q, NULL, "registered");
	n = xml_add_child(st, q, NULL, "username");
	xml_add_text(st, n, user, strlen(user));
	im_iq_result(req, q);
	xml_stanza_free(st);
}

static void change_password(struct im_req *req, struct xml_node *q)
{
	struct session *s = req->from;
	const struct config *cfg = req->srv->cfg;
	struct buf user = BUF_INIT, pw = BUF_INIT;
	struct scram_creds sha1, sha256;
	const char *why;
	char msg[128];
	char *lp = NULL;
	int hu, hp;
	enum store_rc rc;

	hu = field(q, "username", &user);
	hp = field(q, "password", &pw);
	if (hu < 0 || hp < 0) {
		reply_error(s, req->stanza, ERR_BAD_REQUEST, "give at most one "
		    "username and one password", 0);
		goto out;
	}
	/* XEP-0077 3.3: an empty password never replaces the old one. */
	if (hp == 0 || pw.len == 0) {
		reply_error(s, req->stanza, ERR_BAD_REQUEST, "the new password "
		    "is missing", 0);
		goto out;
	}
	if (hu == 1 && ((lp = account_name_prep(buf_str(&user), &why)) ==
	    NULL || strcmp(lp, s->user) != 0)) {
		reply_error(s, req->stanza, ERR_FORBIDDEN, "you can only "
		    "change your own password", 0);
		goto out;
	}
	if (!s->tls) {
		reply_error(s, req->stanza, ERR_NOT_AUTHORIZED, "passwords are "
		    "only changed over TLS", 0);
		goto out;
	}
	if (account_password_check(pw.data, pw.len, cfg->min_password_length,
	    msg, sizeof(msg)) != 0) {
		reply_error(s, req->stanza, ERR_NOT_ACCEPTABLE, msg, 0);
		goto out;
	}
	if (account_creds_make(pw.data, pw.len, cfg->scram_iterations, &sha1,
	    &sha256) != 0) {
		reply_error(s, req->stanza, ERR_INTERNAL_SERVER_ERROR,
		    "cannot derive the credentials now", 0);
		goto out;
	}
	rc = store_user_set_creds(req->srv->store, s->user, &sha1, &sha256);
	wipe(&sha1, sizeof(sha1));
	wipe(&sha256, sizeof(sha256));
	if (rc == STORE_OK) {
		log_info("%s: password changed in-band", s->full);
		im_iq_result(req, NULL);
	} else {
		log_error("%s: password change: %s", s->full,
		    store_errmsg(req->srv->store));
		reply_error(s, req->stanza, ERR_INTERNAL_SERVER_ERROR,
		    "cannot change the password now", 0);
	}
out:
	free(lp);
	buf_free(&user);
	buf_wipe_free(&pw);
	wipe_field(q, "password");
}

void im_register(struct im_req *req)
{
	struct xml_node *q = xml_first_elem(req->stanza);

	if (strcmp(req->type, "get") == 0)
		registered_info(req);
	else if (xml_child(q, NS_REGISTER, "remove") != NULL)
		reply_error(req->from, req->stanza, ERR_NOT_ALLOWED, "accounts "
		    "are deleted by the administrator, not in-band", 0);
	else
		change_password(req, q);
}
