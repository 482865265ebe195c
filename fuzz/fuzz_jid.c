/*
 * fuzz_jid.c - libFuzzer target for JID parsing (xmpp/jid.c).
 *
 * Normalisation must be idempotent: a parsed JID, printed and parsed
 * again, must give the same JID and the same text; otherwise two spellings
 * of one address could reach different accounts or sessions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "xmpp/jid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text (which must succeed) and checks it against j. */
static void reparse(const struct jid *j, const struct buf *text, int full)
{
	struct jid k;
	struct buf again = BUF_INIT;

	if (jid_parse(buf_str(text), &k) != 0)
		abort();
	if (full ? !jid_full_eq(j, &k) : !jid_bare_eq(j, &k))
		abort();
	if (!full && k.resource != NULL)
		abort();
	if (full)
		jid_full_str(&k, &again);
	else
		jid_bare_str(&k, &again);
	if (strcmp(buf_str(&again), buf_str(text)) != 0)
		abort();
	buf_free(&again);
	jid_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	struct jid j, c;
	struct buf full = BUF_INIT, bare = BUF_INIT;

	if (jid_parse(s, &j) != 0) {
		if (j.local != NULL || j.domain != NULL || j.resource != NULL)
			abort();
		free(s);
		return 0;
	}
	jid_full_str(&j, &full);
	jid_bare_str(&j, &bare);
	reparse(&j, &full, 1);
	reparse(&j, &bare, 0);
	/* building from the parts gives the same JID */
	if (jid_make(j.local, j.domain, j.resource, &c) != 0 ||
	    !jid_full_eq(&j, &c))
		abort();
	jid_free(&c);
	if (j.local != NULL) {
		char *p = jid_localpart_prep(j.local);

		if (p == NULL || strcmp(p, j.local) != 0)
			abort();
		free(p);
	}
	buf_free(&full);
	buf_free(&bare);
	jid_free(&j);
	free(s);
	return 0;
}
