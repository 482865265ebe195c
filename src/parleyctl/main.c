/* main.c - parleyctl, the admin tool (uses config.h, store.h, jid.h). */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/limits.h"
#include "core/log.h"
#include "store/store.h"
#include "xmpp/jid.h"
#include "xmpp/scram.h"

#define RC_OK		0
#define RC_ERR		1
#define RC_USAGE	2
#define RC_EXISTS	3
#define RC_NOTFOUND	4
#define RC_BADJID	5

#define USAGE	"usage: parleyctl [-c FILE] user add|delete|passwd|list [JID]"

static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static void complain(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void complain(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One error, one line, whatever the message carries. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "parleyctl: %s\n", line);
}

static void die(int code, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	complain("%s", line);
	exit(code);
}

static void usage(void)
{
	die(RC_USAGE, "%s", USAGE);
}

/* The argument as printable text, so an error stays one line. */
static const char *shown(const char *s)
{
	static char out[256];

	return log_escape(out, sizeof(out), s, strlen(s));
}

/* mkdir -p, creating missing directories with mode 0700. */
static int mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;
	struct stat sb;
	int ret = -1;

	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			complain("cannot create %s: %s", shown(p),
			    strerror(errno));
			goto out;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		complain("%s: not a directory", shown(path));
		goto out;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

/*
 * Turns the JID argument into a normalised localpart of this server.
 * "alice" is taken as a localpart; anything with '@' or '/' must be a
 * bare JID on our domain.
 */
static char *account_localpart(const struct config *cfg, const char *arg)
{
	struct jid j;
	char *lp;

	if (strchr(arg, '@') == NULL && strchr(arg, '/') == NULL) {
		if ((lp = jid_localpart_prep(arg)) == NULL)
			die(RC_BADJID, "%s: bad JID", shown(arg));
		return lp;
	}
	if (jid_parse(arg, &j) != 0)
		die(RC_BADJID, "%s: bad JID", shown(arg));
	if (j.resource != NULL || j.local == NULL) {
		jid_free(&j);
		die(RC_BADJID, "%s: bad JID (expected user or user@%s)",
		    shown(arg), cfg->domain);
	}
	if (strcmp(j.domain, cfg->domain) != 0) {
		jid_free(&j);
		die(RC_BADJID, "%s: not this server's domain (%s)",
		    shown(arg), cfg->domain);
	}
	lp = xstrdup(j.local);
	jid_free(&j);
	return lp;
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

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

	rc = scram_creds_make(SCRAM_SHA1, pw, len, cfg->scram_iterations,
	    sha1);
	if (rc == 0)
		rc = scram_creds_make(SCRAM_SHA256, pw, len,
		    cfg->scram_iterations, sha256);
	wipe(pw, sizeof(pw));
	if (rc != 0)
		die(RC_ERR, "cannot derive the SCRAM credentials");
}

static int store_fail(struct store *st, enum store_rc rc, const char *lp,
    const char *domain)
{
	switch (rc) {
	case STORE_OK:
		return RC_OK;
	case STORE_EXISTS:
		complain("%s@%s: account exists", lp, domain);
		return RC_EXISTS;
	case STORE_NOT_FOUND:
		complain("%s@%s: no such account", lp, domain);
		return RC_NOTFOUND;
	case STORE_FULL:
	case STORE_ERR:
		break;
	}
	complain("database: %s", store_errmsg(st));
	return RC_ERR;
}

struct list_ctx {
	const char	*domain;
};

static void list_one(void *ud, const char *localpart)
{
	struct list_ctx *lc = ud;

	printf("%s@%s\n", localpart, lc->domain);
}

int main(int argc, char *argv[])
{
	struct scram_creds sha1, sha256;
	struct config cfg;
	struct store *st;
	enum store_rc rc;
	const char *conf = NULL, *cmd, *arg = NULL;
	char err[512], *lp = NULL;
	int ch, ex = RC_OK;

	/* getopt's own messages would make a second line. */
	opterr = 0;
	while ((ch = getopt(argc, argv, "+c:h")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'h':
			printf("%s\n", USAGE);
			return RC_OK;
		default:
			if (optopt == 'c')
				die(RC_USAGE, "-c needs a FILE; %s", USAGE);
			die(RC_USAGE, "-%c: unknown option; %s",
			    isprint(optopt) ? optopt : '?', USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || strcmp(argv[0], "user") != 0)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "list") == 0) {
		if (argc != 2)
			usage();
	} else if (strcmp(cmd, "add") == 0 || strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "passwd") == 0) {
		if (argc != 3)
			usage();
		arg = argv[2];
	} else
		usage();

	/* Same defaults and file as parleyd, so both find one database. */
	config_defaults(&cfg);
	if (conf != NULL && config_load(&cfg, conf, err, sizeof(err)) != 0)
		die(RC_ERR, "%s", err);
	if (config_finish(&cfg, err, sizeof(err)) != 0)
		die(RC_ERR, "%s: %s", conf ? conf : "defaults", err);

	if (arg != NULL) {
		lp = account_localpart(&cfg, arg);
		/* jid.c keeps non-ASCII as given, without PRECIS mapping, so
		 * two spellings of one name could become two accounts. */
		if (strcmp(cmd, "add") == 0 && !is_ascii(lp))
			die(RC_BADJID, "%s: only ASCII localparts are "
			    "supported", shown(arg));
	}

	if (mkdirs(cfg.data_dir) != 0)
		return RC_ERR;
	if ((st = store_open(cfg.database, err, sizeof(err))) == NULL)
		die(RC_ERR, "%s", err);

	if (strcmp(cmd, "list") == 0) {
		struct list_ctx lc = { cfg.domain };

		ex = store_fail(st, store_user_list(st, list_one, &lc), NULL,
		    NULL);
	} else if (strcmp(cmd, "delete") == 0) {
		rc = store_user_delete(st, lp);
		ex = store_fail(st, rc, lp, cfg.domain);
		if (ex == RC_OK)
			printf("deleted %s@%s\n", lp, cfg.domain);
	} else {
		int add = strcmp(cmd, "add") == 0;

		/* Fail before asking for a password that would be wasted;
		 * the write below still catches a race. */
		rc = store_user_exists(st, lp);
		if (add && rc == STORE_OK)
			rc = STORE_EXISTS;
		else if (add && rc == STORE_NOT_FOUND)
			rc = STORE_OK;
		ex = store_fail(st, rc, lp, cfg.domain);
		if (ex == RC_OK) {
			make_creds(&cfg, &sha1, &sha256);
			rc = add ? store_user_create(st, lp, &sha1, &sha256) :
			    store_user_set_creds(st, lp, &sha1, &sha256);
			wipe(&sha1, sizeof(sha1));
			wipe(&sha256, sizeof(sha256));
			ex = store_fail(st, rc, lp, cfg.domain);
			if (ex == RC_OK)
				printf("%s %s@%s\n", add ? "added" :
				    "changed password of", lp, cfg.domain);
		}
	}
	store_close(st);
	free(lp);
	config_free(&cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		complain("cannot write output: %s", strerror(errno));
		return RC_ERR;
	}
	return ex;
}
