/*
 * stream.c - the bounded XMPP stream parser on expat; see xml.h.
 *
 * Positions: fed, mark and every byte index below are absolute offsets
 * from the start of the current stream document (they restart at 0 on
 * xml_stream_reset(), as expat's own byte index does).  mark is the end of
 * the last completed top-level item: the header start tag, a stanza, a run
 * of whitespace between stanzas, or </stream:stream>.  Everything between
 * mark and fed is a partial item, held either by expat (an unfinished tag
 * or token) or by us (a stanza under construction, pending text), so
 * bounding fed - mark bounds all per-stream memory.
 *
 * Expat may still deliver an event after XML_StopParser() (the end tag of
 * an empty element), so every handler first checks failed and suspended.
 */
#include "xml/xml.h"

#include <expat.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "xml/xml_int.h"

/*
 * Bytes handed to expat per XML_Parse() call: the size checks run between
 * calls, so this bounds how far a peer can overshoot a limit before being
 * stopped.
 */
#define FEED_CHUNK	4096

/* UTF-8 never contains this byte, so it cannot collide with a name. */
#define NS_SEP		'\xFF'

/* Stanza text buffers above this size are released after the stanza. */
#define TEXT_KEEP	(16 * 1024)

/* Stanza arenas start with this many bytes (one malloc for most). */
#define STANZA_HINT	960

struct xml_stream {
	XML_Parser		 p;
	struct xml_limits	 lim;
	struct xml_stream_cb	 cb;
	void			*ud;

	unsigned		 level;		/* open elements, header = 1 */
	int			 header_done;	/* header start tag seen */
	int			 failed;	/* error callback called */
	int			 suspend_req;	/* xml_stream_suspend() called */
	int			 suspended;	/* expat stopped, resumable */
	size_t			 fed;		/* bytes given to expat */
	size_t			 mark;		/* end of last complete item */
	size_t			 susp_end;	/* end of suspending element */
	size_t			 last_size;	/* bytes of the last stanza */

	struct xml_stanza	*st;		/* stanza being built, or NULL */
	struct xml_node		*cur;		/* its innermost open element */
	struct buf		 text;		/* character data not yet a node */
	struct buf		 default_ns;	/* declared on the header */

	/*
	 * Hibernation: an idle stream frees its expat parser (most of a
	 * session's idle memory) and, when bytes come again, a new parser
	 * is brought to the same place by replaying a start tag with the
	 * header's namespace declarations.  p is NULL while hibernating;
	 * expat's byte indices then count from the replayed tag, so pbase
	 * maps them back onto the stream's own positions.
	 */
	struct buf		 decls;		/* header's xmlns attributes */
	struct buf		 stream_pfx;	/* a prefix bound to the streams ns */
	struct buf		 replay;	/* start tag to replay */
	long long		 pbase;		/* stream position of expat's 0 */
	int			 replaying;	/* no callbacks, no accounting */
};

static void drop_partial(struct xml_stream *xs)
{
	xml_stanza_free(xs->st);
	xs->st = NULL;
	xs->cur = NULL;
	buf_free(&xs->text);
}

static void fail(struct xml_stream *xs, enum xml_error err, const char *text)
{
	if (xs->failed)
		return;
	xs->failed = 1;
	XML_StopParser(xs->p, XML_FALSE);
	drop_partial(xs);
	xs->cb.error(xs->ud, err, text);
}

/* Absolute end offset of the event expat is reporting. */
static size_t event_end(const struct xml_stream *xs)
{
	XML_Index idx = XML_GetCurrentByteIndex(xs->p);
	int count = XML_GetCurrentByteCount(xs->p);

	if (idx < 0)
		return xs->fed;
	return (size_t)(xs->pbase + idx) + (size_t)(count > 0 ? count : 0);
}

static int stopped(const struct xml_stream *xs)
{
	return xs->failed || xs->suspended;
}

/* Called after every callback into the layer above. */
static void maybe_suspend(struct xml_stream *xs, size_t end)
{
	if (!xs->suspend_req || xs->failed)
		return;
	xs->suspended = 1;
	xs->susp_end = end;
	XML_StopParser(xs->p, XML_TRUE);
}

/*
 * Splits expat's "uri<sep>local" (or plain "local").  A second separator
 * cannot come from valid UTF-8, but a name must never be mis-split.
 */
static int split_name(struct xml_stream *xs, const char *raw,
    const char **ns, size_t *nslen, const char **local)
{
	const char *sep = strchr(raw, NS_SEP);

	if (sep == NULL) {
		*ns = "";
		*nslen = 0;
		*local = raw;
		return 0;
	}
	if (strchr(sep + 1, NS_SEP) != NULL) {
		fail(xs, XML_ERR_NOT_WELL_FORMED,
		    "name contains the namespace separator");
		return -1;
	}
	*ns = raw;
	*nslen = (size_t)(sep - raw);
	*local = sep + 1;
	return 0;
}

static const char *elem_ns(struct xml_stanza *st, const struct xml_node *parent,
    const char *ns, size_t nslen)
{
	if (nslen == 0)
		return "";
	if (parent != NULL && strncmp(parent->ns, ns, nslen) == 0 &&
	    parent->ns[nslen] == '\0')
		return parent->ns;
	return xml_arena_strndup(st, ns, nslen);
}

static const char *attr_ns(struct xml_stanza *st, const char *ns, size_t nslen)
{
	if (nslen == 0)
		return "";
	if (nslen == sizeof(XML_NS_XML) - 1 && memcmp(ns, XML_NS_XML, nslen) == 0)
		return XML_NS_XML;
	return xml_arena_strndup(st, ns, nslen);
}

/* Builds one element (not linked) with its attributes in st. */
static struct xml_node *build_elem(struct xml_stream *xs,
    struct xml_stanza *st, const struct xml_node *parent, const char *name,
    const char **atts, unsigned natts)
{
	struct xml_node *el;
	const char *ns, *local;
	size_t nslen;
	unsigned i;

	if (split_name(xs, name, &ns, &nslen, &local) < 0)
		return NULL;
	el = xml_node_new_elem(st, elem_ns(st, parent, ns, nslen),
	    xml_arena_strndup(st, local, strlen(local)));
	if (natts == 0)
		return el;
	el->attrs = xml_arena_alloc(st, natts * sizeof(*el->attrs),
	    alignof(struct xml_attr));
	el->attrs_cap = natts;
	/* Expat has already refused duplicate attributes. */
	for (i = 0; i < natts; i++) {
		if (split_name(xs, atts[2 * i], &ns, &nslen, &local) < 0)
			return NULL;
		el->attrs[i].ns = attr_ns(st, ns, nslen);
		el->attrs[i].name = xml_arena_strndup(st, local, strlen(local));
		el->attrs[i].value = xml_arena_strndup(st, atts[2 * i + 1],
		    strlen(atts[2 * i + 1]));
		el->nattrs++;
	}
	return el;
}

/* Turns pending character data into one text node of the open element. */
static void flush_text(struct xml_stream *xs)
{
	if (xs->text.len == 0 || xs->cur == NULL)
		return;
	xml_add_text(xs->st, xs->cur, xs->text.data, xs->text.len);
	buf_reset(&xs->text);
}

static void open_header(struct xml_stream *xs, const char *name,
    const char **atts, unsigned natts)
{
	struct xml_stanza *hdr;
	struct xml_node *root;
	size_t end;

	if (xs->replaying) {
		/* Waking from hibernation: the stream is open already. */
		xs->level = 1;
		return;
	}
	end = event_end(xs);
	if (end > xs->lim.header_max) {
		fail(xs, XML_ERR_POLICY, "stream header too large");
		return;
	}
	hdr = xml_arena_new(STANZA_HINT);
	root = build_elem(xs, hdr, NULL, name, atts, natts);
	if (root == NULL) {
		xml_stanza_free(hdr);
		return;
	}
	hdr->root = root;
	if (strcmp(root->ns, XML_NS_STREAM) != 0 ||
	    strcmp(root->name, "stream") != 0) {
		xml_stanza_free(hdr);
		fail(xs, XML_ERR_INVALID_NS,
		    "stream header not in the streams namespace");
		return;
	}
	xs->level = 1;
	xs->header_done = 1;
	xs->mark = end;
	buf_reset(&xs->replay);
	if (xs->stream_pfx.len > 0)
		buf_printf(&xs->replay, "<%s:stream", xs->stream_pfx.data);
	else
		buf_puts(&xs->replay, "<stream");
	buf_append(&xs->replay, xs->decls.data, xs->decls.len);
	buf_putc(&xs->replay, '>');
	xs->cb.stream_open(xs->ud, root, buf_str(&xs->default_ns));
	xml_stanza_free(hdr);
	maybe_suspend(xs, end);
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
    const XML_Char **atts)
{
	struct xml_stream *xs = ud;
	struct xml_node *el;
	unsigned natts = 0;

	if (stopped(xs))
		return;
	while (atts[2 * natts] != NULL)
		natts++;
	if (natts > xs->lim.attrs_max) {
		fail(xs, XML_ERR_POLICY, "too many attributes");
		return;
	}
	if (xs->level == 0) {
		open_header(xs, name, atts, natts);
		return;
	}
	/* level is now the new element's depth inside its stanza. */
	if (xs->level > xs->lim.depth_max) {
		fail(xs, XML_ERR_POLICY, "too deeply nested");
		return;
	}
	flush_text(xs);
	if (xs->level == 1) {
		xs->st = xml_arena_new(STANZA_HINT);
		el = build_elem(xs, xs->st, NULL, name, atts, natts);
		if (el == NULL)
			return;
		xs->st->root = el;
	} else {
		el = build_elem(xs, xs->st, xs->cur, name, atts, natts);
		if (el == NULL)
			return;
		xml_node_append(xs->cur, el);
	}
	xs->cur = el;
	xs->level++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xml_stream *xs = ud;
	struct xml_stanza *st;
	size_t end;

	if (stopped(xs) || xs->level == 0)
		return;
	end = event_end(xs);
	if (xs->level == 1) {
		xs->level = 0;
		xs->mark = end;
		xs->cb.stream_close(xs->ud);
		maybe_suspend(xs, end);
		return;
	}
	flush_text(xs);
	xs->level--;
	if (xs->level > 1) {
		xs->cur = xs->cur->parent;
		return;
	}
	/* A stanza that arrived in one chunk is only measurable here. */
	if (end - xs->mark > xs->lim.stanza_max) {
		fail(xs, XML_ERR_POLICY, "stanza too large");
		return;
	}
	st = xs->st;
	xs->st = NULL;
	xs->cur = NULL;
	xs->last_size = end - xs->mark;
	xs->mark = end;
	if (xs->text.cap > TEXT_KEEP)
		buf_free(&xs->text);
	xs->cb.stanza(xs->ud, st);
	maybe_suspend(xs, end);
}

static int all_space(const char *s, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

/*
 * Expat hands character data over in pieces (at buffer ends, around
 * references); collecting them in one buffer and flushing at the next tag
 * makes one text node per run, in linear time.
 */
static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_stream *xs = ud;

	if (stopped(xs) || len <= 0)
		return;
	if (xs->level >= 2) {
		buf_append(&xs->text, s, (size_t)len);
		return;
	}
	if (xs->level == 1) {
		if (!all_space(s, len)) {
			fail(xs, XML_ERR_BAD_FORMAT, "text at stream level");
			return;
		}
		/* Keepalives: a complete item of their own. */
		xs->mark = event_end(xs);
	}
}

static void XMLCALL on_ns_start(void *ud, const XML_Char *prefix,
    const XML_Char *uri)
{
	struct xml_stream *xs = ud;

	if (stopped(xs) || xs->header_done)
		return;
	/* Everything the header declares stays in scope for the whole
	 * stream, so a woken parser needs it too. */
	if (uri != NULL && uri[0] != '\0') {
		buf_puts(&xs->decls, prefix ? " xmlns:" : " xmlns");
		if (prefix != NULL)
			buf_puts(&xs->decls, prefix);
		buf_puts(&xs->decls, "='");
		buf_put_xml_escaped(&xs->decls, uri, strlen(uri));
		buf_putc(&xs->decls, '\'');
		/* (Should a header bind the streams namespace to two
		 * prefixes, the last one is replayed; a close tag with
		 * the other would then not match.) */
		if (prefix != NULL && strcmp(uri, XML_NS_STREAM) == 0) {
			buf_reset(&xs->stream_pfx);
			buf_puts(&xs->stream_pfx, prefix);
		}
	}
	if (prefix != NULL)
		return;
	buf_reset(&xs->default_ns);
	if (uri != NULL)
		buf_puts(&xs->default_ns, uri);
}

/* ---- RFC 6120 section 11: what a stream may not contain ------------------ */

static void restricted(void *ud, const char *what)
{
	struct xml_stream *xs = ud;

	fail(xs, XML_ERR_RESTRICTED, what);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
    const XML_Char *sysid, const XML_Char *pubid, int has_internal_subset)
{
	restricted(ud, "DOCTYPE not allowed");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name,
    int is_param, const XML_Char *value, int value_len, const XML_Char *base,
    const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	restricted(ud, "entity declaration not allowed");
}

static void XMLCALL on_unparsed_entity_decl(void *ud, const XML_Char *name,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid,
    const XML_Char *notation)
{
	restricted(ud, "unparsed entity declaration not allowed");
}

static void XMLCALL on_notation_decl(void *ud, const XML_Char *name,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid)
{
	restricted(ud, "notation declaration not allowed");
}

static void XMLCALL on_element_decl(void *ud, const XML_Char *name,
    XML_Content *model)
{
	struct xml_stream *xs = ud;

	/* The handler owns the model. */
	XML_FreeContentModel(xs->p, model);
	restricted(ud, "element declaration not allowed");
}

static void XMLCALL on_attlist_decl(void *ud, const XML_Char *elname,
    const XML_Char *attname, const XML_Char *att_type, const XML_Char *dflt,
    int isrequired)
{
	restricted(ud, "attribute list declaration not allowed");
}

static void XMLCALL on_pi(void *ud, const XML_Char *target,
    const XML_Char *data)
{
	restricted(ud, "processing instruction not allowed");
}

static void XMLCALL on_comment(void *ud, const XML_Char *data)
{
	restricted(ud, "comment not allowed");
}

static void XMLCALL on_skipped_entity(void *ud, const XML_Char *name,
    int is_param)
{
	restricted(ud, "entity reference not allowed");
}

static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context,
    const XML_Char *base, const XML_Char *sysid, const XML_Char *pubid)
{
	restricted(XML_GetUserData(p), "external entity not allowed");
	return XML_STATUS_ERROR;
}

/* Needed after XML_ParserReset() too, which clears every handler. */
static void setup_parser(struct xml_stream *xs)
{
	XML_Parser p = xs->p;

	XML_SetUserData(p, xs);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	XML_SetStartNamespaceDeclHandler(p, on_ns_start);
	XML_SetStartDoctypeDeclHandler(p, on_doctype);
	XML_SetEntityDeclHandler(p, on_entity_decl);
	XML_SetUnparsedEntityDeclHandler(p, on_unparsed_entity_decl);
	XML_SetNotationDeclHandler(p, on_notation_decl);
	XML_SetElementDeclHandler(p, on_element_decl);
	XML_SetAttlistDeclHandler(p, on_attlist_decl);
	XML_SetProcessingInstructionHandler(p, on_pi);
	XML_SetCommentHandler(p, on_comment);
	XML_SetSkippedEntityHandler(p, on_skipped_entity);
	XML_SetExternalEntityRefHandler(p, on_external_entity);
	XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
	/*
	 * Reparse deferral (expat >= 2.6) could hold a complete stanza back
	 * until more bytes arrive; a chat server must act on it now, and
	 * FEED_CHUNK already bounds the cost of re-scanning a big token.
	 */
	XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
}

static XML_Parser new_parser(void)
{
	XML_Parser p = XML_ParserCreateNS("UTF-8", NS_SEP);

	if (p == NULL) {
		log_error("xml: out of memory creating a parser");
		abort();
	}
	return p;
}

struct xml_stream *xml_stream_new(const struct xml_limits *lim,
    const struct xml_stream_cb *cb, void *ud)
{
	struct xml_stream *xs = xcalloc(1, sizeof(*xs));

	xs->p = new_parser();
	xs->lim = *lim;
	xs->cb = *cb;
	xs->ud = ud;
	buf_init(&xs->text);
	buf_init(&xs->default_ns);
	setup_parser(xs);
	return xs;
}

static void free_replay_state(struct xml_stream *xs)
{
	buf_free(&xs->decls);
	buf_free(&xs->stream_pfx);
	buf_free(&xs->replay);
	xs->pbase = 0;
}

void xml_stream_free(struct xml_stream *xs)
{
	if (xs == NULL)
		return;
	drop_partial(xs);
	buf_free(&xs->default_ns);
	free_replay_state(xs);
	if (xs->p != NULL)
		XML_ParserFree(xs->p);
	free(xs);
}

void xml_stream_reset(struct xml_stream *xs)
{
	if (xs->p == NULL)
		xs->p = new_parser();
	else if (!XML_ParserReset(xs->p, "UTF-8")) {
		log_error("xml: cannot reset the parser");
		abort();
	}
	setup_parser(xs);
	drop_partial(xs);
	buf_free(&xs->default_ns);
	free_replay_state(xs);
	xs->level = 0;
	xs->header_done = 0;
	xs->failed = 0;
	xs->suspend_req = 0;
	xs->suspended = 0;
	xs->fed = 0;
	xs->mark = 0;
	xs->susp_end = 0;
}

/* The between-chunks half of the header and stanza size limits. */
static int over_limit(struct xml_stream *xs)
{
	if (!xs->header_done) {
		if (xs->fed > xs->lim.header_max) {
			fail(xs, XML_ERR_POLICY, "stream header too large");
			return 1;
		}
	} else if (xs->fed - xs->mark > xs->lim.stanza_max) {
		fail(xs, XML_ERR_POLICY, "stanza too large");
		return 1;
	}
	return 0;
}

/* Brings a fresh parser to where the hibernated one was: inside the
 * stream element, with the header's namespaces in scope. */
static void wake(struct xml_stream *xs)
{
	xs->p = new_parser();
	setup_parser(xs);
	xs->pbase = (long long)xs->fed - (long long)xs->replay.len;
	xs->replaying = 1;
	xs->level = 0;
	if (XML_Parse(xs->p, xs->replay.data, (int)xs->replay.len,
	    XML_FALSE) != XML_STATUS_OK || xs->level != 1) {
		/* Our own tag, built from what expat accepted: cannot fail. */
		log_error("xml: replaying the stream header failed");
		abort();
	}
	xs->replaying = 0;
}

int xml_stream_hibernate(struct xml_stream *xs)
{
	if (xs->p == NULL)
		return 1;
	if (!xs->header_done || xs->failed || xs->suspended ||
	    xs->level != 1 || xs->st != NULL || xs->fed != xs->mark ||
	    xs->text.len > 0)
		return 0;
	XML_ParserFree(xs->p);
	xs->p = NULL;
	buf_free(&xs->text);
	return 1;
}

int xml_stream_hibernating(const struct xml_stream *xs)
{
	return xs->p == NULL;
}

enum xml_feed xml_stream_feed(struct xml_stream *xs, const char *data,
    size_t len, size_t *consumed)
{
	size_t base = xs->fed, off = 0, n, dummy;
	enum XML_Status rc;

	if (consumed == NULL)
		consumed = &dummy;
	*consumed = 0;
	if (xs->failed)
		return XML_FEED_ERROR;
	/* The caller must reset first; nothing more is taken until then. */
	if (xs->suspended)
		return XML_FEED_SUSPENDED;
	if (xs->p == NULL && len > 0)
		wake(xs);
	while (off < len) {
		n = len - off < FEED_CHUNK ? len - off : FEED_CHUNK;
		xs->fed += n;
		rc = XML_Parse(xs->p, data + off, (int)n, XML_FALSE);
		off += n;
		if (xs->failed)
			return XML_FEED_ERROR;
		if (rc == XML_STATUS_ERROR) {
			fail(xs, XML_ERR_NOT_WELL_FORMED,
			    XML_ErrorString(XML_GetErrorCode(xs->p)));
			return XML_FEED_ERROR;
		}
		if (xs->suspended) {
			*consumed = xs->susp_end > base ? xs->susp_end - base : 0;
			if (*consumed > len)
				*consumed = len;
			return XML_FEED_SUSPENDED;
		}
		if (over_limit(xs))
			return XML_FEED_ERROR;
	}
	*consumed = len;
	return XML_FEED_OK;
}

void xml_stream_suspend(struct xml_stream *xs)
{
	xs->suspend_req = 1;
}

int xml_stream_idle(const struct xml_stream *xs)
{
	return xs->fed == xs->mark && xs->st == NULL;
}

size_t xml_stream_last_size(const struct xml_stream *xs)
{
	return xs->last_size;
}
