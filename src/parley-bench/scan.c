/*
 * scan.c - splits an XMPP stream into top-level elements, and reads tags.
 *
 * The generator reads a server it trusts to speak well-formed XML, and it
 * must cost much less per stanza than the server does, so it does not
 * build trees: it finds where each top-level element ends by counting
 * start and end tags (respecting quoted attribute values, comments, CDATA
 * and the XML declaration), and scenarios then look only at the few tags
 * and attributes they need.  Entities are left escaped; nothing the
 * generator compares contains them.
 */
#include <string.h>

#include "parley-bench/bench.h"

/* Finds the '>' that ends the tag starting at p ('<'), skipping quoted
 * attribute values; NULL if the tag is not complete yet. */
static const char *tag_end(const char *p, const char *end)
{
	char q = 0;

	for (p++; p < end; p++) {
		char c = *p;

		if (q) {
			if (c == q)
				q = 0;
		} else if (c == '"' || c == '\'') {
			q = c;
		} else if (c == '>') {
			return p;
		}
	}
	return NULL;
}

/* Finds the terminator pat (e.g. "-->") at or after p; NULL if absent. */
static const char *find_str(const char *p, const char *end, const char *pat)
{
	size_t n = strlen(pat);

	while ((size_t)(end - p) >= n) {
		const char *c = memchr(p, pat[0], (size_t)(end - p) - n + 1);

		if (c == NULL)
			return NULL;
		if (memcmp(c, pat, n) == 0)
			return c + n;
		p = c + 1;
	}
	return NULL;
}

/* Local name of the tag whose name starts at p: sets the name span. */
static void tag_name(const char *p, const char *gt, const char **name,
	    size_t *nlen, const char **prefix, size_t *plen)
{
	const char *s = p, *colon = NULL;

	while (p < gt && *p != ' ' && *p != '\t' && *p != '\r' &&
	    *p != '\n' && *p != '/' && *p != '>') {
		if (*p == ':' && colon == NULL)
			colon = p;
		p++;
	}
	if (colon != NULL) {
		*prefix = s;
		*plen = (size_t)(colon - s);
		*name = colon + 1;
		*nlen = (size_t)(p - colon - 1);
	} else {
		*prefix = "";
		*plen = 0;
		*name = s;
		*nlen = (size_t)(p - s);
	}
}

size_t scan_units(const char *data, size_t len, scan_cb cb, void *ud,
	    int *stopped)
{
	const char *end = data + len, *p = data, *start = NULL;
	size_t used = 0;
	int depth = 0;

	*stopped = 0;
	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt;

		if (lt == NULL) {
			/* Only text left: at stream level it is whitespace
			 * (keepalives) and is dropped; inside an element we
			 * need the rest of it. */
			if (depth == 0)
				used = len;
			break;
		}
		if (end - lt < 2)
			break;
		if (lt[1] == '?' || lt[1] == '!') {
			const char *e;

			if (lt[1] == '?')
				e = find_str(lt, end, "?>");
			else if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0)
				e = find_str(lt, end, "-->");
			else if (end - lt >= 9 &&
			    memcmp(lt, "<![CDATA[", 9) == 0)
				e = find_str(lt, end, "]]>");
			else if (end - lt < 9)
				break;	/* cannot tell yet */
			else
				e = (gt = tag_end(lt, end)) ? gt + 1 : NULL;
			if (e == NULL)
				break;
			p = e;
			if (depth == 0)
				used = (size_t)(p - data);
			continue;
		}
		if ((gt = tag_end(lt, end)) == NULL)
			break;
		p = gt + 1;
		if (lt[1] == '/') {
			if (depth == 0) {
				/* An end tag at stream level closes the
				 * stream itself. */
				used = (size_t)(p - data);
				if (cb(ud, SCAN_END, lt, (size_t)(p - lt))) {
					*stopped = 1;
					break;
				}
				continue;
			}
			if (--depth == 0) {
				used = (size_t)(p - data);
				if (cb(ud, SCAN_ELEMENT, start,
				    (size_t)(p - start))) {
					*stopped = 1;
					break;
				}
			}
			continue;
		}
		if (depth == 0) {
			const char *nm, *pf;
			size_t nl, pl;

			tag_name(lt + 1, gt, &nm, &nl, &pf, &pl);
			if (nl == 6 && memcmp(nm, "stream", 6) == 0) {
				/* The header opens the stream and is never
				 * closed by a matching tag in this unit. */
				used = (size_t)(p - data);
				if (cb(ud, SCAN_HEADER, lt, (size_t)(p - lt))) {
					*stopped = 1;
					break;
				}
				continue;
			}
			start = lt;
		}
		if (gt[-1] == '/') {
			if (depth == 0) {
				used = (size_t)(p - data);
				if (cb(ud, SCAN_ELEMENT, lt, (size_t)(p - lt))) {
					*stopped = 1;
					break;
				}
			}
			continue;
		}
		depth++;
	}
	return used;
}

int xtag_next(const char **pp, const char *end, struct xtag *t)
{
	const char *p = *pp;

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p)), *gt, *s;

		if (lt == NULL || end - lt < 2)
			break;
		if (lt[1] == '?' || lt[1] == '!') {
			const char *e = lt[1] == '?' ? find_str(lt, end, "?>") :
			    (end - lt >= 9 && memcmp(lt, "<![CDATA[", 9) == 0) ?
			    find_str(lt, end, "]]>") :
			    (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) ?
			    find_str(lt, end, "-->") : NULL;

			if (e == NULL)
				break;
			p = e;
			continue;
		}
		if ((gt = tag_end(lt, end)) == NULL)
			break;
		t->start = lt;
		s = lt + 1;
		if (*s == '/') {
			t->kind = TAG_CLOSE;
			s++;
		} else {
			t->kind = gt[-1] == '/' ? TAG_EMPTY : TAG_OPEN;
		}
		tag_name(s, gt, &t->name, &t->name_len, &t->prefix,
		    &t->prefix_len);
		t->attrs = t->name + t->name_len;
		t->attrs_len = (size_t)(gt - t->attrs);
		if (t->kind == TAG_EMPTY)
			t->attrs_len--;
		t->end = gt + 1;
		*pp = gt + 1;
		return 1;
	}
	*pp = end;
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int xtag_attr(const struct xtag *t, const char *name, const char **v,
	    size_t *vlen)
{
	const char *p = t->attrs, *end = t->attrs + t->attrs_len;
	size_t n = strlen(name);

	while (p < end) {
		const char *ns, *ne;
		char q;

		while (p < end && is_space(*p))
			p++;
		ns = p;
		while (p < end && *p != '=' && !is_space(*p))
			p++;
		ne = p;
		while (p < end && is_space(*p))
			p++;
		if (p >= end || *p != '=')
			return 0;
		p++;
		while (p < end && is_space(*p))
			p++;
		if (p >= end || (*p != '"' && *p != '\''))
			return 0;
		q = *p++;
		{
			const char *vs = p;

			while (p < end && *p != q)
				p++;
			if (p >= end)
				return 0;
			if ((size_t)(ne - ns) == n && memcmp(ns, name, n) == 0) {
				*v = vs;
				*vlen = (size_t)(p - vs);
				return 1;
			}
		}
		p++;
	}
	return 0;
}

int xtag_is(const struct xtag *t, const char *name)
{
	size_t n = strlen(name);

	return t->name_len == n && memcmp(t->name, name, n) == 0;
}

int xtag_attr_is(const struct xtag *t, const char *name, const char *val)
{
	const char *v;
	size_t vl;

	return xtag_attr(t, name, &v, &vl) && vl == strlen(val) &&
	    memcmp(v, val, vl) == 0;
}

int el_find(const char *p, size_t n, const char *name, struct xtag *t,
	    const char **text, size_t *text_len)
{
	const char *cur = p, *end = p + n;
	struct xtag root;

	if (!xtag_next(&cur, end, &root) || root.kind != TAG_OPEN)
		return 0;
	while (xtag_next(&cur, end, t)) {
		struct xtag x;
		const char *tstart;
		int depth = 1;

		if (t->kind == TAG_CLOSE || !xtag_is(t, name))
			continue;
		*text = t->end;
		*text_len = 0;
		if (t->kind == TAG_EMPTY)
			return 1;
		/* Up to the matching end tag (children included). */
		tstart = t->end;
		for (;;) {
			if (!xtag_next(&cur, end, &x))
				return 0;
			if (x.kind == TAG_OPEN)
				depth++;
			else if (x.kind == TAG_CLOSE && --depth == 0) {
				*text_len = (size_t)(x.start - tstart);
				return 1;
			}
		}
	}
	return 0;
}
