/* tree.c - the per-stanza arena and tree functions; see xml.h, xml_int.h. */
#include "xml/xml.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "xml/xml_int.h"

/* Small stanzas (a message with a body) fit in the first block. */
#define ARENA_FIRST	1024
#define ARENA_MIN	256
#define ARENA_MAX_BUMP	(64 * 1024)
/* Cap on a size hint: beyond it the arena simply grows block by block. */
#define ARENA_MAX_HINT	(16 * 1024 * 1024)

#define ALIGN_UP(n, a)	(((n) + ((a) - 1)) & ~((size_t)(a) - 1))
#define MAXALIGN	alignof(max_align_t)
#define ST_HDR		ALIGN_UP(sizeof(struct xml_stanza), MAXALIGN)
#define BLK_HDR		ALIGN_UP(sizeof(struct xml_block), MAXALIGN)

static char *block_data(struct xml_block *b)
{
	return (char *)b + BLK_HDR;
}

static struct xml_block *first_block(struct xml_stanza *st)
{
	return (struct xml_block *)((char *)st + ST_HDR);
}

static struct xml_block *block_new(size_t size)
{
	struct xml_block *b;

	if (size > SIZE_MAX - BLK_HDR)
		abort();
	b = xmalloc(BLK_HDR + size);
	b->next = NULL;
	b->size = size;
	return b;
}

struct xml_stanza *xml_arena_new(size_t hint)
{
	struct xml_stanza *st;
	struct xml_block *b;
	size_t size;

	if (hint < ARENA_MIN)
		hint = ARENA_MIN;
	if (hint > ARENA_MAX_HINT)
		hint = ARENA_MAX_HINT;
	size = ALIGN_UP(hint, MAXALIGN);
	st = xmalloc(ST_HDR + BLK_HDR + size);
	b = first_block(st);
	b->next = NULL;
	b->size = size;
	st->root = NULL;
	st->blocks = b;
	st->cur = block_data(b);
	st->left = size;
	st->used = 0;
	st->next_size = size * 2 < ARENA_MAX_BUMP ? size * 2 : ARENA_MAX_BUMP;
	if (st->next_size < ARENA_FIRST)
		st->next_size = ARENA_FIRST;
	return st;
}

void *xml_arena_alloc(struct xml_stanza *st, size_t n, size_t align)
{
	struct xml_block *b;
	size_t pad;
	char *p;

	pad = (size_t)(-(uintptr_t)st->cur) & (align - 1);
	if (n <= st->left && pad <= st->left - n) {
		p = st->cur + pad;
		st->cur = p + n;
		st->left -= pad + n;
		st->used += n;
		return p;
	}
	st->used += n;
	if (n > st->next_size / 4) {
		/*
		 * Behind the head, so that the bump block keeps serving the
		 * small requests that follow.
		 */
		b = block_new(n);
		b->next = st->blocks->next;
		st->blocks->next = b;
		return block_data(b);
	}
	b = block_new(st->next_size);
	b->next = st->blocks;
	st->blocks = b;
	if (st->next_size < ARENA_MAX_BUMP)
		st->next_size *= 2;
	p = block_data(b);
	st->cur = p + n;
	st->left = b->size - n;
	return p;
}

char *xml_arena_strndup(struct xml_stanza *st, const char *s, size_t n)
{
	char *p;

	if (n == SIZE_MAX)
		abort();
	p = xml_arena_alloc(st, n + 1, 1);
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *xml_strdup(struct xml_stanza *st, const char *s)
{
	return xml_arena_strndup(st, s, strlen(s));
}

/*
 * The two namespaces nearly every attribute has are static strings, so
 * that attributes cost no copy of them.
 */
static const char *attr_ns_dup(struct xml_stanza *st, const char *ns)
{
	if (ns == NULL || *ns == '\0')
		return "";
	if (strcmp(ns, XML_NS_XML) == 0)
		return XML_NS_XML;
	return xml_strdup(st, ns);
}

/* Children usually share the parent's namespace: share its string too. */
static const char *elem_ns_dup(struct xml_stanza *st,
    const struct xml_node *parent, const char *ns)
{
	if (ns == NULL || *ns == '\0')
		return "";
	if (parent != NULL && strcmp(parent->ns, ns) == 0)
		return parent->ns;
	return xml_strdup(st, ns);
}

struct xml_node *xml_node_new_elem(struct xml_stanza *st, const char *ns,
    const char *name)
{
	struct xml_node *n;

	n = xml_arena_alloc(st, sizeof(*n), alignof(struct xml_node));
	memset(n, 0, sizeof(*n));
	n->type = XML_ELEM;
	n->ns = ns;
	n->name = name;
	return n;
}

void xml_node_append(struct xml_node *parent, struct xml_node *child)
{
	child->parent = parent;
	child->next = NULL;
	if (parent->last != NULL)
		parent->last->next = child;
	else
		parent->children = child;
	parent->last = child;
}

struct xml_stanza *xml_stanza_new(const char *ns, const char *name)
{
	struct xml_stanza *st;

	st = xml_arena_new(ARENA_FIRST - ST_HDR - BLK_HDR);
	st->root = xml_node_new_elem(st, elem_ns_dup(st, NULL, ns),
	    xml_strdup(st, name));
	return st;
}

void xml_stanza_free(struct xml_stanza *st)
{
	struct xml_block *b, *next, *embedded;

	if (st == NULL)
		return;
	embedded = first_block(st);
	for (b = st->blocks; b != NULL; b = next) {
		next = b->next;
		if (b != embedded)
			free(b);
	}
	free(st);
}

struct xml_node *xml_root(const struct xml_stanza *st)
{
	return st->root;
}

/* Copies one node (not its children); parent is the future parent. */
static struct xml_node *copy_one(struct xml_stanza *st,
    const struct xml_node *parent, const struct xml_node *src)
{
	struct xml_node *n;
	unsigned i;

	if (src->type == XML_TEXT) {
		n = xml_arena_alloc(st, sizeof(*n), alignof(struct xml_node));
		memset(n, 0, sizeof(*n));
		n->type = XML_TEXT;
		n->text = xml_arena_strndup(st, src->text, src->len);
		n->len = src->len;
		return n;
	}
	n = xml_node_new_elem(st, elem_ns_dup(st, parent, src->ns),
	    xml_strdup(st, src->name));
	if (src->nattrs == 0)
		return n;
	n->attrs = xml_arena_alloc(st, src->nattrs * sizeof(*n->attrs),
	    alignof(struct xml_attr));
	n->nattrs = n->attrs_cap = src->nattrs;
	for (i = 0; i < src->nattrs; i++) {
		n->attrs[i].ns = attr_ns_dup(st, src->attrs[i].ns);
		n->attrs[i].name = xml_strdup(st, src->attrs[i].name);
		n->attrs[i].value = xml_strdup(st, src->attrs[i].value);
	}
	return n;
}

/*
 * Walks src with its parent pointers rather than recursing, so that a deep
 * tree built by code (not bounded by the parser's depth limit) cannot
 * exhaust the stack.
 */
static struct xml_node *copy_tree(struct xml_stanza *st,
    struct xml_node *parent, const struct xml_node *src)
{
	struct xml_node *top, *dp, *c;
	const struct xml_node *s;

	top = copy_one(st, parent, src);
	if (parent != NULL)
		xml_node_append(parent, top);
	if (src->type != XML_ELEM)
		return top;
	dp = top;
	s = src->children;
	while (s != NULL) {
		c = copy_one(st, dp, s);
		xml_node_append(dp, c);
		if (s->type == XML_ELEM && s->children != NULL) {
			dp = c;
			s = s->children;
			continue;
		}
		while (s->next == NULL) {
			s = s->parent;
			if (s == src)
				return top;
			dp = dp->parent;
		}
		s = s->next;
	}
	return top;
}

struct xml_stanza *xml_stanza_copy(const struct xml_stanza *st)
{
	struct xml_stanza *cp;

	/* One block for the whole copy in the usual case. */
	cp = xml_arena_new(st->used + st->used / 8 + 64);
	cp->root = copy_tree(cp, NULL, st->root);
	return cp;
}

struct xml_node *xml_add_child(struct xml_stanza *st, struct xml_node *parent,
    const char *ns, const char *name)
{
	struct xml_node *n;

	n = xml_node_new_elem(st, ns == NULL ? parent->ns :
	    elem_ns_dup(st, parent, ns), xml_strdup(st, name));
	xml_node_append(parent, n);
	return n;
}

void xml_add_text(struct xml_stanza *st, struct xml_node *parent,
    const char *text, size_t len)
{
	struct xml_node *n;

	if (len == 0)
		return;
	n = xml_arena_alloc(st, sizeof(*n), alignof(struct xml_node));
	memset(n, 0, sizeof(*n));
	n->type = XML_TEXT;
	n->text = xml_arena_strndup(st, text, len);
	n->len = len;
	xml_node_append(parent, n);
}

void xml_set_attr_ns(struct xml_stanza *st, struct xml_node *el,
    const char *ns, const char *name, const char *value)
{
	struct xml_attr *na;
	unsigned i, cap;

	if (ns == NULL)
		ns = "";
	for (i = 0; i < el->nattrs; i++) {
		if (strcmp(el->attrs[i].name, name) != 0 ||
		    strcmp(el->attrs[i].ns, ns) != 0)
			continue;
		if (value != NULL) {
			el->attrs[i].value = xml_strdup(st, value);
			return;
		}
		memmove(&el->attrs[i], &el->attrs[i + 1],
		    (el->nattrs - i - 1) * sizeof(*el->attrs));
		el->nattrs--;
		return;
	}
	if (value == NULL)
		return;
	if (el->nattrs == el->attrs_cap) {
		/* The old array stays in the arena; doubling bounds the waste. */
		cap = el->attrs_cap ? el->attrs_cap * 2 : 4;
		na = xml_arena_alloc(st, cap * sizeof(*na),
		    alignof(struct xml_attr));
		if (el->nattrs)
			memcpy(na, el->attrs, el->nattrs * sizeof(*na));
		el->attrs = na;
		el->attrs_cap = cap;
	}
	el->attrs[el->nattrs].ns = attr_ns_dup(st, ns);
	el->attrs[el->nattrs].name = xml_strdup(st, name);
	el->attrs[el->nattrs].value = xml_strdup(st, value);
	el->nattrs++;
}

void xml_set_attr(struct xml_stanza *st, struct xml_node *el,
    const char *name, const char *value)
{
	xml_set_attr_ns(st, el, "", name, value);
}

struct xml_node *xml_add_copy(struct xml_stanza *st, struct xml_node *parent,
    const struct xml_node *src)
{
	return copy_tree(st, parent, src);
}

void xml_remove(struct xml_node *child)
{
	struct xml_node *parent = child->parent, *prev = NULL, *n;

	if (parent == NULL)
		return;
	for (n = parent->children; n != NULL && n != child; n = n->next)
		prev = n;
	if (n == NULL)
		return;
	if (prev != NULL)
		prev->next = child->next;
	else
		parent->children = child->next;
	if (parent->last == child)
		parent->last = prev;
	child->parent = NULL;
	child->next = NULL;
}

const char *xml_attr_ns(const struct xml_node *el, const char *ns,
    const char *name)
{
	unsigned i;

	if (el == NULL)
		return NULL;
	if (ns == NULL)
		ns = "";
	for (i = 0; i < el->nattrs; i++)
		if (strcmp(el->attrs[i].name, name) == 0 &&
		    strcmp(el->attrs[i].ns, ns) == 0)
			return el->attrs[i].value;
	return NULL;
}

const char *xml_attr(const struct xml_node *el, const char *name)
{
	return xml_attr_ns(el, "", name);
}

struct xml_node *xml_child(const struct xml_node *el, const char *ns,
    const char *name)
{
	struct xml_node *n;

	for (n = xml_first_elem(el); n != NULL; n = xml_next_elem(n))
		if ((ns == NULL || strcmp(n->ns, ns) == 0) &&
		    (name == NULL || strcmp(n->name, name) == 0))
			return n;
	return NULL;
}

struct xml_node *xml_first_elem(const struct xml_node *el)
{
	struct xml_node *n;

	if (el == NULL || el->type != XML_ELEM)
		return NULL;
	for (n = el->children; n != NULL; n = n->next)
		if (n->type == XML_ELEM)
			return n;
	return NULL;
}

struct xml_node *xml_next_elem(const struct xml_node *n)
{
	if (n == NULL)
		return NULL;
	for (n = n->next; n != NULL; n = n->next)
		if (n->type == XML_ELEM)
			return (struct xml_node *)n;
	return NULL;
}

unsigned xml_count_elems(const struct xml_node *el)
{
	struct xml_node *n;
	unsigned count = 0;

	for (n = xml_first_elem(el); n != NULL; n = xml_next_elem(n))
		count++;
	return count;
}

void xml_text(const struct xml_node *el, struct buf *out)
{
	const struct xml_node *n;

	if (el == NULL || el->type != XML_ELEM)
		return;
	for (n = el->children; n != NULL; n = n->next)
		if (n->type == XML_TEXT)
			buf_append(out, n->text, n->len);
}
