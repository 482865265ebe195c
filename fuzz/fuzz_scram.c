/*
 * fuzz_scram.c - libFuzzer target for the SCRAM server (xmpp/scram.c).
 *
 * The input is client-first-message, a 0x00 byte, then client-final-message
 * (no 0x00: the final message is empty).  Each input runs four exchanges:
 * SHA-1 and SHA-256, each with a real "pencil" account (salt and server
 * nonce of the RFC 5802 / RFC 7677 examples, so those exchanges succeed)
 * and with an unknown user, which must never succeed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "xmpp/scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scram_creds creds[2];
static int ready;

static const unsigned char salt5802[] = {	/* QSXCR+Q6sek8bf92 */
	0x41, 0x25, 0xc2, 0x47, 0xe4, 0x3a, 0xb1, 0xe9,
	0x3c, 0x6d, 0xff, 0x76,
};
static const unsigned char salt7677[] = {	/* W22ZaJ0SNY7soEsUEjb6gQ== */
	0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
	0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81,
};
static const char *snonce[2] = {
	"3rfcNHYJY1ZVvWVs7j", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
};

/* PBKDF2 runs once, not per input, so the fuzzer stays fast. */
static void setup(void)
{
	if (ready)
		return;
	if (scram_creds_make_with_salt(SCRAM_SHA1, "pencil", 6, salt5802,
	    sizeof(salt5802), 4096, &creds[0]) != 0 ||
	    scram_creds_make_with_salt(SCRAM_SHA256, "pencil", 6, salt7677,
	    sizeof(salt7677), 4096, &creds[1]) != 0)
		abort();
	ready = 1;
}

static void exchange(enum scram_hash h, const struct scram_creds *c,
    const char *fixed, const uint8_t *first, size_t flen,
    const uint8_t *final, size_t finlen)
{
	struct scram_server *s = scram_server_new(h);
	struct buf out = BUF_INIT;
	const char *user = NULL;
	enum scram_rc rc;

	rc = scram_server_client_first(s, (const char *)first, flen, &user);
	if (rc != SCRAM_OK)
		goto done;
	if (user == NULL || strlen(user) == 0)
		abort();
	if (fixed != NULL)
		scram_server_set_nonce(s, fixed);
	if (scram_server_first(s, c, 4096, &out) != SCRAM_OK)
		abort();
	buf_reset(&out);
	rc = scram_server_client_final(s, (const char *)final, finlen, &out);
	if (rc == SCRAM_OK && (c == NULL || strncmp(buf_str(&out), "v=", 2)))
		abort();
	if (rc != SCRAM_OK && out.len != 0)
		abort();
	/* every exchange ends after its last step, whatever the outcome */
	if (scram_server_client_final(s, (const char *)final, finlen, &out) !=
	    SCRAM_ERR_STATE)
		abort();
done:
	buf_free(&out);
	scram_server_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *final = nul != NULL ? nul + 1 : data + size;
	size_t finlen = size - flen - (nul != NULL);
	int i;

	setup();
	for (i = 0; i < 2; i++) {
		enum scram_hash h = i == 0 ? SCRAM_SHA1 : SCRAM_SHA256;

		exchange(h, &creds[i], snonce[i], data, flen, final, finlen);
		exchange(h, NULL, NULL, data, flen, final, finlen);
	}
	return 0;
}
