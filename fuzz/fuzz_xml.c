/*
 * fuzz_xml.c - libFuzzer target for the XML stream parser, the tree copy
 * and the serializer.
 *
 * The first input byte picks how the rest is cut into feeds (all at once,
 * fixed sizes, single bytes, or pseudo-random sizes).  A stanza named
 * "starttls" suspends the stream, which is then reset and fed the rest, as
 * the STARTTLS and SASL code above does.  Besides the sanitizers, these
 * invariants abort on violation:
 *   - no callback after an error or a suspension until the reset;
 *   - at most one error callback per stream document;
 *   - *consumed never exceeds what was fed;
 *   - a stanza, its xml_stanza_copy() and the stanza parsed back from its
 *     serialization all serialize to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "xml/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_HDR "<stream:stream xmlns='jabber:client' " \
	"xmlns:stream='http://etherx.jabber.org/streams'>"

struct fz {
	struct xml_stream	*xs;
	int			 stopped;	/* error or suspension seen */
	int			 errors;
	struct buf		 out;
};

/* The round-trip checker: a second, roomy stream. */
struct checker {
	int			 stanzas;
	int			 errors;
	struct buf		 out;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static void ck_open(void *ud, const struct xml_node *hdr, const char *dns)
{
}

static void ck_stanza(void *ud, struct xml_stanza *st)
{
	struct checker *ck = ud;

	ck->stanzas++;
	xml_serialize(xml_root(st), "jabber:client", &ck->out);
	xml_stanza_free(st);
}

static void ck_close(void *ud)
{
}

static void ck_error(void *ud, enum xml_error err, const char *text)
{
	struct checker *ck = ud;

	ck->errors++;
}

static void round_trip(const struct buf *ser)
{
	static const struct xml_stream_cb cb = {
		ck_open, ck_stanza, ck_close, ck_error
	};
	/* Escaping and xmlns declarations may grow a stanza a few times. */
	struct xml_limits lim = { 16u * 1024 * 1024, 4096, 256, 1024 };
	struct checker ck;
	struct xml_stream *xs;

	memset(&ck, 0, sizeof(ck));
	buf_init(&ck.out);
	xs = xml_stream_new(&lim, &cb, &ck);
	check(xml_stream_feed(xs, CHECK_HDR, strlen(CHECK_HDR), NULL) ==
	    XML_FEED_OK);
	check(xml_stream_feed(xs, ser->data, ser->len, NULL) == XML_FEED_OK);
	check(ck.errors == 0 && ck.stanzas == 1);
	check(ck.out.len == ser->len &&
	    memcmp(ck.out.data, ser->data, ser->len) == 0);
	xml_stream_free(xs);
	buf_free(&ck.out);
}

static void fz_open(void *ud, const struct xml_node *hdr, const char *dns)
{
	struct fz *f = ud;

	check(!f->stopped);
	check(strcmp(hdr->ns, XML_NS_STREAM) == 0);
	buf_reset(&f->out);
	xml_serialize(hdr, dns, &f->out);
}

static void fz_stanza(void *ud, struct xml_stanza *st)
{
	struct fz *f = ud;
	struct xml_stanza *cp;
	struct buf b = BUF_INIT;

	check(!f->stopped);
	buf_reset(&f->out);
	xml_serialize(xml_root(st), "jabber:client", &f->out);
	cp = xml_stanza_copy(st);
	xml_serialize(xml_root(cp), "jabber:client", &b);
	check(b.len == f->out.len && memcmp(b.data, f->out.data, b.len) == 0);
	xml_stanza_free(cp);
	buf_free(&b);
	round_trip(&f->out);
	if (strcmp(xml_root(st)->name, "starttls") == 0) {
		xml_stream_suspend(f->xs);
		f->stopped = 1;
	}
	xml_stanza_free(st);
}

static void fz_close(void *ud)
{
	struct fz *f = ud;

	check(!f->stopped);
}

static void fz_error(void *ud, enum xml_error err, const char *text)
{
	struct fz *f = ud;

	check(!f->stopped);
	check(text != NULL && *text != '\0');
	f->errors++;
	check(f->errors == 1);
	f->stopped = 1;
}

/* Size of the next feed, from the pattern byte and a little state. */
static size_t next_step(uint8_t pat, uint32_t *rng)
{
	switch (pat & 3) {
	case 0:
		return SIZE_MAX;
	case 1:
		return (size_t)(pat >> 2) + 1;
	case 2:
		return 1;
	default:
		*rng = *rng * 1103515245u + 12345u;
		return (*rng >> 16) % 300 + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xml_stream_cb cb = {
		fz_open, fz_stanza, fz_close, fz_error
	};
	struct xml_limits lim = { 4096, 1024, 16, 16 };
	struct fz f;
	const char *p;
	size_t off = 0, n, consumed;
	uint32_t rng;
	uint8_t pat;
	int resets = 0;
	enum xml_feed rc;

	if (size == 0)
		return 0;
	pat = data[0];
	rng = pat;
	p = (const char *)data + 1;
	size--;
	memset(&f, 0, sizeof(f));
	buf_init(&f.out);
	f.xs = xml_stream_new(&lim, &cb, &f);
	while (off < size) {
		n = next_step(pat, &rng);
		if (n > size - off)
			n = size - off;
		rc = xml_stream_feed(f.xs, p + off, n, &consumed);
		switch (rc) {
		case XML_FEED_OK:
			check(consumed == n);
			off += n;
			/* Patterns with the top bit hibernate whenever the
			 * stream allows it, so waking is fuzzed too. */
			if (pat & 0x80)
				(void)xml_stream_hibernate(f.xs);
			break;
		case XML_FEED_SUSPENDED:
			check(consumed <= n);
			off += consumed;
			xml_stream_reset(f.xs);
			f.stopped = 0;
			break;
		case XML_FEED_ERROR:
			check(f.errors == 1);
			/* Exercise reset after an error, a bounded number of
			 * times, skipping the chunk that failed. */
			if (++resets > 4)
				goto out;
			off += n;
			xml_stream_reset(f.xs);
			f.stopped = 0;
			f.errors = 0;
			break;
		}
	}
out:
	xml_stream_free(f.xs);
	buf_free(&f.out);
	return 0;
}
