/* test_xml.c - unit tests for src/xml: trees, serializer, stream parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "xml/xml.h"

#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams' to='example.com' " \
	"version='1.0' xml:lang='en'>"
#define CLOSE "</stream:stream>"
#define NKEEP 8

/* What the callbacks saw. */
struct rec {
	struct xml_stream	*xs;
	int			 opens, closes, errors, stanzas;
	enum xml_error		 err;
	char			 errtext[128];
	char			 default_ns[128];
	struct buf		 hdr;		/* serialized headers */
	struct buf		 out;		/* serialized stanzas */
	const char		*suspend_on;	/* root name that suspends */
	struct xml_stanza	*kept[NKEEP];
};

static void cb_open(void *ud, const struct xml_node *hdr, const char *dns)
{
	struct rec *r = ud;

	r->opens++;
	snprintf(r->default_ns, sizeof(r->default_ns), "%s", dns);
	xml_serialize(hdr, "", &r->hdr);
	if (r->suspend_on != NULL && strcmp(hdr->name, r->suspend_on) == 0)
		xml_stream_suspend(r->xs);
}

static void cb_stanza(void *ud, struct xml_stanza *st)
{
	struct rec *r = ud;
	const struct xml_node *root = xml_root(st);

	xml_serialize(root, "jabber:client", &r->out);
	if (r->suspend_on != NULL && strcmp(root->name, r->suspend_on) == 0)
		xml_stream_suspend(r->xs);
	if (r->stanzas < NKEEP)
		r->kept[r->stanzas] = st;
	else
		xml_stanza_free(st);
	r->stanzas++;
}

static void cb_close(void *ud)
{
	struct rec *r = ud;

	r->closes++;
}

static void cb_error(void *ud, enum xml_error err, const char *text)
{
	struct rec *r = ud;

	r->errors++;
	r->err = err;
	snprintf(r->errtext, sizeof(r->errtext), "%s", text);
}

static const struct xml_stream_cb cbs = {
	cb_open, cb_stanza, cb_close, cb_error
};

static struct xml_limits default_limits(void)
{
	struct xml_limits lim = {
		PARLEY_STANZA_MAX_DEFAULT, PARLEY_HEADER_MAX_DEFAULT,
		PARLEY_DEPTH_MAX_DEFAULT, PARLEY_ATTRS_MAX_DEFAULT
	};

	return lim;
}

static void rec_init(struct rec *r, const struct xml_limits *lim)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->hdr);
	buf_init(&r->out);
	r->xs = xml_stream_new(lim, &cbs, r);
}

static void rec_clear_kept(struct rec *r)
{
	for (int i = 0; i < NKEEP; i++) {
		xml_stanza_free(r->kept[i]);
		r->kept[i] = NULL;
	}
}

static void rec_free(struct rec *r)
{
	rec_clear_kept(r);
	xml_stream_free(r->xs);
	buf_free(&r->hdr);
	buf_free(&r->out);
}

/* Feeds s in chunks of step bytes (0 = all at once); stops at non-OK. */
static enum xml_feed feed_n(struct rec *r, const char *s, size_t len,
    size_t step, size_t *consumed)
{
	size_t off = 0, n, c;
	enum xml_feed rc = XML_FEED_OK;

	if (step == 0)
		step = len ? len : 1;
	*consumed = 0;
	while (off < len) {
		n = len - off < step ? len - off : step;
		rc = xml_stream_feed(r->xs, s + off, n, &c);
		*consumed += c;
		if (rc != XML_FEED_OK)
			return rc;
		off += n;
	}
	return rc;
}

static enum xml_feed feed(struct rec *r, const char *s, size_t step)
{
	size_t c;

	return feed_n(r, s, strlen(s), step, &c);
}

static char *repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static struct xml_stanza *parse_one(const char *xml);

/* ---- the stream, end to end ---------------------------------------------- */

#define DOC_STANZAS \
	"<message to='juliet@example.com' type='chat' id='m1'>" \
	"<body>Wherefore art thou?</body></message>" \
	"<presence/>" \
	"<iq type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>"

static void test_header_stanzas_close(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	struct xml_node *m;
	struct buf t = BUF_INIT;

	rec_init(&r, &lim);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, HDR DOC_STANZAS CLOSE, 0), XML_FEED_OK);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.opens, 1);
	assert_string_equal(r.default_ns, "jabber:client");
	assert_string_equal(buf_str(&r.hdr),
	    "<stream xmlns='http://etherx.jabber.org/streams' "
	    "to='example.com' version='1.0' xml:lang='en'/>");
	assert_int_equal(r.stanzas, 3);
	assert_string_equal(buf_str(&r.out), DOC_STANZAS);
	assert_int_equal(r.closes, 1);

	m = xml_root(r.kept[0]);
	assert_string_equal(m->ns, "jabber:client");
	assert_string_equal(m->name, "message");
	assert_string_equal(xml_attr(m, "to"), "juliet@example.com");
	assert_null(xml_attr(m, "from"));
	xml_text(xml_child(m, NULL, "body"), &t);
	assert_string_equal(buf_str(&t), "Wherefore art thou?");
	assert_string_equal(xml_child(xml_root(r.kept[2]), NULL, NULL)->ns,
	    "jabber:iq:roster");
	buf_free(&t);
	rec_free(&r);
}

static void test_split_feeds_identical(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 7, 13, 64, 4095, 4096, 4097 };
	const char *doc = HDR DOC_STANZAS "<message><body>a&amp;b&#x263A;"
	    "<![CDATA[<x>]]>c</body></message>" CLOSE;
	struct xml_limits lim = default_limits();
	struct rec whole, r;

	rec_init(&whole, &lim);
	assert_int_equal(feed(&whole, doc, 0), XML_FEED_OK);
	assert_int_equal(whole.stanzas, 4);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		rec_init(&r, &lim);
		assert_int_equal(feed(&r, doc, steps[i]), XML_FEED_OK);
		assert_int_equal(r.errors, 0);
		assert_int_equal(r.opens, 1);
		assert_int_equal(r.closes, 1);
		assert_int_equal(r.stanzas, 4);
		assert_string_equal(buf_str(&r.out), buf_str(&whole.out));
		assert_string_equal(buf_str(&r.hdr), buf_str(&whole.hdr));
		rec_free(&r);
	}
	rec_free(&whole);
}

static void test_namespaces(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	struct xml_node *iq, *ps, *pub, *foo, *bar, *baz, *m;
	struct buf b = BUF_INIT;

	rec_init(&r, &lim);
	assert_int_equal(feed(&r, HDR
	    "<iq type='set' id='x'>"
	    "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<publish node='n'/></pubsub>"
	    "<x:foo xmlns:x='urn:x'><x:bar/><baz/></x:foo></iq>"
	    "<message xml:lang='de' xmlns:e='urn:e' e:a='1' e:b='2' "
	    "xmlns:f='urn:f' f:c='3' d='4'><body xml:lang='fr'>x</body>"
	    "</message>", 0), XML_FEED_OK);
	assert_int_equal(r.stanzas, 2);
	iq = xml_root(r.kept[0]);
	ps = xml_first_elem(iq);
	pub = xml_first_elem(ps);
	foo = xml_next_elem(ps);
	bar = xml_first_elem(foo);
	baz = xml_next_elem(bar);
	assert_string_equal(iq->ns, "jabber:client");
	assert_string_equal(ps->ns, "http://jabber.org/protocol/pubsub");
	assert_string_equal(pub->ns, "http://jabber.org/protocol/pubsub");
	assert_string_equal(foo->ns, "urn:x");
	assert_string_equal(foo->name, "foo");
	assert_string_equal(bar->ns, "urn:x");
	assert_string_equal(baz->ns, "jabber:client");
	assert_ptr_equal(xml_child(iq, "urn:x", "foo"), foo);
	assert_null(xml_child(iq, "urn:y", "foo"));
	xml_serialize(iq, "jabber:client", &b);
	assert_string_equal(buf_str(&b), "<iq type='set' id='x'>"
	    "<pubsub xmlns='http://jabber.org/protocol/pubsub'>"
	    "<publish node='n'/></pubsub>"
	    "<foo xmlns='urn:x'><bar/><baz xmlns='jabber:client'/></foo></iq>");
	buf_reset(&b);
	/* On a server-to-server stream the default namespace differs. */
	xml_serialize(pub, "jabber:server", &b);
	assert_string_equal(buf_str(&b),
	    "<publish xmlns='http://jabber.org/protocol/pubsub' node='n'/>");

	m = xml_root(r.kept[1]);
	assert_string_equal(xml_attr_ns(m, XML_NS_XML, "lang"), "de");
	assert_null(xml_attr(m, "lang"));
	assert_string_equal(xml_attr_ns(m, "urn:e", "b"), "2");
	assert_string_equal(xml_attr_ns(m, "urn:f", "c"), "3");
	assert_string_equal(xml_attr(m, "d"), "4");
	buf_reset(&b);
	xml_serialize(m, "jabber:client", &b);
	assert_string_equal(buf_str(&b), "<message xml:lang='de' "
	    "xmlns:a1='urn:e' a1:a='1' a1:b='2' xmlns:a3='urn:f' a3:c='3' "
	    "d='4'><body xml:lang='fr'>x</body></message>");
	buf_free(&b);
	rec_free(&r);
}

/* The xml prefix is bound for ever: an element in it keeps its prefix. */
static void test_xml_prefixed_element(void **state)
{
	const char *s = "<message><xml:odd><in/></xml:odd></message>";
	struct xml_stanza *st = parse_one(s);
	struct xml_node *odd = xml_first_elem(xml_root(st));
	struct buf b = BUF_INIT;

	assert_string_equal(odd->ns, XML_NS_XML);
	assert_string_equal(xml_first_elem(odd)->ns, "jabber:client");
	xml_serialize(xml_root(st), "jabber:client", &b);
	assert_string_equal(buf_str(&b), s);
	buf_reset(&b);
	xml_serialize(odd, "urn:other", &b);
	assert_string_equal(buf_str(&b),
	    "<xml:odd><in xmlns='jabber:client'/></xml:odd>");
	buf_free(&b);
	xml_stanza_free(st);
}

static void test_no_default_ns(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	struct buf b = BUF_INIT;

	rec_init(&r, &lim);
	assert_int_equal(feed(&r, "<stream:stream xmlns:stream="
	    "'http://etherx.jabber.org/streams'><message/>", 1), XML_FEED_OK);
	assert_int_equal(r.opens, 1);
	assert_string_equal(r.default_ns, "");
	assert_string_equal(xml_root(r.kept[0])->ns, "");
	assert_string_equal(buf_str(&r.out), "<message xmlns=''/>");
	xml_serialize(xml_root(r.kept[0]), "", &b);
	assert_string_equal(buf_str(&b), "<message/>");
	buf_free(&b);
	rec_free(&r);
}

/* Parses one stanza after HDR; the caller frees it. */
static struct xml_stanza *parse_one(const char *xml)
{
	struct xml_limits lim = default_limits();
	struct xml_stanza *st;
	struct rec r;
	char *doc = cat3(HDR, xml, "");

	rec_init(&r, &lim);
	assert_int_equal(feed(&r, doc, 0), XML_FEED_OK);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.stanzas, 1);
	st = r.kept[0];
	r.kept[0] = NULL;
	rec_free(&r);
	free(doc);
	return st;
}

static void test_escaping_round_trip(void **state)
{
	struct xml_stanza *st, *again;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT, t = BUF_INIT;
	struct xml_node *m;

	st = parse_one("<message id='&amp;&lt;&gt;&quot;&apos;\"' "
	    "x=\"'&#9;&#10;&#13;\">"
	    "<body>&amp;&lt;&gt;&quot;&apos;\"'&#13;&#10;\nend]]&gt;</body>"
	    "</message>");
	m = xml_root(st);
	assert_string_equal(xml_attr(m, "id"), "&<>\"'\"");
	assert_string_equal(xml_attr(m, "x"), "'\t\n\r");
	xml_text(xml_first_elem(m), &t);
	assert_string_equal(buf_str(&t), "&<>\"'\"'\r\n\nend]]>");
	xml_serialize(m, "jabber:client", &b1);
	assert_string_equal(buf_str(&b1),
	    "<message id='&amp;&lt;&gt;&quot;&apos;&quot;' "
	    "x='&apos;&#x9;&#xA;&#xD;'>"
	    "<body>&amp;&lt;&gt;&quot;&apos;&quot;&apos;&#xD;\n\nend]]&gt;"
	    "</body></message>");
	again = parse_one(buf_str(&b1));
	xml_serialize(xml_root(again), "jabber:client", &b2);
	assert_string_equal(buf_str(&b1), buf_str(&b2));
	buf_reset(&t);
	xml_text(xml_first_elem(xml_root(again)), &t);
	assert_string_equal(buf_str(&t), "&<>\"'\"'\r\n\nend]]>");
	assert_string_equal(xml_attr(xml_root(again), "x"), "'\t\n\r");
	xml_stanza_free(st);
	xml_stanza_free(again);
	buf_free(&b1);
	buf_free(&b2);
	buf_free(&t);
}

/* ---- trees and the serializer -------------------------------------------- */

static void test_serializer_exact(void **state)
{
	struct xml_stanza *st = xml_stanza_new("jabber:client", "message");
	struct xml_node *m = xml_root(st), *body, *x, *e;
	struct buf b = BUF_INIT;

	xml_set_attr(st, m, "to", "romeo@example.net");
	xml_set_attr(st, m, "type", "normal");
	xml_set_attr(st, m, "type", "chat");		/* replaces */
	xml_set_attr(st, m, "id", "gone");
	xml_set_attr(st, m, "id", NULL);		/* removes */
	xml_set_attr(st, m, "nothing", NULL);
	xml_set_attr_ns(st, m, XML_NS_XML, "lang", "en");
	body = xml_add_child(st, m, NULL, "body");
	xml_add_text(st, body, "a < b & 'c'", 11);
	x = xml_add_child(st, m, "jabber:x:oob", "x");
	e = xml_add_child(st, x, NULL, "url");
	xml_set_attr_ns(st, e, "urn:meta", "kind", "file");
	xml_add_child(st, m, "jabber:client", "thread");
	xml_add_text(st, m, "", 0);			/* no node */

	xml_serialize(m, "jabber:client", &b);
	assert_string_equal(buf_str(&b),
	    "<message to='romeo@example.net' type='chat' xml:lang='en'>"
	    "<body>a &lt; b &amp; &apos;c&apos;</body>"
	    "<x xmlns='jabber:x:oob'><url xmlns:a0='urn:meta' a0:kind='file'/>"
	    "</x><thread/></message>");
	buf_reset(&b);
	xml_serialize(m, "jabber:server", &b);
	assert_true(strncmp(buf_str(&b), "<message xmlns='jabber:client' to=",
	    strlen("<message xmlns='jabber:client' to=")) == 0);
	buf_reset(&b);
	xml_serialize(body, "jabber:client", &b);
	assert_string_equal(buf_str(&b),
	    "<body>a &lt; b &amp; &apos;c&apos;</body>");
	buf_reset(&b);
	xml_serialize(body->children, "jabber:client", &b);
	assert_string_equal(buf_str(&b), "a &lt; b &amp; &apos;c&apos;");

	/* A copy into another place, then removal. */
	xml_add_copy(st, x, body);
	xml_remove(xml_child(m, NULL, "thread"));
	xml_remove(body);
	xml_remove(body);				/* already detached */
	buf_reset(&b);
	xml_serialize(m, "jabber:client", &b);
	assert_string_equal(buf_str(&b),
	    "<message to='romeo@example.net' type='chat' xml:lang='en'>"
	    "<x xmlns='jabber:x:oob'><url xmlns:a0='urn:meta' a0:kind='file'/>"
	    "<body xmlns='jabber:client'>a &lt; b &amp; &apos;c&apos;</body>"
	    "</x></message>");
	assert_ptr_equal(x->last->parent, x);
	assert_int_equal(xml_count_elems(m), 1);
	buf_free(&b);
	xml_stanza_free(st);
}

static void test_tree_accessors(void **state)
{
	struct xml_stanza *st = xml_stanza_new("jabber:client", "iq");
	struct xml_node *iq = xml_root(st), *a, *b, *c;
	struct buf t = BUF_INIT;
	const char *s;

	xml_add_text(st, iq, "one ", 4);
	a = xml_add_child(st, iq, "urn:a", "a");
	xml_add_text(st, iq, "two ", 4);
	b = xml_add_child(st, iq, NULL, "b");
	xml_add_text(st, iq, "three", 5);
	c = xml_add_child(st, a, NULL, "c");
	xml_add_text(st, c, "deep", 4);

	xml_text(iq, &t);
	assert_string_equal(buf_str(&t), "one two three");
	assert_int_equal(xml_count_elems(iq), 2);
	assert_int_equal(xml_count_elems(c), 0);
	assert_ptr_equal(xml_first_elem(iq), a);
	assert_ptr_equal(xml_next_elem(a), b);
	assert_null(xml_next_elem(b));
	assert_ptr_equal(xml_child(iq, NULL, "b"), b);
	assert_ptr_equal(xml_child(iq, "jabber:client", NULL), b);
	assert_ptr_equal(xml_child(iq, "urn:a", NULL), a);
	assert_string_equal(c->ns, "urn:a");
	assert_null(xml_child(iq, NULL, "c"));
	assert_null(xml_attr(iq, "x"));
	s = xml_strdup(st, "copied");
	assert_string_equal(s, "copied");

	/* Many attributes: the array grows inside the arena. */
	for (int i = 0; i < 100; i++) {
		char name[16], val[16];

		snprintf(name, sizeof(name), "n%d", i);
		snprintf(val, sizeof(val), "v%d", i);
		xml_set_attr(st, b, name, val);
	}
	assert_int_equal(b->nattrs, 100);
	assert_string_equal(xml_attr(b, "n0"), "v0");
	assert_string_equal(xml_attr(b, "n99"), "v99");
	xml_set_attr(st, b, "n50", NULL);
	assert_int_equal(b->nattrs, 99);
	assert_null(xml_attr(b, "n50"));
	assert_string_equal(xml_attr(b, "n51"), "v51");
	buf_free(&t);
	xml_stanza_free(st);
}

static void test_stanza_copy(void **state)
{
	struct xml_stanza *st, *cp, *cp2;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT, b3 = BUF_INIT;
	char *big = repeat("0123456789", 10000);
	struct xml_node *body;

	st = parse_one("<iq type='result' id='1' xml:lang='en'>"
	    "<query xmlns='jabber:iq:roster' ver='3'>"
	    "<item jid='a@b' name='&lt;A&gt;' subscription='both'>"
	    "<group>Friends</group></item>"
	    "<item xmlns:z='urn:z' z:x='1' jid='c@d'/></query>"
	    "text<y xmlns=''/></iq>");
	body = xml_add_child(st, xml_root(st), NULL, "body");
	xml_add_text(st, body, big, strlen(big));
	xml_serialize(xml_root(st), "jabber:client", &b1);
	cp = xml_stanza_copy(st);
	xml_stanza_free(st);
	xml_serialize(xml_root(cp), "jabber:client", &b2);
	assert_string_equal(buf_str(&b1), buf_str(&b2));
	cp2 = xml_stanza_copy(cp);
	xml_stanza_free(cp);
	xml_serialize(xml_root(cp2), "jabber:client", &b3);
	assert_string_equal(buf_str(&b1), buf_str(&b3));
	assert_null(xml_root(cp2)->parent);
	xml_stanza_free(cp2);
	free(big);
	buf_free(&b1);
	buf_free(&b2);
	buf_free(&b3);
}

static void test_deep_tree_by_code(void **state)
{
	struct xml_stanza *st = xml_stanza_new("urn:x", "a"), *cp;
	struct xml_node *n = xml_root(st);
	struct buf b = BUF_INIT, b2 = BUF_INIT;

	/* Far beyond any parser limit: serializer and copy must not recurse. */
	for (int i = 0; i < 100000; i++)
		n = xml_add_child(st, n, NULL, "a");
	xml_serialize(xml_root(st), "urn:x", &b);
	assert_int_equal(b.len, 100001 * 3 + 100000 * 4 + 1);
	cp = xml_stanza_copy(st);
	xml_serialize(xml_root(cp), "urn:x", &b2);
	assert_string_equal(buf_str(&b), buf_str(&b2));
	xml_stanza_free(cp);
	xml_stanza_free(st);
	buf_free(&b);
	buf_free(&b2);
}

/* ---- refused input -------------------------------------------------------- */

static void expect_error(const char *doc, size_t step, enum xml_error err,
    const char *text_part)
{
	struct xml_limits lim = default_limits();
	struct rec r;

	rec_init(&r, &lim);
	assert_int_equal(feed(&r, doc, step), XML_FEED_ERROR);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.err, err);
	if (text_part != NULL && strstr(r.errtext, text_part) == NULL)
		fail_msg("error text '%s' lacks '%s'", r.errtext, text_part);
	/* Every later feed fails too, without a second callback. */
	assert_int_equal(feed(&r, "<presence/>", 0), XML_FEED_ERROR);
	assert_int_equal(r.errors, 1);
	rec_free(&r);
}

static void test_restricted(void **state)
{
	static const char *docs[][2] = {
		{ "<?xml version='1.0'?><!DOCTYPE stream>" HDR, "DOCTYPE" },
		{ "<!DOCTYPE s [<!ENTITY x 'y'>]><s>&x;</s>", "DOCTYPE" },
		{ "<!DOCTYPE s SYSTEM 'file:///etc/passwd'><s>&x;</s>",
		    "DOCTYPE" },
		{ "<!DOCTYPE s [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
		    "<s>&x;</s>", "DOCTYPE" },
		{ "<!DOCTYPE s [<!ENTITY % p SYSTEM 'http://evil/'>%p;]>",
		    "DOCTYPE" },
		{ HDR "<message><?php echo 1; ?></message>",
		    "processing instruction" },
		{ "<?xml version='1.0'?><?xml-stylesheet href='a'?>" HDR,
		    "processing instruction" },
		{ HDR "<message><!-- hi --><body/></message>", "comment" },
		{ "<!-- hi -->" HDR, "comment" },
		{ HDR "<!-- between stanzas -->", "comment" },
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		expect_error(docs[i][0], 0, XML_ERR_RESTRICTED, docs[i][1]);
		expect_error(docs[i][0], 1, XML_ERR_RESTRICTED, docs[i][1]);
	}
}

static void test_billion_laughs(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	struct buf doc = BUF_INIT;

	buf_puts(&doc, "<?xml version='1.0'?><!DOCTYPE stream:stream [\n"
	    "<!ENTITY lol 'lol'>\n");
	for (int i = 1; i < 10; i++)
		buf_printf(&doc, "<!ENTITY lol%d '&lol%s;&lol%s;&lol%s;&lol%s;"
		    "&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;&lol%s;'>\n", i,
		    "", "", "", "", "", "", "", "", "", "");
	buf_puts(&doc, "]>" HDR "<message><body>&lol9;</body></message>");
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, buf_str(&doc), 0), XML_FEED_ERROR);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.err, XML_ERR_RESTRICTED);
	assert_non_null(strstr(r.errtext, "DOCTYPE"));
	assert_int_equal(r.opens, 0);
	assert_int_equal(r.stanzas, 0);
	rec_free(&r);
	buf_free(&doc);
}

static void test_not_well_formed(void **state)
{
	expect_error(HDR "<message>&foo;</message>", 0,
	    XML_ERR_NOT_WELL_FORMED, "undefined entity");
	expect_error(HDR "<message>&foo;</message>", 1,
	    XML_ERR_NOT_WELL_FORMED, "undefined entity");
	expect_error(HDR "<message><body></message>", 0,
	    XML_ERR_NOT_WELL_FORMED, "mismatched tag");
	expect_error("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0,
	    XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 1,
	    XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error(HDR "<message a='1' a='2'/>", 0,
	    XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error(HDR "<x:message/>", 0, XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error(HDR "<message>\xff\xfe</message>", 0,
	    XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error(HDR "<message>&#0;</message>", 0,
	    XML_ERR_NOT_WELL_FORMED, NULL);
	expect_error(HDR CLOSE "<message/>", 0, XML_ERR_NOT_WELL_FORMED, NULL);
}

static void test_text_at_stream_level(void **state)
{
	expect_error(HDR "<presence/>hello<presence/>", 0, XML_ERR_BAD_FORMAT,
	    "text");
	expect_error(HDR " &amp; ", 1, XML_ERR_BAD_FORMAT, "text");
}

static void test_invalid_ns(void **state)
{
	expect_error("<stream xmlns='jabber:client'>", 0, XML_ERR_INVALID_NS,
	    "streams namespace");
	expect_error("<s:stream xmlns:s='urn:other' xmlns='jabber:client'>", 1,
	    XML_ERR_INVALID_NS, "streams namespace");
	expect_error("<message xmlns='http://etherx.jabber.org/streams'>", 0,
	    XML_ERR_INVALID_NS, NULL);
}

static void test_error_once(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;

	lim.attrs_max = 1;
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_ERROR);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.err, XML_ERR_POLICY);
	assert_int_equal(feed(&r, "<a b='1' c='2'/>&bad;", 0), XML_FEED_ERROR);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.opens, 0);
	/* Reset gives a fresh stream. */
	xml_stream_reset(r.xs);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, "<stream:stream xmlns:stream="
	    "'http://etherx.jabber.org/streams'><a b='1'/>", 0), XML_FEED_OK);
	assert_int_equal(r.opens, 1);
	assert_int_equal(r.stanzas, 1);
	assert_int_equal(r.errors, 1);
	rec_free(&r);
}

/* ---- limits ----------------------------------------------------------------- */

/* Feeds HDR then body with the given limit set; returns the feed result. */
static enum xml_feed with_limits(const struct xml_limits *lim,
    const char *hdr, const char *body, size_t step, struct rec *r)
{
	size_t c;

	rec_init(r, lim);
	if (feed_n(r, hdr, strlen(hdr), step, &c) != XML_FEED_OK)
		return XML_FEED_ERROR;
	return feed_n(r, body, strlen(body), step, &c);
}

static void test_stanza_max(void **state)
{
	static const size_t steps[] = { 0, 1, 5 };
	const char *s = "<message><body>0123456789</body></message>";
	size_t len = strlen(s);
	struct xml_limits lim = default_limits();
	struct rec r;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		lim.stanza_max = len;
		assert_int_equal(with_limits(&lim, HDR, s, steps[i], &r),
		    XML_FEED_OK);
		assert_int_equal(r.stanzas, 1);
		rec_free(&r);
		lim.stanza_max = len - 1;
		assert_int_equal(with_limits(&lim, HDR, s, steps[i], &r),
		    XML_FEED_ERROR);
		assert_int_equal(r.err, XML_ERR_POLICY);
		assert_string_equal(r.errtext, "stanza too large");
		assert_int_equal(r.stanzas, 0);
		rec_free(&r);
	}
}

static void test_stanza_max_big(void **state)
{
	const char *open = "<message><body>", *close = "</body></message>";
	struct xml_limits lim = default_limits();
	char *text = repeat("x", PARLEY_STANZA_MAX_DEFAULT);
	char *s;
	size_t fed = 0;
	enum xml_feed rc = XML_FEED_OK;
	struct rec r;

	/* Exactly at the default limit, in one feed (cut into chunks). */
	text[PARLEY_STANZA_MAX_DEFAULT - strlen(open) - strlen(close)] = '\0';
	s = cat3(open, text, close);
	assert_int_equal(strlen(s), PARLEY_STANZA_MAX_DEFAULT);
	assert_int_equal(with_limits(&lim, HDR, s, 0, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 1);
	rec_free(&r);
	free(s);
	memset(text, 'x', PARLEY_STANZA_MAX_DEFAULT);

	/* An endless text node is cut off near the limit, not at the end. */
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, HDR "<message><body>", 0), XML_FEED_OK);
	while (rc == XML_FEED_OK && fed < 4 * PARLEY_STANZA_MAX_DEFAULT) {
		rc = xml_stream_feed(r.xs, text, 1000, NULL);
		fed += 1000;
	}
	assert_int_equal(rc, XML_FEED_ERROR);
	assert_true(fed <= PARLEY_STANZA_MAX_DEFAULT + 1000);
	assert_string_equal(r.errtext, "stanza too large");
	rec_free(&r);
	free(text);
}

static void test_stanza_max_unfinished(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	char *attr = repeat("a", 200);
	char *s = cat3("<message to='", attr, "");

	/* A start tag that never ends is buffered by expat: still counted. */
	lim.stanza_max = 100;
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(xml_stream_feed(r.xs, s, 100, NULL), XML_FEED_OK);
	assert_false(xml_stream_idle(r.xs));
	assert_int_equal(xml_stream_feed(r.xs, s + 100, 1, NULL),
	    XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	rec_free(&r);
	free(attr);
	free(s);
}

static void test_keepalives_not_counted(void **state)
{
	const char *s = "<presence/>";
	struct xml_limits lim = default_limits();
	struct rec r;
	char *ws = repeat(" \n\t\r\n", 1000);
	char *doc = cat3(s, ws, s);
	char *doc2 = cat3(ws, doc, ws);

	lim.stanza_max = strlen(s);
	assert_int_equal(with_limits(&lim, HDR, doc2, 0, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 2);
	assert_true(xml_stream_idle(r.xs));
	rec_free(&r);
	assert_int_equal(with_limits(&lim, HDR, doc2, 1, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 2);
	rec_free(&r);
	lim.stanza_max = strlen(s) - 1;
	assert_int_equal(with_limits(&lim, HDR, doc2, 3, &r), XML_FEED_ERROR);
	rec_free(&r);
	free(ws);
	free(doc);
	free(doc2);
}

static void test_header_max(void **state)
{
	static const size_t steps[] = { 0, 1, 10 };
	struct xml_limits lim = default_limits();
	struct rec r;
	char *big;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		lim.header_max = strlen(HDR);
		assert_int_equal(with_limits(&lim, HDR, "<presence/>",
		    steps[i], &r), XML_FEED_OK);
		assert_int_equal(r.opens, 1);
		assert_int_equal(r.stanzas, 1);
		rec_free(&r);
		lim.header_max = strlen(HDR) - 1;
		assert_int_equal(with_limits(&lim, HDR, "", steps[i], &r),
		    XML_FEED_ERROR);
		assert_int_equal(r.opens, 0);
		assert_int_equal(r.err, XML_ERR_POLICY);
		assert_string_equal(r.errtext, "stream header too large");
		rec_free(&r);
	}
	/* A header that never ends. */
	lim = default_limits();
	big = repeat("a", 10 * PARLEY_HEADER_MAX_DEFAULT);
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, "<stream:stream ", 0), XML_FEED_OK);
	assert_int_equal(feed(&r, big, 100), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	rec_free(&r);
	free(big);
}

static char *nest(unsigned depth)
{
	struct buf b = BUF_INIT;

	for (unsigned i = 0; i < depth; i++)
		buf_puts(&b, "<a>");
	for (unsigned i = 0; i < depth; i++)
		buf_puts(&b, "</a>");
	return buf_steal(&b);
}

static void test_depth_max(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	char *ok = nest(PARLEY_DEPTH_MAX_DEFAULT);
	char *bad = nest(PARLEY_DEPTH_MAX_DEFAULT + 1);

	assert_int_equal(with_limits(&lim, HDR, ok, 0, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 1);
	rec_free(&r);
	assert_int_equal(with_limits(&lim, HDR, bad, 0, &r), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	assert_string_equal(r.errtext, "too deeply nested");
	rec_free(&r);
	free(ok);
	free(bad);
	lim.depth_max = 1;
	assert_int_equal(with_limits(&lim, HDR, "<a/>", 1, &r), XML_FEED_OK);
	rec_free(&r);
	assert_int_equal(with_limits(&lim, HDR, "<a><b/></a>", 1, &r),
	    XML_FEED_ERROR);
	rec_free(&r);
}

static char *with_attrs(const char *open, unsigned n, const char *close)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, open);
	for (unsigned i = 0; i < n; i++)
		buf_printf(&b, " a%u='%u'", i, i);
	buf_puts(&b, close);
	return buf_steal(&b);
}

static void test_attrs_max(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	char *ok = with_attrs("<a><b", PARLEY_ATTRS_MAX_DEFAULT, "/></a>");
	char *bad = with_attrs("<a><b", PARLEY_ATTRS_MAX_DEFAULT + 1, "/></a>");
	char *hok, *hbad;

	assert_int_equal(with_limits(&lim, HDR, ok, 0, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 1);
	assert_int_equal(xml_first_elem(xml_root(r.kept[0]))->nattrs,
	    PARLEY_ATTRS_MAX_DEFAULT);
	rec_free(&r);
	assert_int_equal(with_limits(&lim, HDR, bad, 0, &r), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	assert_string_equal(r.errtext, "too many attributes");
	rec_free(&r);

	/* xmlns declarations are not attributes; xml:lang is. */
	lim.attrs_max = 2;
	hok = "<stream:stream xmlns='jabber:client' xmlns:stream="
	    "'http://etherx.jabber.org/streams' to='x' xml:lang='en'>";
	hbad = "<stream:stream xmlns='jabber:client' xmlns:stream="
	    "'http://etherx.jabber.org/streams' to='x' version='1.0' "
	    "xml:lang='en'>";
	assert_int_equal(with_limits(&lim, hok, "", 0, &r), XML_FEED_OK);
	assert_int_equal(r.opens, 1);
	rec_free(&r);
	assert_int_equal(with_limits(&lim, hbad, "", 0, &r), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	rec_free(&r);
	free(ok);
	free(bad);
}

/* ---- suspension ---------------------------------------------------------- */

#define STARTTLS "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

static void test_suspend_starttls(void **state)
{
	struct xml_limits lim = default_limits();
	const char *doc = HDR STARTTLS "<junk";
	struct rec r;
	size_t c;

	/* Header and starttls in one feed. */
	rec_init(&r, &lim);
	r.suspend_on = "starttls";
	assert_int_equal(feed_n(&r, doc, strlen(doc), 0, &c),
	    XML_FEED_SUSPENDED);
	assert_int_equal(c, strlen(HDR STARTTLS));
	assert_int_equal(r.stanzas, 1);
	assert_int_equal(r.errors, 0);
	/* Until reset, nothing more is taken. */
	assert_int_equal(xml_stream_feed(r.xs, "<a/>", 4, &c),
	    XML_FEED_SUSPENDED);
	assert_int_equal(c, 0);
	assert_int_equal(r.stanzas, 1);
	xml_stream_reset(r.xs);
	r.suspend_on = NULL;
	/* The bytes after the element start the next document. */
	assert_int_equal(feed(&r, "<junk", 0), XML_FEED_OK);
	assert_int_equal(feed(&r, " xmlns='http://etherx.jabber.org/streams'>"
	    "<a/>", 0), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_INVALID_NS);
	rec_free(&r);

	/* Header first, then starttls with trailing bytes. */
	rec_init(&r, &lim);
	r.suspend_on = "starttls";
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(feed_n(&r, STARTTLS "<junk", strlen(STARTTLS) + 5,
	    0, &c), XML_FEED_SUSPENDED);
	assert_int_equal(c, strlen(STARTTLS));
	rec_free(&r);

	/* Dribbled: the suspending feed is the one holding the last '>'. */
	rec_init(&r, &lim);
	r.suspend_on = "starttls";
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(feed_n(&r, STARTTLS "<junk", strlen(STARTTLS) + 5,
	    1, &c), XML_FEED_SUSPENDED);
	assert_int_equal(c, strlen(STARTTLS));
	rec_free(&r);

	/* Split in the middle: "...tls'" then "/><junk". */
	rec_init(&r, &lim);
	r.suspend_on = "starttls";
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(xml_stream_feed(r.xs, STARTTLS,
	    strlen(STARTTLS) - 2, &c), XML_FEED_OK);
	assert_int_equal(c, strlen(STARTTLS) - 2);
	assert_int_equal(xml_stream_feed(r.xs, "/><junk", 7, &c),
	    XML_FEED_SUSPENDED);
	assert_int_equal(c, 2);
	rec_free(&r);
}

static void test_suspend_sasl_restart(void **state)
{
	static const size_t steps[] = { 0, 1, 3, 4096 };
	const char *auth = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
	    "mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>";
	const char *rest = HDR "<iq type='set' id='b'>"
	    "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>";
	struct xml_limits lim = default_limits();
	char *doc = cat3(HDR, auth, rest);
	size_t len = strlen(doc);

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t step = steps[i] ? steps[i] : len, off = 0, c, n;
		enum xml_feed rc = XML_FEED_OK;
		struct rec r;

		rec_init(&r, &lim);
		r.suspend_on = "auth";
		/* A caller's loop: feed, and on suspension reset and go on
		 * with the unconsumed bytes. */
		while (off < len) {
			n = len - off < step ? len - off : step;
			rc = xml_stream_feed(r.xs, doc + off, n, &c);
			if (rc == XML_FEED_SUSPENDED) {
				assert_int_equal(off + c,
				    strlen(HDR) + strlen(auth));
				assert_int_equal(r.stanzas, 1);
				xml_stream_reset(r.xs);
				r.suspend_on = NULL;
				assert_true(xml_stream_idle(r.xs));
			} else {
				assert_int_equal(rc, XML_FEED_OK);
				assert_int_equal(c, n);
			}
			off += c;
		}
		assert_int_equal(r.errors, 0);
		assert_int_equal(r.opens, 2);
		assert_int_equal(r.stanzas, 2);
		assert_string_equal(xml_root(r.kept[1])->name, "iq");
		assert_string_equal(xml_first_elem(xml_root(r.kept[1]))->ns,
		    "urn:ietf:params:xml:ns:xmpp-bind");
		rec_free(&r);
	}
	free(doc);
}

static void test_suspend_in_open(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;
	size_t c;

	rec_init(&r, &lim);
	r.suspend_on = "stream";
	assert_int_equal(feed_n(&r, HDR "<presence/>", strlen(HDR) + 11, 0,
	    &c), XML_FEED_SUSPENDED);
	assert_int_equal(c, strlen(HDR));
	assert_int_equal(r.opens, 1);
	assert_int_equal(r.stanzas, 0);
	rec_free(&r);
}

/* ---- volume and text ------------------------------------------------------- */

static void test_many_stanzas(void **state)
{
	struct xml_limits lim = default_limits();
	char *many = repeat("<message to='a@b'><body>x</body></message>\n",
	    5000);
	struct rec r;

	lim.stanza_max = 100;
	assert_int_equal(with_limits(&lim, HDR, many, 0, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 5000);
	assert_int_equal(r.errors, 0);
	assert_true(xml_stream_idle(r.xs));
	rec_free(&r);
	free(many);
}

static void test_text_one_node(void **state)
{
	struct xml_limits lim = default_limits();
	char *text = repeat("abc&amp;&#x263A;\n", 3000);
	char *doc = cat3("<message><body>", text, "</body></message>");
	struct xml_node *body;
	struct buf t = BUF_INIT;
	struct rec r;

	assert_int_equal(with_limits(&lim, HDR, doc, 1, &r), XML_FEED_OK);
	assert_int_equal(r.stanzas, 1);
	body = xml_first_elem(xml_root(r.kept[0]));
	assert_non_null(body->children);
	assert_ptr_equal(body->children, body->last);
	assert_int_equal(body->children->type, XML_TEXT);
	assert_int_equal(body->children->len, 3000 * (4 + 3 + 1));
	xml_text(body, &t);
	assert_int_equal(t.len, 3000 * 8);
	assert_memory_equal(t.data, "abc&\xe2\x98\xba\n", 8);
	rec_free(&r);

	/* Mixed content keeps the order and one node per run. */
	assert_int_equal(with_limits(&lim, HDR,
	    "<m>a<![CDATA[b]]>c<x/>d&lt;e</m>", 1, &r), XML_FEED_OK);
	body = xml_root(r.kept[0]);
	assert_int_equal(body->children->type, XML_TEXT);
	assert_string_equal(body->children->text, "abc");
	assert_string_equal(body->children->next->name, "x");
	assert_string_equal(body->last->text, "d<e");
	assert_ptr_equal(body->children->next->next, body->last);
	rec_free(&r);
	buf_free(&t);
	free(text);
	free(doc);
}

static void test_idle(void **state)
{
	struct xml_limits lim = default_limits();
	struct rec r;

	rec_init(&r, &lim);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, "<?xml version='1.0'?>", 0), XML_FEED_OK);
	assert_false(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, HDR + 21, 0), XML_FEED_OK);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, "<message><bo", 0), XML_FEED_OK);
	assert_false(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, "dy/></message>", 0), XML_FEED_OK);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, " ", 0), XML_FEED_OK);
	assert_true(xml_stream_idle(r.xs));
	assert_int_equal(feed(&r, "<pres", 0), XML_FEED_OK);
	assert_false(xml_stream_idle(r.xs));
	rec_free(&r);
}


/*
 * Hibernation: an idle stream drops its parser and wakes transparently,
 * with the header's namespaces (default, stream prefix, extra prefixes)
 * still in scope, the same limits, and the same byte accounting.
 */
static void test_hibernate_round_trip(void **state)
{
	struct rec r, ref;
	struct xml_limits lim = default_limits();
	const char *hdr = "<s:stream xmlns='jabber:client' "
	    "xmlns:s='http://etherx.jabber.org/streams' xmlns:x='urn:x' "
	    "to='example.com' version='1.0'>";
	const char *st1 = "<message to='a@b'><body>one</body></message>";
	const char *st2 = "<message to='a@b'><x:thing x:k='v'/><body>two"
	    "</body></message>";
	size_t c;

	rec_init(&r, &lim);
	rec_init(&ref, &lim);
	assert_int_equal(feed(&r, hdr, 0), XML_FEED_OK);
	assert_int_equal(feed(&ref, hdr, 0), XML_FEED_OK);
	assert_int_equal(feed(&r, st1, 0), XML_FEED_OK);
	assert_int_equal(feed(&ref, st1, 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);	/* idempotent */
	assert_int_equal(feed(&r, st2, 3), XML_FEED_OK);
	assert_int_equal(feed(&ref, st2, 3), XML_FEED_OK);
	assert_int_equal(r.opens, 1);		/* no second stream_open */
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.stanzas, 2);
	assert_string_equal(buf_str(&r.out), buf_str(&ref.out));
	assert_non_null(strstr(buf_str(&r.out), "<thing xmlns='urn:x'"));
	/* Again, with whitespace keepalives in between, then the close. */
	assert_int_equal(feed(&r, " \n", 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);
	/* The client closes with its own prefix, which the replay kept. */
	assert_int_equal(feed_n(&r, "</s:stream>", 11, 0, &c), XML_FEED_OK);
	assert_int_equal(r.closes, 1);
	rec_free(&r);
	rec_free(&ref);
}

static void test_hibernate_refused_when_busy(void **state)
{
	struct rec r;
	struct xml_limits lim = default_limits();

	rec_init(&r, &lim);
	assert_int_equal(xml_stream_hibernate(r.xs), 0);	/* no header */
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(feed(&r, "<message><body>half", 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 0);	/* partial */
	assert_int_equal(feed(&r, "</body></message>", 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);
	assert_int_equal(r.stanzas, 1);
	rec_free(&r);
}

static void test_hibernate_keeps_limits_and_suspend(void **state)
{
	struct rec r;
	struct xml_limits lim = default_limits();
	char big[12000];
	size_t c;
	const char *tail = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	    "<more/>";

	lim.stanza_max = 10000;
	rec_init(&r, &lim);
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);
	/* consumed is still counted from this call's data. */
	r.suspend_on = "starttls";
	assert_int_equal(feed_n(&r, tail, strlen(tail), 0, &c),
	    XML_FEED_SUSPENDED);
	assert_int_equal(c, strlen(tail) - strlen("<more/>"));
	xml_stream_reset(r.xs);
	r.suspend_on = NULL;
	assert_int_equal(feed(&r, HDR, 0), XML_FEED_OK);
	assert_int_equal(xml_stream_hibernate(r.xs), 1);
	/* The size limit still holds for a stanza that wakes the parser. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "<message><body>", 15);
	assert_int_equal(feed(&r, big, 0), XML_FEED_ERROR);
	assert_int_equal(r.err, XML_ERR_POLICY);
	rec_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_stanzas_close),
		cmocka_unit_test(test_split_feeds_identical),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_no_default_ns),
		cmocka_unit_test(test_xml_prefixed_element),
		cmocka_unit_test(test_escaping_round_trip),
		cmocka_unit_test(test_serializer_exact),
		cmocka_unit_test(test_tree_accessors),
		cmocka_unit_test(test_stanza_copy),
		cmocka_unit_test(test_deep_tree_by_code),
		cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_not_well_formed),
		cmocka_unit_test(test_text_at_stream_level),
		cmocka_unit_test(test_invalid_ns),
		cmocka_unit_test(test_error_once),
		cmocka_unit_test(test_stanza_max),
		cmocka_unit_test(test_stanza_max_big),
		cmocka_unit_test(test_stanza_max_unfinished),
		cmocka_unit_test(test_keepalives_not_counted),
		cmocka_unit_test(test_header_max),
		cmocka_unit_test(test_depth_max),
		cmocka_unit_test(test_attrs_max),
		cmocka_unit_test(test_suspend_starttls),
		cmocka_unit_test(test_suspend_sasl_restart),
		cmocka_unit_test(test_suspend_in_open),
		cmocka_unit_test(test_many_stanzas),
		cmocka_unit_test(test_text_one_node),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_hibernate_round_trip),
		cmocka_unit_test(test_hibernate_refused_when_busy),
		cmocka_unit_test(test_hibernate_keeps_limits_and_suspend),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
