/* cmd_user.c - parleyctl user add|delete|passwd|list: accounts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "parleyctl/ctl.h"
#include "xmpp/account.h"
#include "xmpp/scram.h"

/* Terminal state to restore if a signal arrives while echo is off. */
static struct termios saved_tio;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Reads one line from fd into buf (read(2) byte by byte, so that no stdio
 * buffer keeps a copy of the password).  Returns its length without the
 * line end, -1 on EOF before any byte, -2 if longer than PARLEY_PASSWORD_MAX,
 * -3 on a read error, -4 on a NUL byte.
 */
static long read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	int too_long = 0, nul = 0, any = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -3;
		if (r == 0)
			break;
		any = 1;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = 1;
		if (n < cap)
			buf[n++] = c;
		else
			too_long = 1;
	}
	wipe(&c, sizeof(c));
	if (!any)
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (too_long || n > PARLEY_PASSWORD_MAX)
		return -2;
	if (nul)
		return -4;
	buf[n] = '\0';
	return (long)n;
}

/* Reads a password with the terminal's echo off, prompting on stderr. */
static long read_tty_password(int fd, const char *prompt, char *buf,
    size_t cap)
{
	struct termios tio;
	struct sigaction sa, old[4];
	static const int sigs[4] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP };
	long n;
	int i;

	if (tcgetattr(fd, &saved_tio) != 0)
		die(RC_ERR, "cannot read the terminal: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_tty;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	tty_fd = fd;
	tio = saved_tio;
	tio.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	tio.c_lflag |= ECHONL;
	fputs(prompt, stderr);
	fflush(stderr);
	if (tcsetattr(fd, TCSAFLUSH, &tio) != 0)
		die(RC_ERR, "cannot turn off echo: %s", strerror(errno));
	n = read_line(fd, buf, cap);
	tcsetattr(fd, TCSAFLUSH, &saved_tio);
	tty_fd = -1;
	for (i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return n;
}

static void password_error(long n, char *a, char *b, size_t cap)
{
	wipe(a, cap);
	if (b != NULL)
		wipe(b, cap);
	switch (n) {
	case -1:
		die(RC_ERR, "no password given (end of input)");
	case -2:
		die(RC_ERR, "password longer than %u bytes",
		    PARLEY_PASSWORD_MAX);
	case -4:
		die(RC_ERR, "password contains a NUL byte");
	default:
		die(RC_ERR, "cannot read the password: %s",
		    strerror(errno));
	}
}

/*
 * Fills pw (cap bytes, NUL-terminated) with the new password: asked twice
 * on a terminal, or one line of standard input otherwise.
 */
static size_t get_password(char *pw, size_t cap)
{
	char again[PARLEY_PASSWORD_MAX + 2];
	long n, m;

	if (!isatty(STDIN_FILENO)) {
		n = read_line(STDIN_FILENO, pw, cap - 1);
		if (n < 0)
			password_error(n, pw, NULL, cap);
	} else {
		n = read_tty_password(STDIN_FILENO, "Password: ", pw, cap - 1);
		if (n < 0)
			password_error(n, pw, NULL, cap);
		m = read_tty_password(STDIN_FILENO, "Again: ", again,
		    sizeof(again) - 1);
		if (m < 0)
			password_error(m, pw, again, cap);
		if (m != n || memcmp(pw, again, (size_t)n) != 0) {
			wipe(pw, cap);
			wipe(again, sizeof(again));
			die(RC_ERR, "passwords do not match");
		}
		wipe(again, sizeof(again));
	}
	if (n == 0) {
		wipe(pw, cap);
		die(RC_ERR, "empty password refused");
	}
	return (size_t)n;
}

static void make_creds(const struct config *cfg, struct scram_creds *sha1,
    struct scram_creds *sha256)
{
	char pw[PARLEY_PASSWORD_MAX + 2];
	size_t len = get_password(pw, sizeof(pw));
	int rc;

	/* The one way accounts get credentials (XEP-0077 and XEP-0133
	 * make them with it too). */
	rc = account_creds_make(pw, len, cfg->scram_iterations, sha1, sha256);
	wipe(pw, sizeof(pw));
	if (rc != 0)
		die(RC_ERR, "cannot derive the SCRAM credentials");
}

struct list_ctx {
	const char	*domain;
};

static void list_one(void *ud, const char *localpart)
{
	struct list_ctx *lc = ud;

	printf("%s@%s\n", localpart, lc->domain);
}

int cmd_user(struct ctl *c, int argc, char **argv)
{
	struct scram_creds sha1, sha256;
	struct store *st;
	enum store_rc rc;
	const char *cmd, *arg = NULL;
	char *lp = NULL;
	int ex = RC_OK;

	if (argc < 2)
		ctl_usage("user");
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0) {
		if (argc != 2)
			ctl_usage("user");
	} else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "passwd") == 0) {
		if (argc != 3)
			ctl_usage("user");
		arg = argv[2];
	} else
		ctl_usage("user");

	if (arg != NULL) {
		lp = account_localpart(&c->cfg, arg);
		/* jid.c keeps non-ASCII as given, without PRECIS mapping, so
		 * two spellings of one name could become two accounts. */
		if (strcmp(cmd, "add") == 0 && !is_ascii(lp))
			die(RC_BADJID, "%s: only ASCII localparts are "
			    "supported", shown(arg));
	}
	st = ctl_store(c);

	if (strcmp(cmd, "list") == 0) {
		struct list_ctx lc = { c->cfg.domain };

		ex = store_fail(st, store_user_list(st, list_one, &lc), NULL,
		    NULL);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = store_user_delete(st, lp);
		ex = store_fail(st, rc, lp, c->cfg.domain);
		if (ex == RC_OK)
			printf("deleted %s@%s\n", lp, c->cfg.domain);
	} else {
		int add = strcmp(cmd, "add") == 0;

		/* Fail before asking for a password that would be wasted;
		 * the write below still catches a race. */
		rc = store_user_exists(st, lp);
		if (add && rc == STORE_OK)
			rc = STORE_EXISTS;
		else if (add && rc == STORE_NOT_FOUND)
			rc = STORE_OK;
		ex = store_fail(st, rc, lp, c->cfg.domain);
		if (ex == RC_OK) {
			make_creds(&c->cfg, &sha1, &sha256);
			rc = add ? store_user_create(st, lp, &sha1, &sha256) :
			    store_user_set_creds(st, lp, &sha1, &sha256);
			wipe(&sha1, sizeof(sha1));
			wipe(&sha256, sizeof(sha256));
			ex = store_fail(st, rc, lp, c->cfg.domain);
			if (ex == RC_OK)
				printf("%s %s@%s\n", add ? "added" :
				    "changed password of", lp, c->cfg.domain);
		}
	}
	free(lp);
	return ex;
}
