/*
 * xml.h - stanza trees, the bounded XML stream parser, and the serializer.
 *
 * This is the one place where bytes from peers become XML.  The stream
 * parser (expat, namespace-aware, UTF-8 only) enforces every structural
 * limit of struct xml_limits and refuses what RFC 6120 section 11 forbids
 * (DOCTYPE, entity and notation declarations, processing instructions,
 * comments) before anything is expanded.  Handlers above only ever see
 * well-formed, bounded stanzas.
 *
 * Memory: every node, attribute and string of a stanza lives in the
 * stanza's own arena and is freed at once by xml_stanza_free().  The party
 * that receives a stanza from the parser owns it.
 *
 * Names: ns is the namespace URI ("" when none), name the local name.
 * Attribute names in no namespace have ns "" (the usual case); xml:lang has
 * ns XML_NS_XML.
 */
#ifndef PARLEY_XML_XML_H
#define PARLEY_XML_XML_H

#include <stddef.h>

#include "core/buf.h"

#define XML_NS_XML	"http://www.w3.org/XML/1998/namespace"
#define XML_NS_STREAM	"http://etherx.jabber.org/streams"

enum xml_node_type { XML_ELEM, XML_TEXT };

struct xml_attr {
	const char	*ns;
	const char	*name;
	const char	*value;
};

struct xml_node {
	enum xml_node_type	 type;
	struct xml_node		*parent;
	struct xml_node		*next;		/* next sibling */
	/* XML_ELEM */
	const char		*ns;
	const char		*name;
	struct xml_attr		*attrs;
	unsigned		 nattrs;
	unsigned		 attrs_cap;
	struct xml_node		*children;	/* first child */
	struct xml_node		*last;		/* last child */
	/* XML_TEXT */
	const char		*text;		/* not NUL-escaped, NUL-terminated */
	size_t			 len;
};

struct xml_stanza;	/* an arena plus its root element */

/* ---- building and reading trees --------------------------------------- */

/* A new stanza whose root element is {ns}name. */
struct xml_stanza *xml_stanza_new(const char *ns, const char *name);
void	 xml_stanza_free(struct xml_stanza *st);
struct xml_node *xml_root(const struct xml_stanza *st);
/* Deep copy into a fresh arena. */
struct xml_stanza *xml_stanza_copy(const struct xml_stanza *st);

/* Appends a child element; ns NULL means "same namespace as parent". */
struct xml_node *xml_add_child(struct xml_stanza *st, struct xml_node *parent,
	    const char *ns, const char *name);
/* Appends text (copied) to parent. */
void	 xml_add_text(struct xml_stanza *st, struct xml_node *parent,
	    const char *text, size_t len);
/* Sets (or replaces) an attribute in no namespace; value NULL removes it. */
void	 xml_set_attr(struct xml_stanza *st, struct xml_node *el,
	    const char *name, const char *value);
/* Same, with an attribute namespace (e.g. XML_NS_XML for xml:lang). */
void	 xml_set_attr_ns(struct xml_stanza *st, struct xml_node *el,
	    const char *ns, const char *name, const char *value);
/* Copies the subtree src (from any stanza) as the last child of parent. */
struct xml_node *xml_add_copy(struct xml_stanza *st, struct xml_node *parent,
	    const struct xml_node *src);
/* Unlinks child from its parent (the memory stays in the arena). */
void	 xml_remove(struct xml_node *child);
/* Copies a string into the stanza's arena. */
const char *xml_strdup(struct xml_stanza *st, const char *s);

/* Attribute value in no namespace, or NULL. */
const char *xml_attr(const struct xml_node *el, const char *name);
const char *xml_attr_ns(const struct xml_node *el, const char *ns,
	    const char *name);
/* First child element with that ns and name (either may be NULL = any). */
struct xml_node *xml_child(const struct xml_node *el, const char *ns,
	    const char *name);
/* First child element, and the next element sibling after n. */
struct xml_node *xml_first_elem(const struct xml_node *el);
struct xml_node *xml_next_elem(const struct xml_node *n);
/* Number of child elements. */
unsigned xml_count_elems(const struct xml_node *el);
/* Concatenated text children of el (not descendants), appended to out. */
void	 xml_text(const struct xml_node *el, struct buf *out);

/* ---- serializing -------------------------------------------------------- */

/*
 * Appends el and its subtree to out.  parent_ns is the default namespace in
 * scope where the bytes will land (e.g. "jabber:client" for a stanza on a
 * client stream); an xmlns attribute is written wherever an element's
 * namespace differs from its parent's.  Text and attribute values are
 * escaped.
 */
void	 xml_serialize(const struct xml_node *el, const char *parent_ns,
	    struct buf *out);

/* ---- the bounded stream parser ------------------------------------------ */

struct xml_limits {
	size_t		stanza_max;	/* bytes per top-level element */
	size_t		header_max;	/* bytes up to the end of the header */
	unsigned	depth_max;	/* nesting inside a stanza, root = 1 */
	unsigned	attrs_max;	/* attributes per element */
};

enum xml_error {
	XML_ERR_NOT_WELL_FORMED,	/* expat said so */
	XML_ERR_RESTRICTED,		/* DTD, entity, PI, comment */
	XML_ERR_POLICY,			/* a limit was exceeded */
	XML_ERR_BAD_FORMAT,		/* text at stream level, etc. */
	XML_ERR_INVALID_NS,		/* header not in the streams ns */
};

struct xml_stream_cb {
	/*
	 * The stream header arrived.  hdr is the <stream:stream> element (its
	 * ns is checked by the parser to be XML_NS_STREAM and its name
	 * "stream"); default_ns is the default namespace it declared ("" if
	 * none).  hdr is freed after the call.
	 */
	void	(*stream_open)(void *ud, const struct xml_node *hdr,
		    const char *default_ns);
	/* A complete top-level element; the callee owns st. */
	void	(*stanza)(void *ud, struct xml_stanza *st);
	/* </stream:stream> arrived. */
	void	(*stream_close)(void *ud);
	/* The stream is broken; text is a short human reason.  No further
	 * callback follows until xml_stream_reset(). */
	void	(*error)(void *ud, enum xml_error err, const char *text);
};

struct xml_stream;

struct xml_stream *xml_stream_new(const struct xml_limits *lim,
	    const struct xml_stream_cb *cb, void *ud);
void	 xml_stream_free(struct xml_stream *xs);
/* Starts a new stream document (RFC 6120 stream restart). */
void	 xml_stream_reset(struct xml_stream *xs);

enum xml_feed {
	XML_FEED_OK,		/* all bytes consumed */
	XML_FEED_SUSPENDED,	/* a callback called xml_stream_suspend() */
	XML_FEED_ERROR,		/* error callback was called */
};

/*
 * Feeds bytes.  Callbacks run from inside this call.  On
 * XML_FEED_SUSPENDED, *consumed is the number of bytes of data up to and
 * including the end of the element whose callback suspended; the caller
 * then resets the stream (or drops it) and decides what to do with the
 * rest.  Callbacks must not free the stream; they may call
 * xml_stream_suspend().
 *
 * consumed may be NULL.  On XML_FEED_OK *consumed is len, on
 * XML_FEED_ERROR 0.  On XML_FEED_SUSPENDED it counts from the start of
 * this call's data (the element may have begun in earlier calls), so the
 * bytes data + *consumed onwards belong to whatever comes next; until
 * xml_stream_reset(), every feed returns XML_FEED_SUSPENDED with
 * *consumed 0.  Callbacks must not call xml_stream_reset().
 */
enum xml_feed xml_stream_feed(struct xml_stream *xs, const char *data,
	    size_t len, size_t *consumed);
/* Stops feeding after the current callback returns (see above). */
void	 xml_stream_suspend(struct xml_stream *xs);
/*
 * Frees the parser's memory while the stream is idle between stanzas;
 * the next feed restores it transparently.  Returns 1 if the stream is
 * hibernating, 0 if it cannot now (a partial stanza or header is
 * buffered, or the stream failed or is suspended).
 */
int	 xml_stream_hibernate(struct xml_stream *xs);
/* 1 while hibernating. */
int	 xml_stream_hibernating(const struct xml_stream *xs);
/* True while no partial stanza or header is buffered (idle). */
int	 xml_stream_idle(const struct xml_stream *xs);
/* Inside the stanza callback: the bytes that stanza took in the stream,
 * counted as for stanza_max (rate limits charge them). */
size_t	 xml_stream_last_size(const struct xml_stream *xs);

#endif
