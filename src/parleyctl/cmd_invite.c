/*
 * cmd_invite.c - parleyctl invite [--uses N] [--expires DURATION] | list |
 * revoke TOKEN|ID: invitations to register ([register] mode = invite).
 *
 * A new invitation is printed once, as "key: value" lines: the XEP-0401
 * URI (xmpp:DOMAIN?register;preauth=TOKEN) to hand to the invitee, the
 * token, its id, its uses and its expiry.  Only the token's hash is
 * stored (store/invite.h), so a lost token cannot be shown again: revoke
 * it by id and make another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/isotime.h"
#include "parleyctl/ctl.h"
#include "store/invite.h"

#define DEFAULT_EXPIRY_S	(7 * 86400)
#define MAX_EXPIRY_S		(366 * 86400)
#define MAX_USES		1000000

/* "7d", "12h", "30m", "90s" -> seconds, 1 s to 366 days; -1 if not.  The
 * unit is required: a bare "7" is more likely a mistaken 7d than 7 s. */
static long parse_expiry(const char *s)
{
	unsigned long long v;
	size_t n = strlen(s);

	if (n == 0 || strchr("smhd", s[n - 1]) == NULL ||
	    config_parse_duration(s, MAX_EXPIRY_S, &v) != 0 || v == 0)
		return -1;
	return (long)v;
}

/* A positive decimal up to max, or -1. */
static long parse_count(const char *s, long max)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v > 0 ? v : -1;
}

static const char *utc(int64_t t, char *out, size_t cap)
{
	iso_time_str(t * 1000, 0, out, cap);
	return out;
}

static int create(struct ctl *c, int argc, char **argv)
{
	long uses = 1, expiry = DEFAULT_EXPIRY_S;
	char token[INVITE_TOKEN_LEN + 1], when[32];
	unsigned char hash[INVITE_HASH_LEN];
	struct store *st;
	int64_t id, expires;
	int ex;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (strcmp(opt, "--uses") == 0 && val != NULL) {
			if ((uses = parse_count(val, MAX_USES)) < 0)
				die(RC_USAGE, "--uses %s: must be a number "
				    "from 1 to %d", shown(val), MAX_USES);
			i++;
		} else if (strcmp(opt, "--expires") == 0 && val != NULL) {
			if ((expiry = parse_expiry(val)) < 0)
				die(RC_USAGE, "--expires %s: must be a "
				    "duration such as 90s, 30m, 12h or 7d, at "
				    "most 366d", shown(val));
			i++;
		} else if (strcmp(opt, "--uses") == 0 ||
		    strcmp(opt, "--expires") == 0) {
			die(RC_USAGE, "%s needs a value", opt);
		} else {
			die(RC_USAGE, "%s: unknown argument (usage: parleyctl "
			    "invite [--uses N] [--expires 7d])", shown(opt));
		}
	}
	if (c->cfg.register_mode != REGISTER_INVITE)
		complain("warning: [register] mode is not invite; parleyd "
		    "accepts no invitations until it is");
	st = ctl_store(c);
	if (invite_token_new(token) != 0)
		die(RC_ERR, "cannot get random bytes for the token");
	invite_token_hash(token, strlen(token), hash);
	expires = (int64_t)time(NULL) + expiry;
	ex = store_fail(st, store_invite_add(st, hash, (unsigned)uses,
	    expires, &id), NULL, NULL);
	if (ex == RC_OK) {
		printf("uri: xmpp:%s?register;preauth=%s\n", c->cfg.domain,
		    token);
		printf("token: %s\n", token);
		printf("id: %lld\n", (long long)id);
		printf("uses: %ld\n", uses);
		printf("expires: %s\n", utc(expires, when, sizeof(when)));
	}
	memset(token, 0, sizeof(token));
	return ex;
}

static void list_one(void *ud, const struct invite_info *inv)
{
	int64_t now = *(const int64_t *)ud;
	char created[32], expires[32];
	const char *state = inv->revoked ? "revoked" :
	    inv->uses_left == 0 ? "used" :
	    inv->expires <= now ? "expired" : "active";

	printf("%lld %s uses_left=%u used=%u created=%s expires=%s\n",
	    (long long)inv->id, state, inv->uses_left, inv->used,
	    utc(inv->created, created, sizeof(created)),
	    utc(inv->expires, expires, sizeof(expires)));
}

static int revoke(struct ctl *c, const char *arg)
{
	unsigned char hash[INVITE_HASH_LEN];
	struct store *st = ctl_store(c);
	enum store_rc rc;
	long id = -1;

	/* Ids are short numbers; tokens are 26 base32 characters. */
	if (strlen(arg) < 16) {
		if ((id = parse_count(arg, 0x7fffffffL)) < 0)
			die(RC_USAGE, "%s: not an invitation id or token",
			    shown(arg));
		rc = store_invite_revoke(st, id, NULL);
	} else {
		invite_token_hash(arg, strlen(arg), hash);
		rc = store_invite_revoke(st, 0, hash);
	}
	if (rc == STORE_NOT_FOUND) {
		complain("%s: no such invitation", shown(arg));
		return RC_NOTFOUND;
	}
	if (rc != STORE_OK)
		return store_fail(st, rc, NULL, NULL);
	printf("revoked invitation %s\n", id >= 0 ? arg : "(by token)");
	return RC_OK;
}

int cmd_invite(struct ctl *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		int64_t now = (int64_t)time(NULL);
		struct store *st;

		if (argc != 2)
			ctl_usage("invite");
		st = ctl_store(c);
		return store_fail(st, store_invite_list(st, list_one, &now),
		    NULL, NULL);
	}
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0) {
		if (argc != 3)
			ctl_usage("invite");
		return revoke(c, argv[2]);
	}
	return create(c, argc, argv);
}
