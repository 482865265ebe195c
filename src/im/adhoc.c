/*
 * adhoc.c - ad-hoc commands (XEP-0050) offered by the server's domain:
 * the service administration commands of XEP-0133 for the accounts in
 * [server] admins.
 *
 *   add-user               accountjid, password, password-verify
 *   delete-user            accountjids (their sessions are closed)
 *   announce               subject, announcement: a headline from the
 *                          domain to every bound session
 *   get-online-users-num   one step: the number of accounts online
 *   get-online-users-list  max_items, then their bare JIDs
 *
 * Flow (XEP-0050 3): execute without a sessionid starts a session and
 * answers with the form (status executing, one action: complete); the
 * submitted form (action complete or execute, with the sessionid) is
 * acted on and answered with status completed and a note; cancel ends
 * the session (status canceled).  One-step commands complete at once.
 *
 * Who may: only admins see the commands (disco#items of the commands
 * node lists nothing to anyone else, XEP-0050 2.2 allows an empty list)
 * and only admins may execute them (forbidden otherwise, before even
 * looking at the node, so the list stays private).  Every run, and every
 * refused attempt, goes to the audit trail with kind "admin".
 *
 * Errors: a malformed request or form is a stanza error with <text/>
 * and the XEP-0050 condition (bad-action, bad-sessionid, bad-payload);
 * the session stays open so that the form can be sent again.  What the
 * command itself could not do (an account that exists, or does not) is
 * a note of type error in the completed answer.
 *
 * Sessions live in memory, at most PARLEY_ADHOC_SESSIONS_MAX per admin,
 * and are dropped PARLEY_ADHOC_SESSION_S after they started.  A session
 * belongs to the full JID that started it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/limits.h"
#include "core/log.h"
#include "im/im.h"
#include "store/store.h"
#include "xmpp/account.h"
#include "xmpp/errors.h"
#include "xmpp/ns.h"
#include "xmpp/policy.h"
#include "xmpp/router.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define NS_ADMIN	"http://jabber.org/protocol/admin"
#define LIST_MAX	100000u	/* bare JIDs in one online-users answer */

struct adhoc_ctx {
	struct im_req		*req;
	struct xml_stanza	*st;		/* the answer's <command/> */
	struct xml_node		*cmd;
	const struct xml_node	*form;		/* submitted <x/>, or NULL */
	const char		*admin;		/* bare JID of the caller */
};

struct adhoc_cmd {
	const char	*node;
	const char	*name;
	/* Fills the form of the first step; NULL: a one-step command. */
	void		(*form)(struct adhoc_ctx *c);
	/* Acts on the submitted form (NULL for one-step commands): 0 when
	 * done (c->cmd has the notes or result), -1 when a stanza error
	 * was sent instead. */
	int		(*run)(struct adhoc_ctx *c);
};

static void add_user_form(struct adhoc_ctx *c);
static int add_user_run(struct adhoc_ctx *c);
static void delete_user_form(struct adhoc_ctx *c);
static int delete_user_run(struct adhoc_ctx *c);
static void announce_form(struct adhoc_ctx *c);
static int announce_run(struct adhoc_ctx *c);
static int online_num_run(struct adhoc_ctx *c);
static void online_list_form(struct adhoc_ctx *c);
static int online_list_run(struct adhoc_ctx *c);

static const struct adhoc_cmd cmds[] = {
	{ NS_ADMIN "#add-user", "Add a User", add_user_form, add_user_run },
	{ NS_ADMIN "#delete-user", "Delete a User", delete_user_form,
	    delete_user_run },
	{ NS_ADMIN "#announce", "Send Announcement to Online Users",
	    announce_form, announce_run },
	{ NS_ADMIN "#get-online-users-num", "Get Number of Online Users",
	    NULL, online_num_run },
	{ NS_ADMIN "#get-online-users-list", "Get List of Online Users",
	    online_list_form, online_list_run },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

struct adhoc_session {
	char			 id[33];
	const struct adhoc_cmd	*cmd;
	char			*owner;		/* full JID */
	uint64_t		 started_ms;
	struct adhoc_session	*next;
};

static struct adhoc_session *sessions;

static const struct adhoc_cmd *cmd_find(const char *node)
{
	for (size_t i = 0; node != NULL && i < NCMDS; i++)
		if (strcmp(cmds[i].node, node) == 0)
			return &cmds[i];
	return NULL;
}

/* ---- sessions ---------------------------------------------------------- */

static void session_drop(struct adhoc_session **pp)
{
	struct adhoc_session *a = *pp;

	*pp = a->next;
	free(a->owner);
	free(a);
}

/* Drops the sessions that are too old; counts those of owner's account. */
static unsigned sessions_expire(const char *bare)
{
	uint64_t now = clock_mono_ms();
	size_t blen = strlen(bare);
	unsigned n = 0;

	for (struct adhoc_session **pp = &sessions; *pp != NULL; ) {
		if (now - (*pp)->started_ms >=
		    (uint64_t)PARLEY_ADHOC_SESSION_S * 1000) {
			session_drop(pp);
			continue;
		}
		if (strncmp((*pp)->owner, bare, blen) == 0 &&
		    ((*pp)->owner[blen] == '/' || (*pp)->owner[blen] == '\0'))
			n++;
		pp = &(*pp)->next;
	}
	return n;
}

static struct adhoc_session **session_find(const char *id, const char *owner)
{
	for (struct adhoc_session **pp = &sessions; *pp != NULL;
	    pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0 &&
		    strcmp((*pp)->owner, owner) == 0)
			return pp;
	return NULL;
}

/* ---- answers ----------------------------------------------------------- */

/* A stanza error whose <error/> also carries a XEP-0050 condition. */
static void cmd_error(struct im_req *req, enum stanza_err e,
    const char *specific, const char *text)
{
	struct xml_stanza *st = stanza_error_reply(req->stanza, e, text);
	struct xml_node *root, *err;

	if (st == NULL)
		return;
	root = xml_root(st);
	err = xml_child(root, NULL, "error");
	if (err != NULL && specific != NULL)
		xml_add_child(st, err, NS_COMMANDS, specific);
	xml_set_attr(st, root, "to", req->from->full);
	session_send(req->from, root);
	xml_stanza_free(st);
}

static void note(struct adhoc_ctx *c, const char *type, const char *text)
{
	struct xml_node *n = xml_add_child(c->st, c->cmd, NULL, "note");

	xml_set_attr(c->st, n, "type", type);
	xml_add_text(c->st, n, text, strlen(text));
}

static struct xml_node *form_new(struct adhoc_ctx *c, const char *type,
    const char *title, const char *instructions)
{
	struct xml_node *x = xml_add_child(c->st, c->cmd, NS_DATA, "x");
	struct xml_node *n, *f, *v;

	xml_set_attr(c->st, x, "type", type);
	if (title != NULL) {
		n = xml_add_child(c->st, x, NULL, "title");
		xml_add_text(c->st, n, title, strlen(title));
	}
	if (instructions != NULL) {
		n = xml_add_child(c->st, x, NULL, "instructions");
		xml_add_text(c->st, n, instructions, strlen(instructions));
	}
	f = xml_add_child(c->st, x, NULL, "field");
	xml_set_attr(c->st, f, "var", "FORM_TYPE");
	xml_set_attr(c->st, f, "type", "hidden");
	v = xml_add_child(c->st, f, NULL, "value");
	xml_add_text(c->st, v, NS_ADMIN, strlen(NS_ADMIN));
	return x;
}

static struct xml_node *field(struct adhoc_ctx *c, struct xml_node *x,
    const char *var, const char *type, const char *label, int required)
{
	struct xml_node *f = xml_add_child(c->st, x, NULL, "field");

	xml_set_attr(c->st, f, "var", var);
	xml_set_attr(c->st, f, "type", type);
	if (label != NULL)
		xml_set_attr(c->st, f, "label", label);
	if (required)
		xml_add_child(c->st, f, NULL, "required");
	return f;
}

static void value(struct adhoc_ctx *c, struct xml_node *f, const char *v)
{
	struct xml_node *n = xml_add_child(c->st, f, NULL, "value");

	xml_add_text(c->st, n, v, strlen(v));
}

/* ---- reading the submitted form ---------------------------------------- */

static const struct xml_node *form_field(const struct xml_node *x,
    const char *var)
{
	for (const struct xml_node *f = xml_first_elem(x); f != NULL;
	    f = xml_next_elem(f)) {
		const char *v;

		if (strcmp(f->ns, NS_DATA) != 0 || strcmp(f->name, "field") != 0)
			continue;
		v = xml_attr(f, "var");
		if (v != NULL && strcmp(v, var) == 0)
			return f;
	}
	return NULL;
}

/* The values of a field, joined by sep, into out; the count of values
 * (0 when the field is absent). */
static unsigned form_values(const struct xml_node *x, const char *var,
    const char *sep, struct buf *out)
{
	const struct xml_node *f = form_field(x, var);
	unsigned n = 0;

	if (f == NULL)
		return 0;
	for (const struct xml_node *v = xml_first_elem(f); v != NULL;
	    v = xml_next_elem(v)) {
		if (strcmp(v->ns, NS_DATA) != 0 || strcmp(v->name, "value") != 0)
			continue;
		if (n++ > 0)
			buf_puts(out, sep);
		xml_text(v, out);
	}
	return n;
}

/* One value, or NULL (absent or several); the caller frees it. */
static char *form_value(const struct xml_node *x, const char *var)
{
	struct buf b = BUF_INIT;

	if (form_values(x, var, "\n", &b) != 1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* A JID from the form as an account of this server: its localpart
 * (malloc'd), or NULL with why set. */
static char *account_of(struct server *srv, const char *s, const char **why)
{
	struct jid j;
	char *lp;

	if (jid_parse(s, &j) != 0) {
		*why = "not a valid JID";
		return NULL;
	}
	if (j.local == NULL || j.resource != NULL) {
		*why = "not a bare JID of an account (user@domain)";
		jid_free(&j);
		return NULL;
	}
	if (strcmp(j.domain, srv->cfg->domain) != 0) {
		*why = "not an account of this server";
		jid_free(&j);
		return NULL;
	}
	for (const char *p = j.local; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			*why = "only ASCII account names are supported";
			jid_free(&j);
			return NULL;
		}
	lp = xstrdup(j.local);
	jid_free(&j);
	return lp;
}

/* ---- add-user (XEP-0133 4.1) ------------------------------------------- */

static void add_user_form(struct adhoc_ctx *c)
{
	struct xml_node *x = form_new(c, "form", "Adding a user",
	    "Fill out this form to add a user.");

	field(c, x, "accountjid", "jid-single",
	    "The Jabber ID for the account to be added", 1);
	field(c, x, "password", "text-private",
	    "The password for this account", 1);
	field(c, x, "password-verify", "text-private",
	    "Retype password", 1);
}

static int add_user_run(struct adhoc_ctx *c)
{
	struct server *srv = c->req->srv;
	char *jid = form_value(c->form, "accountjid");
	char *pw = form_value(c->form, "password");
	char *pw2 = form_value(c->form, "password-verify");
	struct scram_creds sha1, sha256;
	const char *why = NULL;
	char *lp = NULL, text[PARLEY_JID_PART_MAX * 2 + 64];
	enum store_rc rc;
	int ret = -1;

	if (jid == NULL || pw == NULL || pw2 == NULL) {
		cmd_error(c->req, ERR_BAD_REQUEST, "bad-payload",
		    "accountjid, password and password-verify are required, "
		    "one value each");
		goto out;
	}
	if ((lp = account_of(srv, jid, &why)) == NULL) {
		snprintf(text, sizeof(text), "accountjid: %s", why);
		cmd_error(c->req, ERR_JID_MALFORMED, "bad-payload", text);
		goto out;
	}
	if (strcmp(pw, pw2) != 0) {
		cmd_error(c->req, ERR_NOT_ACCEPTABLE, "bad-payload",
		    "password and password-verify differ");
		goto out;
	}
	if (pw[0] == '\0' || strlen(pw) > PARLEY_PASSWORD_MAX) {
		snprintf(text, sizeof(text), "the password must be 1 to %u "
		    "bytes", PARLEY_PASSWORD_MAX);
		cmd_error(c->req, ERR_NOT_ACCEPTABLE, "bad-payload", text);
		goto out;
	}
	ret = 0;
	/* Exactly as parleyctl user add makes them (xmpp/account.h). */
	if (account_creds_make(pw, strlen(pw), srv->cfg->scram_iterations,
	    &sha1, &sha256) != 0) {
		note(c, "error", "cannot derive the credentials");
		goto out;
	}
	rc = store_user_create(srv->store, lp, &sha1, &sha256);
	wipe(&sha1, sizeof(sha1));
	wipe(&sha256, sizeof(sha256));
	if (rc == STORE_EXISTS) {
		snprintf(text, sizeof(text), "%s@%s already exists", lp,
		    srv->cfg->domain);
		note(c, "error", text);
	} else if (rc != STORE_OK) {
		log_error("adhoc add-user: %s", store_errmsg(srv->store));
		note(c, "error", "the account could not be stored");
	} else {
		snprintf(text, sizeof(text), "added %s@%s", lp,
		    srv->cfg->domain);
		note(c, "info", text);
		log_info("%s added account %s@%s (XEP-0133)", c->admin, lp,
		    srv->cfg->domain);
		server_audit(srv, "admin", lp, NULL, "add-user by %s",
		    c->admin);
	}
out:
	if (pw != NULL)
		wipe(pw, strlen(pw));
	if (pw2 != NULL)
		wipe(pw2, strlen(pw2));
	free(jid);
	free(pw);
	free(pw2);
	free(lp);
	return ret;
}

/* ---- delete-user (XEP-0133 4.2) ---------------------------------------- */

static void delete_user_form(struct adhoc_ctx *c)
{
	struct xml_node *x = form_new(c, "form", "Deleting a user",
	    "Fill out this form to delete a user.");

	field(c, x, "accountjids", "jid-multi",
	    "The Jabber ID(s) to delete", 1);
}

/* Closes every session of lp (the account is gone). */
static void kick(struct server *srv, const char *lp)
{
	struct session *s, **v = NULL;
	size_t n = 0;

	/* Collected first: closing changes the account's list. */
	for (s = router_sessions(srv->router, lp); s != NULL; s = s->acct_next)
		n++;
	if (n == 0)
		return;
	v = xcalloc(n, sizeof(*v));
	n = 0;
	for (s = router_sessions(srv->router, lp); s != NULL; s = s->acct_next)
		v[n++] = s;
	for (size_t i = 0; i < n; i++) {
		router_unbind(srv->router, v[i]);
		session_stream_error(v[i], SE_NOT_AUTHORIZED,
		    "your account was deleted by an administrator");
	}
	free(v);
}

static int delete_user_run(struct adhoc_ctx *c)
{
	struct server *srv = c->req->srv;
	struct buf all = BUF_INIT, done = BUF_INIT, missing = BUF_INIT;
	char **lps = NULL, *line, *save = NULL;
	size_t n = 0;
	unsigned nv;
	const char *why;
	char text[PARLEY_JID_PART_MAX * 2 + 64];
	int ret = -1;

	nv = form_values(c->form, "accountjids", "\n", &all);
	if (nv == 0) {
		cmd_error(c->req, ERR_BAD_REQUEST, "bad-payload",
		    "accountjids is required");
		goto out;
	}
	/* Every JID is checked before any account is deleted. */
	lps = xcalloc(nv, sizeof(*lps));
	for (line = strtok_r(all.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *lp = account_of(srv, line, &why);

		if (lp == NULL) {
			snprintf(text, sizeof(text), "accountjids: %.*s: %s",
			    64, line, why);
			cmd_error(c->req, ERR_JID_MALFORMED, "bad-payload",
			    text);
			goto out;
		}
		lps[n++] = lp;
	}
	if (n == 0) {
		cmd_error(c->req, ERR_BAD_REQUEST, "bad-payload",
		    "accountjids is empty");
		goto out;
	}
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		enum store_rc rc = store_user_delete(srv->store, lps[i]);
		struct buf *b = rc == STORE_OK ? &done : &missing;

		if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
			log_error("adhoc delete-user: %s",
			    store_errmsg(srv->store));
			note(c, "error", "the store failed; some accounts may "
			    "remain");
			break;
		}
		buf_printf(b, "%s%s@%s", b->len ? ", " : "", lps[i],
		    srv->cfg->domain);
		if (rc == STORE_OK) {
			log_info("%s deleted account %s@%s (XEP-0133)",
			    c->admin, lps[i], srv->cfg->domain);
			server_audit(srv, "admin", lps[i], NULL,
			    "delete-user by %s", c->admin);
			kick(srv, lps[i]);
			im_consent_account_deleted();
		}
	}
	if (missing.len) {
		struct buf t = BUF_INIT;

		buf_printf(&t, "no such account: %s", buf_str(&missing));
		note(c, "error", buf_str(&t));
		buf_free(&t);
	}
	if (done.len) {
		struct buf t = BUF_INIT;

		buf_printf(&t, "deleted %s", buf_str(&done));
		note(c, "info", buf_str(&t));
		buf_free(&t);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(lps[i]);
	free(lps);
	buf_free(&all);
	buf_free(&done);
	buf_free(&missing);
	return ret;
}

/* ---- announce (XEP-0133 4.23) ------------------------------------------ */

static void announce_form(struct adhoc_ctx *c)
{
	struct xml_node *x = form_new(c, "form", "Making an announcement",
	    "Fill out this form to send a message to every user online.");

	field(c, x, "subject", "text-single", "Subject", 0);
	field(c, x, "announcement", "text-multi", "Announcement", 1);
}

static int announce_run(struct adhoc_ctx *c)
{
	struct server *srv = c->req->srv;
	struct buf body = BUF_INIT, subject = BUF_INIT, out = BUF_INIT;
	struct xml_stanza *st;
	struct xml_node *root, *n;
	unsigned sent = 0;
	char text[64];

	if (form_values(c->form, "announcement", "\n", &body) == 0 ||
	    body.len == 0) {
		buf_free(&body);
		cmd_error(c->req, ERR_BAD_REQUEST, "bad-payload",
		    "announcement is required");
		return -1;
	}
	form_values(c->form, "subject", " ", &subject);
	/* headline: a notice, not a conversation (never stored offline);
	 * serialized once, the same bytes to everyone. */
	st = xml_stanza_new(NS_CLIENT, "message");
	root = xml_root(st);
	xml_set_attr(st, root, "type", "headline");
	xml_set_attr(st, root, "from", srv->cfg->domain);
	if (subject.len) {
		n = xml_add_child(st, root, NULL, "subject");
		xml_add_text(st, n, subject.data, subject.len);
	}
	n = xml_add_child(st, root, NULL, "body");
	xml_add_text(st, n, body.data, body.len);
	router_serialize(root, &out);
	for (struct session *s = srv->sessions; s != NULL; s = s->all_next) {
		if (s->state != SS_ACTIVE || s->full == NULL)
			continue;
		session_send_raw(s, out.data, out.len);
		sent++;
	}
	xml_stanza_free(st);
	snprintf(text, sizeof(text), "sent to %u session%s", sent,
	    sent == 1 ? "" : "s");
	note(c, "info", text);
	log_info("%s sent an announcement to %u sessions (XEP-0133)",
	    c->admin, sent);
	server_audit(srv, "admin", NULL, NULL, "announce by %s to %u sessions",
	    c->admin, sent);
	buf_free(&body);
	buf_free(&subject);
	buf_free(&out);
	return 0;
}

/* ---- online users (XEP-0133 4.15, 4.16) -------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The bare JIDs of the accounts with a bound session, sorted; *n. */
static const char **online(struct server *srv, size_t *n)
{
	struct hmap *seen = hmap_new();
	const char **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (struct session *s = srv->sessions; s != NULL; s = s->all_next) {
		if (s->state != SS_ACTIVE || s->bare == NULL ||
		    hmap_get(seen, s->bare) != NULL)
			continue;
		hmap_put(seen, s->bare, (void *)1);
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = s->bare;
	}
	hmap_free(seen);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static int online_num_run(struct adhoc_ctx *c)
{
	size_t n;
	const char **v = online(c->req->srv, &n);
	struct xml_node *x, *f;
	char num[32];

	free(v);
	x = form_new(c, "result", "Number of online users", NULL);
	f = field(c, x, "onlineusersnum", "text-single",
	    "The number of online users", 0);
	snprintf(num, sizeof(num), "%zu", n);
	value(c, f, num);
	server_audit(c->req->srv, "admin", NULL, NULL,
	    "get-online-users-num by %s", c->admin);
	return 0;
}

static void online_list_form(struct adhoc_ctx *c)
{
	static const char *const opts[] = { "25", "50", "75", "100", "150",
	    "200", "none" };
	struct xml_node *x = form_new(c, "form", "Getting the list of online "
	    "users", "How many users should be listed?");
	struct xml_node *f = field(c, x, "max_items", "list-single",
	    "Maximum number of users", 0);

	value(c, f, "none");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		struct xml_node *o = xml_add_child(c->st, f, NULL, "option");

		xml_set_attr(c->st, o, "label", opts[i]);
		value(c, o, opts[i]);
	}
}

static int online_list_run(struct adhoc_ctx *c)
{
	char *max = form_value(c->form, "max_items");
	size_t n, limit = LIST_MAX;
	const char **v;
	struct xml_node *x, *f;

	if (max != NULL && strcmp(max, "none") != 0) {
		char *end;
		unsigned long m = strtoul(max, &end, 10);

		if (*max == '\0' || *end != '\0' || m == 0 || m > LIST_MAX) {
			free(max);
			cmd_error(c->req, ERR_BAD_REQUEST, "bad-payload",
			    "max_items: a number from 1 to 100000, or none");
			return -1;
		}
		limit = m;
	}
	free(max);
	v = online(c->req->srv, &n);
	x = form_new(c, "result", "Online users", NULL);
	f = field(c, x, "onlineuserjids", "jid-multi",
	    "The list of all online users", 0);
	for (size_t i = 0; i < n && i < limit; i++)
		value(c, f, v[i]);
	free(v);
	server_audit(c->req->srv, "admin", NULL, NULL,
	    "get-online-users-list by %s", c->admin);
	return 0;
}

/* ---- XEP-0050 ---------------------------------------------------------- */

static void answer(struct adhoc_ctx *c)
{
	im_iq_result(c->req, c->cmd);
}

static struct xml_node *cmd_new(struct adhoc_ctx *c,
    const struct adhoc_cmd *k, const char *sessionid, const char *status)
{
	c->st = xml_stanza_new(NS_COMMANDS, "command");
	c->cmd = xml_root(c->st);
	xml_set_attr(c->st, c->cmd, "node", k->node);
	xml_set_attr(c->st, c->cmd, "sessionid", sessionid);
	xml_set_attr(c->st, c->cmd, "status", status);
	return c->cmd;
}

/* A submitted data form, or NULL: <x xmlns='jabber:x:data'
 * type='submit'/> with FORM_TYPE absent or ours. */
static const struct xml_node *submitted(const struct xml_node *command,
    const char **why)
{
	const struct xml_node *x = xml_child(command, NS_DATA, "x");
	const char *type;
	char *ft;

	if (x == NULL) {
		*why = "send the filled-in form (jabber:x:data, type submit)";
		return NULL;
	}
	type = xml_attr(x, "type");
	if (type == NULL || strcmp(type, "submit") != 0) {
		*why = "the form's type must be submit";
		return NULL;
	}
	ft = form_value(x, "FORM_TYPE");
	if (form_field(x, "FORM_TYPE") != NULL &&
	    (ft == NULL || strcmp(ft, NS_ADMIN) != 0)) {
		free(ft);
		*why = "FORM_TYPE must be " NS_ADMIN;
		return NULL;
	}
	free(ft);
	return x;
}

static void start(struct adhoc_ctx *c, const struct adhoc_cmd *k)
{
	struct adhoc_session *a;
	unsigned char rnd[16];
	struct xml_node *acts;

	if (k->form == NULL) {		/* one step: done at once */
		char id[17];

		RAND_bytes(rnd, 8);
		for (size_t i = 0; i < 8; i++)
			snprintf(id + 2 * i, 3, "%02x", rnd[i]);
		cmd_new(c, k, id, "completed");
		if (k->run(c) == 0)
			answer(c);
		return;
	}
	if (sessions_expire(c->admin) >= PARLEY_ADHOC_SESSIONS_MAX) {
		cmd_error(c->req, ERR_RESOURCE_CONSTRAINT, NULL,
		    "too many unfinished commands; complete or cancel some");
		return;
	}
	a = xcalloc(1, sizeof(*a));
	RAND_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(a->id + 2 * i, 3, "%02x", rnd[i]);
	a->cmd = k;
	a->owner = xstrdup(c->req->from->full);
	a->started_ms = clock_mono_ms();
	a->next = sessions;
	sessions = a;
	cmd_new(c, k, a->id, "executing");
	acts = xml_add_child(c->st, c->cmd, NULL, "actions");
	xml_set_attr(c->st, acts, "execute", "complete");
	xml_add_child(c->st, acts, NULL, "complete");
	k->form(c);
	answer(c);
}

int im_adhoc_enabled(const struct server *srv)
{
	return srv->cfg->admins.n > 0;
}

/* disco#items of the commands node: the commands, for admins only. */
void im_adhoc_disco_items(struct im_req *req, struct xml_stanza *st,
    struct xml_node *query)
{
	xml_set_attr(st, query, "node", NS_COMMANDS);
	if (!policy_is_admin(req->srv, req->from->bare))
		return;
	for (size_t i = 0; i < NCMDS; i++) {
		struct xml_node *it = xml_add_child(st, query, NULL, "item");

		xml_set_attr(st, it, "jid", req->srv->cfg->domain);
		xml_set_attr(st, it, "node", cmds[i].node);
		xml_set_attr(st, it, "name", cmds[i].name);
	}
}

/* disco#info of a command node (XEP-0050 2.3); 0 if answered. */
int im_adhoc_disco_info(struct im_req *req, const char *node)
{
	const struct adhoc_cmd *k = cmd_find(node);
	int list = strcmp(node, NS_COMMANDS) == 0;
	struct xml_stanza *st;
	struct xml_node *root, *n;

	if (k == NULL && !list)
		return -1;
	if (!policy_is_admin(req->srv, req->from->bare)) {
		im_error(req, ERR_FORBIDDEN, "only the server's admins may "
		    "run its commands");
		return 0;
	}
	st = xml_stanza_new(NS_DISCO_INFO, "query");
	root = xml_root(st);
	xml_set_attr(st, root, "node", node);
	n = xml_add_child(st, root, NULL, "identity");
	xml_set_attr(st, n, "category", "automation");
	xml_set_attr(st, n, "type", list ? "command-list" : "command-node");
	if (k != NULL)
		xml_set_attr(st, n, "name", k->name);
	n = xml_add_child(st, root, NULL, "feature");
	xml_set_attr(st, n, "var", NS_COMMANDS);
	if (k != NULL) {
		n = xml_add_child(st, root, NULL, "feature");
		xml_set_attr(st, n, "var", NS_DATA);
	}
	im_iq_result(req, root);
	xml_stanza_free(st);
	return 0;
}

void im_adhoc_command(struct im_req *req)
{
	struct xml_node *command = xml_first_elem(req->stanza);
	const char *node = xml_attr(command, "node");
	const char *sid = xml_attr(command, "sessionid");
	const char *action = xml_attr(command, "action");
	struct adhoc_ctx c;
	struct adhoc_session **pp;
	const struct adhoc_cmd *k;
	const char *why;

	memset(&c, 0, sizeof(c));
	c.req = req;
	c.admin = req->from->bare;
	if (!policy_is_admin(req->srv, req->from->bare)) {
		log_info("%s: refused ad-hoc command %.200s: not an admin",
		    req->from->full, node ? node : "(none)");
		server_audit(req->srv, "admin", req->from->user, NULL,
		    "refused: not an admin (node %.200s)", node ? node :
		    "(none)");
		im_error(req, ERR_FORBIDDEN, "only the server's admins may "
		    "run its commands");
		return;
	}
	if ((k = cmd_find(node)) == NULL) {
		im_error(req, ERR_ITEM_NOT_FOUND, "no such command here");
		return;
	}
	if (action != NULL && strcmp(action, "execute") != 0 &&
	    strcmp(action, "complete") != 0 && strcmp(action, "cancel") != 0) {
		cmd_error(req, ERR_BAD_REQUEST, "bad-action", "the actions "
		    "here are execute, complete and cancel");
		return;
	}
	if (sid == NULL) {
		if (action != NULL && strcmp(action, "execute") != 0) {
			cmd_error(req, ERR_BAD_REQUEST, "bad-sessionid",
			    "start the command with execute first");
			return;
		}
		start(&c, k);
		xml_stanza_free(c.st);
		return;
	}
	sessions_expire(c.admin);
	pp = session_find(sid, req->from->full);
	if (pp == NULL || (*pp)->cmd != k) {
		cmd_error(req, ERR_BAD_REQUEST, "bad-sessionid",
		    "no such command session (it may have expired)");
		return;
	}
	if (action != NULL && strcmp(action, "cancel") == 0) {
		cmd_new(&c, k, sid, "canceled");
		session_drop(pp);
		answer(&c);
		xml_stanza_free(c.st);
		return;
	}
	if ((c.form = submitted(command, &why)) == NULL) {
		cmd_error(req, ERR_BAD_REQUEST, "bad-payload", why);
		return;
	}
	cmd_new(&c, k, sid, "completed");
	if (k->run(&c) == 0) {
		/* Looked up again: a command may have closed sessions. */
		if ((pp = session_find(sid, req->from->full)) != NULL)
			session_drop(pp);
		answer(&c);
	}
	xml_stanza_free(c.st);
}
