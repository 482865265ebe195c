/* serialize.c - xml_serialize(); see xml.h. */
#include "xml/xml.h"

#include <string.h>

#include "core/buf.h"

/*
 * Beyond the five specials, CR is written as a character reference (a
 * parser would turn a raw CR into LF), and so are TAB and LF inside
 * attribute values (a parser would turn them into spaces).  That way what
 * a peer sent survives a serialize-and-parse round trip byte for byte.
 */
/* What each byte becomes: NULL to copy it as it is. */
static const char *const esc_text[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
	['\''] = "&apos;", ['\r'] = "&#xD;",
};
static const char *const esc_attr[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
	['\''] = "&apos;", ['\r'] = "&#xD;", ['\n'] = "&#xA;", ['\t'] = "&#x9;",
};

/* One pass: runs of ordinary bytes are copied whole. */
static void put_escaped(struct buf *out, const char *s, size_t n, int attr)
{
	const char *const *esc = attr ? esc_attr : esc_text;
	size_t i, start = 0;

	buf_reserve(out, n);
	for (i = 0; i < n; i++) {
		const char *rep = esc[(unsigned char)s[i]];

		if (rep == NULL)
			continue;
		buf_append(out, s + start, i - start);
		buf_puts(out, rep);
		start = i + 1;
	}
	buf_append(out, s + start, n - start);
}

static void put_attr_value(struct buf *out, const char *v)
{
	buf_append(out, "='", 2);
	put_escaped(out, v, strlen(v), 1);
	buf_putc(out, '\'');
}

static int same_ns(const char *a, const char *b)
{
	return a == b || strcmp(a, b) == 0;
}

/*
 * An attribute in a foreign namespace uses the prefix "a<i>", i being the
 * index of the first attribute of the element in that namespace; it is
 * declared on the element itself, so no scope bookkeeping is needed.
 */
static void put_attrs(struct buf *out, const struct xml_node *el)
{
	const struct xml_attr *a;
	unsigned i, j;

	for (i = 0; i < el->nattrs; i++) {
		a = &el->attrs[i];
		buf_putc(out, ' ');
		if (*a->ns == '\0') {
			buf_puts(out, a->name);
		} else if (strcmp(a->ns, XML_NS_XML) == 0) {
			buf_puts(out, "xml:");
			buf_puts(out, a->name);
		} else {
			for (j = 0; j < i; j++)
				if (same_ns(el->attrs[j].ns, a->ns))
					break;
			if (j == i) {
				buf_printf(out, "xmlns:a%u", i);
				put_attr_value(out, a->ns);
				buf_putc(out, ' ');
			}
			buf_printf(out, "a%u:", j);
			buf_puts(out, a->name);
		}
		put_attr_value(out, a->value);
	}
}

static int is_xml_ns(const char *ns)
{
	return strcmp(ns, XML_NS_XML) == 0;
}

/*
 * The xml prefix is bound for ever and XML_NS_XML may not become the
 * default namespace, so an element in it (well-formed, if odd) is written
 * as xml:name and leaves the default namespace as it was.
 */
static void put_name(struct buf *out, const struct xml_node *n)
{
	if (is_xml_ns(n->ns))
		buf_puts(out, "xml:");
	buf_puts(out, n->name);
}

/* The default namespace in scope where n is written. */
static const char *scope_of(const struct xml_node *n,
    const struct xml_node *el, const char *parent_ns)
{
	while (n != el) {
		n = n->parent;
		if (!is_xml_ns(n->ns))
			return n->ns;
	}
	return parent_ns;
}

/*
 * Iterative (parent pointers instead of recursion) so that a deep tree
 * built by code cannot exhaust the stack.  Every element is written with
 * its namespace as the default one, so the namespace in scope for an
 * element is its parent's (see put_name() for the one exception).
 */
void xml_serialize(const struct xml_node *el, const char *parent_ns,
    struct buf *out)
{
	const struct xml_node *n = el;

	if (parent_ns == NULL)
		parent_ns = "";
	for (;;) {
		if (n->type == XML_TEXT) {
			put_escaped(out, n->text, n->len, 0);
		} else {
			buf_putc(out, '<');
			put_name(out, n);
			if (!is_xml_ns(n->ns) &&
			    !same_ns(n->ns, scope_of(n, el, parent_ns))) {
				buf_puts(out, " xmlns");
				put_attr_value(out, n->ns);
			}
			put_attrs(out, n);
			if (n->children != NULL) {
				buf_putc(out, '>');
				n = n->children;
				continue;
			}
			buf_append(out, "/>", 2);
		}
		while (n != el && n->next == NULL) {
			n = n->parent;
			buf_append(out, "</", 2);
			put_name(out, n);
			buf_putc(out, '>');
		}
		if (n == el)
			break;
		n = n->next;
	}
}
