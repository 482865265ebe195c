/*
 * caps.c - entity capabilities (XEP-0115), for PEP's filtered
 * notifications (XEP-0163 4.3.2): a resource says which nodes it wants
 * events for by listing the feature "NODE+notify" in its disco#info, and
 * its available presence carries a hash of that disco#info (<c ver=.../>).
 *
 * When a presence names a ver we do not know, we ask that resource for
 * the disco#info behind it (an iq from the server whose id starts with
 * IM_CAPS_ID_PREFIX; handlers.c hands the answer back here).  The answer
 * is checked against the hash (XEP-0115 5.1, 5.4) before its +notify set
 * is cached under the ver, because every later resource with the same ver
 * will be believed without asking: one client must not be able to decide
 * what other clients are sent.  An answer that does not match (or a
 * legacy presence without a hash) is used for that one session only.
 *
 * The cache is bounded (CAPS_CACHE_MAX, oldest out first) and per
 * process, like the event loop that owns it.  Each session keeps its own
 * copy of its +notify set, so eviction never pulls one from under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/hmap.h"
#include "im/im.h"
#include "xmpp/ns.h"
#include "xmpp/server.h"
#include "xmpp/session.h"

#define CAPS_CACHE_MAX	1024
#define NOTIFY_SUFFIX	"+notify"

/* Node names a resource wants events for, sorted (strcmp), no repeats. */
struct notify_set {
	char	**v;
	size_t	  n;
};

/* A session's capabilities (struct session's caps). */
struct im_caps {
	char		 *node, *ver, *hash;	/* of the latest presence */
	struct notify_set set;
	char		  qid[40];	/* our query out, "" if none */
	int		  q_all;	/* when answered, send all last items */
};

struct cache_entry {
	char		*ver;
	struct notify_set set;
};

static struct hmap *cache;		/* ver -> struct cache_entry */
static struct cache_entry *ring[CAPS_CACHE_MAX];	/* insertion order */
static size_t ring_next, ring_n;
static unsigned long long query_seq;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_free(struct notify_set *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

static void set_copy(struct notify_set *dst, const struct notify_set *src)
{
	dst->n = src->n;
	dst->v = src->n ? xcalloc(src->n, sizeof(*dst->v)) : NULL;
	for (size_t i = 0; i < src->n; i++)
		dst->v[i] = xstrdup(src->v[i]);
}

static int set_has(const struct notify_set *ns, const char *node)
{
	return ns->n > 0 &&
	    bsearch(&node, ns->v, ns->n, sizeof(*ns->v), cmp_str) != NULL;
}

/* Sorts and drops repeats. */
static void set_normalise(struct notify_set *ns)
{
	size_t i, j;

	if (ns->n < 2)
		return;
	qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
	for (i = 1, j = 1; i < ns->n; i++) {
		if (strcmp(ns->v[i], ns->v[j - 1]) == 0)
			free(ns->v[i]);
		else
			ns->v[j++] = ns->v[i];
	}
	ns->n = j;
}

static const struct cache_entry *cache_get(const char *ver)
{
	return cache ? hmap_get(cache, ver) : NULL;
}

static void cache_put(const char *ver, const struct notify_set *ns)
{
	struct cache_entry *e;

	if (cache == NULL)
		cache = hmap_new();
	if (hmap_get(cache, ver) != NULL)
		return;
	if (ring_n == CAPS_CACHE_MAX) {
		struct cache_entry *old = ring[ring_next];

		hmap_del(cache, old->ver);
		free(old->ver);
		set_free(&old->set);
		free(old);
		ring_n--;
	}
	e = xcalloc(1, sizeof(*e));
	e->ver = xstrdup(ver);
	set_copy(&e->set, ns);
	hmap_put(cache, ver, e);
	ring[ring_next] = e;
	ring_next = (ring_next + 1) % CAPS_CACHE_MAX;
	ring_n++;
}

/* ---- the verification string (XEP-0115 5.1) ----------------------------- */

struct ident {
	const char	*cat, *type, *lang, *name;
};

static int cmp_ident(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;
	int c;

	if ((c = strcmp(x->cat, y->cat)) != 0 ||
	    (c = strcmp(x->type, y->type)) != 0 ||
	    (c = strcmp(x->lang, y->lang)) != 0)
		return c;
	return strcmp(x->name, y->name);
}

static const char *attr_or_empty(const struct xml_node *el, const char *n)
{
	const char *v = xml_attr(el, n);

	return v ? v : "";
}

/* A growable array of malloc'd strings. */
struct strv {
	char	**v;
	size_t	  n, cap;
};

static void strv_add(struct strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	memset(sv, 0, sizeof(*sv));
}

/* The <value/> texts of a data form field. */
static void field_values(const struct xml_node *f, struct strv *out)
{
	for (struct xml_node *v = xml_first_elem(f); v; v = xml_next_elem(v)) {
		struct buf b = BUF_INIT;

		if (strcmp(v->ns, NS_DATA) != 0 ||
		    strcmp(v->name, "value") != 0)
			continue;
		xml_text(v, &b);
		strv_add(out, buf_steal(&b));
		if (out->v[out->n - 1] == NULL)	/* empty buffer */
			out->v[out->n - 1] = xstrdup("");
	}
}

struct form {
	char	*type;		/* FORM_TYPE */
	char	*text;		/* its part of the string */
};

static int cmp_form(const void *a, const void *b)
{
	return strcmp(((const struct form *)a)->type,
	    ((const struct form *)b)->type);
}

struct field {
	const char		*var;
	const struct xml_node	*el;
};

static int cmp_field(const void *a, const void *b)
{
	return strcmp(((const struct field *)a)->var,
	    ((const struct field *)b)->var);
}

/*
 * One extended-information form's part of the string, or -1 when the form
 * is ill-formed (5.4: FORM_TYPE with differing values), 0 when it is to
 * be ignored (no FORM_TYPE, or one that is not hidden), 1 when done.
 */
static int form_part(const struct xml_node *x, struct form *out)
{
	const struct xml_node *ft = NULL;
	struct field *fields = NULL;
	size_t nf = 0;
	struct strv vals = { 0 };
	struct buf b = BUF_INIT;
	int rc = 1;

	for (struct xml_node *f = xml_first_elem(x); f; f = xml_next_elem(f)) {
		const char *var = xml_attr(f, "var");

		if (strcmp(f->ns, NS_DATA) != 0 ||
		    strcmp(f->name, "field") != 0 || var == NULL)
			continue;
		if (strcmp(var, "FORM_TYPE") == 0) {
			if (ft != NULL) {
				free(fields);
				return -1;
			}
			ft = f;
			continue;
		}
		fields = xrealloc(fields, (nf + 1) * sizeof(*fields));
		fields[nf].var = var;
		fields[nf].el = f;
		nf++;
	}
	if (ft == NULL || strcmp(attr_or_empty(ft, "type"), "hidden") != 0) {
		free(fields);
		return 0;
	}
	field_values(ft, &vals);
	if (vals.n == 0)
		rc = 0;
	for (size_t i = 1; i < vals.n; i++)
		if (strcmp(vals.v[i], vals.v[0]) != 0)
			rc = -1;
	if (rc <= 0) {
		strv_free(&vals);
		free(fields);
		return rc;
	}
	out->type = xstrdup(vals.v[0]);
	strv_free(&vals);
	buf_printf(&b, "%s<", out->type);
	if (nf > 1)
		qsort(fields, nf, sizeof(*fields), cmp_field);
	for (size_t i = 0; i < nf; i++) {
		buf_printf(&b, "%s<", fields[i].var);
		field_values(fields[i].el, &vals);
		if (vals.n > 1)
			qsort(vals.v, vals.n, sizeof(*vals.v), cmp_str);
		for (size_t j = 0; j < vals.n; j++)
			buf_printf(&b, "%s<", vals.v[j]);
		strv_free(&vals);
	}
	free(fields);
	out->text = buf_steal(&b);
	if (out->text == NULL)
		out->text = xstrdup("");
	return rc;
}

/*
 * Builds the string S of XEP-0115 5.1 from a disco#info <query/> and the
 * +notify set it declares.  Returns 0, or -1 when the answer is
 * ill-formed by 5.4 (then it can verify no hash, but the set still
 * describes the session that sent it).
 */
static int caps_string(const struct xml_node *q, struct buf *s,
    struct notify_set *set)
{
	struct ident *ids = NULL;
	const char **feats = NULL;
	struct form *forms = NULL;
	size_t ni = 0, nfeat = 0, nforms = 0, i;
	size_t sl = strlen(NOTIFY_SUFFIX);
	int ok = 0;

	for (struct xml_node *n = xml_first_elem(q); n; n = xml_next_elem(n)) {
		if (strcmp(n->ns, NS_DISCO_INFO) == 0 &&
		    strcmp(n->name, "identity") == 0) {
			ids = xrealloc(ids, (ni + 1) * sizeof(*ids));
			ids[ni].cat = attr_or_empty(n, "category");
			ids[ni].type = attr_or_empty(n, "type");
			ids[ni].lang = xml_attr_ns(n, XML_NS_XML, "lang");
			if (ids[ni].lang == NULL)
				ids[ni].lang = "";
			ids[ni].name = attr_or_empty(n, "name");
			ni++;
		} else if (strcmp(n->ns, NS_DISCO_INFO) == 0 &&
		    strcmp(n->name, "feature") == 0 &&
		    xml_attr(n, "var") != NULL) {
			const char *var = xml_attr(n, "var");
			size_t vl = strlen(var);

			feats = xrealloc(feats, (nfeat + 1) * sizeof(*feats));
			feats[nfeat++] = var;
			if (vl > sl &&
			    strcmp(var + vl - sl, NOTIFY_SUFFIX) == 0) {
				set->v = xrealloc(set->v,
				    (set->n + 1) * sizeof(*set->v));
				set->v[set->n++] = xstrndup(var, vl - sl);
			}
		} else if (strcmp(n->ns, NS_DATA) == 0 &&
		    strcmp(n->name, "x") == 0) {
			struct form f = { NULL, NULL };
			int rc = form_part(n, &f);

			if (rc < 0)
				ok = -1;
			if (rc > 0) {
				forms = xrealloc(forms,
				    (nforms + 1) * sizeof(*forms));
				forms[nforms++] = f;
			}
		}
	}
	set_normalise(set);
	if (ni > 1)
		qsort(ids, ni, sizeof(*ids), cmp_ident);
	for (i = 0; i < ni; i++) {
		if (i > 0 && cmp_ident(&ids[i - 1], &ids[i]) == 0)
			ok = -1;
		buf_printf(s, "%s/%s/%s/%s<", ids[i].cat, ids[i].type,
		    ids[i].lang, ids[i].name);
	}
	if (nfeat > 1)
		qsort(feats, nfeat, sizeof(*feats), cmp_str);
	for (i = 0; i < nfeat; i++) {
		if (i > 0 && strcmp(feats[i - 1], feats[i]) == 0)
			ok = -1;
		buf_printf(s, "%s<", feats[i]);
	}
	if (nforms > 1)
		qsort(forms, nforms, sizeof(*forms), cmp_form);
	for (i = 0; i < nforms; i++) {
		if (i > 0 && strcmp(forms[i - 1].type, forms[i].type) == 0)
			ok = -1;
		buf_puts(s, forms[i].text);
	}
	for (i = 0; i < nforms; i++) {
		free(forms[i].type);
		free(forms[i].text);
	}
	free(forms);
	free(feats);
	free(ids);
	return ok;
}

/* base64(SHA-1(s)) into out. */
static void sha1_b64(const struct buf *s, struct buf *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(s->data ? s->data : "", s->len, md, &mdlen,
	    EVP_sha1(), NULL) != 1)
		return;
	base64_encode(md, mdlen, out);
}

/* ---- per session ------------------------------------------------------ */

static struct im_caps *caps_of(struct session *s)
{
	if (s->caps == NULL)
		s->caps = xcalloc(1, sizeof(*s->caps));
	return s->caps;
}

static int same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int is_sha1(const char *hash)
{
	return hash != NULL && strcasecmp(hash, "sha-1") == 0;
}

/*
 * The session's set becomes next (taken over); the nodes it wants now
 * and did not before (every one when all is set) get their last items.
 */
static void set_replace(struct session *s, struct notify_set *next, int all)
{
	struct im_caps *c = s->caps;
	struct notify_set old = c->set, fresh = { NULL, 0 };

	c->set = *next;
	memset(next, 0, sizeof(*next));
	for (size_t i = 0; i < c->set.n; i++) {
		if (!all && set_has(&old, c->set.v[i]))
			continue;
		fresh.v = xrealloc(fresh.v, (fresh.n + 1) * sizeof(*fresh.v));
		fresh.v[fresh.n++] = c->set.v[i];	/* borrowed */
	}
	if (fresh.n > 0 && s->available)
		im_pep_send_last(s, fresh.v, fresh.n);
	free(fresh.v);
	set_free(&old);
}

static void send_query(struct session *s)
{
	struct im_caps *c = s->caps;
	struct xml_stanza *st = xml_stanza_new(NS_CLIENT, "iq");
	struct xml_node *root = xml_root(st), *q;
	struct buf nv = BUF_INIT;

	snprintf(c->qid, sizeof(c->qid), IM_CAPS_ID_PREFIX "%llu",
	    ++query_seq);
	xml_set_attr(st, root, "type", "get");
	xml_set_attr(st, root, "id", c->qid);
	xml_set_attr(st, root, "from", s->srv->cfg->domain);
	xml_set_attr(st, root, "to", s->full);
	q = xml_add_child(st, root, NS_DISCO_INFO, "query");
	buf_printf(&nv, "%s#%s", c->node, c->ver);
	xml_set_attr(st, q, "node", nv.data);
	session_send(s, root);
	buf_free(&nv);
	xml_stanza_free(st);
}

void im_caps_presence(struct session *s, int initial)
{
	struct xml_node *cel = s->presence == NULL ? NULL :
	    xml_child(xml_root(s->presence), NS_CAPS, "c");
	const char *node, *ver, *hash;
	const struct cache_entry *e;
	struct im_caps *c = caps_of(s);

	node = cel ? xml_attr(cel, "node") : NULL;
	ver = cel ? xml_attr(cel, "ver") : NULL;
	hash = cel ? xml_attr(cel, "hash") : NULL;
	if (node == NULL || ver == NULL || ver[0] == '\0' ||
	    (same_str(node, c->node) && same_str(ver, c->ver) &&
	    same_str(hash, c->hash))) {
		/* Nothing new about the client: an initial presence still
		 * gets the last items of what it wants (XEP-0163 4.3.3). */
		if (initial && c->qid[0] != '\0') {
			c->q_all = 1;
		} else if (initial && c->set.n > 0) {
			struct notify_set same;

			set_copy(&same, &c->set);
			set_replace(s, &same, 1);
		}
		return;
	}
	free(c->node);
	free(c->ver);
	free(c->hash);
	c->node = xstrdup(node);
	c->ver = xstrdup(ver);
	c->hash = hash ? xstrdup(hash) : NULL;
	if (is_sha1(hash) && (e = cache_get(ver)) != NULL) {
		struct notify_set next;

		c->qid[0] = '\0';
		set_copy(&next, &e->set);
		set_replace(s, &next, initial);
		return;
	}
	/* A query still out for an initial presence keeps its promise. */
	c->q_all = initial || (c->qid[0] != '\0' && c->q_all);
	send_query(s);
}

void im_caps_result(struct im_req *req)
{
	struct session *s = req->from;
	struct im_caps *c = s->caps;
	const char *id = xml_attr(req->stanza, "id");
	struct xml_node *q;
	struct notify_set next = { NULL, 0 };
	struct buf str = BUF_INIT, h = BUF_INIT;
	int all, wellformed;

	/* Only the answer to the one query out to this very session. */
	if (c == NULL || id == NULL || c->qid[0] == '\0' ||
	    strcmp(id, c->qid) != 0)
		return;
	c->qid[0] = '\0';
	all = c->q_all;
	c->q_all = 0;
	q = xml_child(req->stanza, NS_DISCO_INFO, "query");
	if (strcmp(req->type, "result") != 0 || q == NULL)
		return;	/* no answer: the session keeps what it had */
	wellformed = caps_string(q, &str, &next) == 0;
	if (wellformed && is_sha1(c->hash)) {
		sha1_b64(&str, &h);
		if (h.len > 0 && strcmp(h.data, c->ver) == 0)
			cache_put(c->ver, &next);
	}
	buf_free(&str);
	buf_free(&h);
	set_replace(s, &next, all);
}

int im_caps_wants(const struct session *s, const char *node)
{
	return s->caps != NULL && set_has(&s->caps->set, node);
}

void im_caps_free(struct session *s)
{
	struct im_caps *c = s->caps;

	if (c == NULL)
		return;
	free(c->node);
	free(c->ver);
	free(c->hash);
	set_free(&c->set);
	free(c);
	s->caps = NULL;
}
