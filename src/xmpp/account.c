/* account.c - see account.h. */
#include "xmpp/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/utf8.h"
#include "xmpp/jid.h"

char *account_name_prep(const char *name, const char **why)
{
	char *lp;

	if (name[0] == '\0') {
		*why = "the username is empty";
		return NULL;
	}
	if ((lp = jid_localpart_prep(name)) == NULL) {
		*why = "that username is not a valid JID localpart (no "
		    "spaces, no \" & ' / : < > @, at most 1023 bytes)";
		return NULL;
	}
	for (const char *p = lp; *p; p++)
		if ((unsigned char)*p >= 0x80) {
			free(lp);
			*why = "only ASCII usernames are supported";
			return NULL;
		}
	return lp;
}

int account_password_check(const char *pw, size_t len, unsigned min_chars,
    char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)pw;
	size_t chars = 0, n;
	unsigned long cp;

	if (len > PARLEY_PASSWORD_MAX) {
		snprintf(why, whylen, "the password is too long (at most %u "
		    "bytes)", PARLEY_PASSWORD_MAX);
		return -1;
	}
	while (len > 0) {
		if ((n = utf8_decode(p, len, &cp)) == 0) {
			snprintf(why, whylen, "the password is not valid "
			    "UTF-8");
			return -1;
		}
		/* Control characters cannot be typed at a login prompt. */
		if (cp < 0x20 || cp == 0x7f) {
			snprintf(why, whylen, "the password contains a "
			    "control character");
			return -1;
		}
		chars++;
		p += n;
		len -= n;
	}
	if (chars == 0 || chars < min_chars) {
		snprintf(why, whylen, "the password is too short (at least "
		    "%u characters)", min_chars ? min_chars : 1);
		return -1;
	}
	return 0;
}

int account_creds_make(const char *pw, size_t len, unsigned iterations,
    struct scram_creds *sha1, struct scram_creds *sha256)
{
	if (scram_creds_make(SCRAM_SHA1, pw, len, iterations, sha1) != 0 ||
	    scram_creds_make(SCRAM_SHA256, pw, len, iterations, sha256) != 0) {
		wipe(sha1, sizeof(*sha1));
		wipe(sha256, sizeof(*sha256));
		return -1;
	}
	return 0;
}
