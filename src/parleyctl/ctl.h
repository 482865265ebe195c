/*
 * ctl.h - what every parleyctl command shares: exit codes, one-line errors,
 * the loaded configuration and the database.
 *
 * A command is a row in the table in main.c: its name (the first word
 * after the options), a usage fragment, and a function that gets the
 * words after its name.  It returns an RC_* code; a fatal error may also
 * end the process through die(), which prints one line on stderr.
 * Commands that need the database call ctl_store(); main.c closes it.
 */
#ifndef PARLEY_PARLEYCTL_CTL_H
#define PARLEY_PARLEYCTL_CTL_H

#include <stddef.h>

#include "core/config.h"
#include "store/store.h"

#define RC_OK		0
#define RC_ERR		1
#define RC_USAGE	2
#define RC_EXISTS	3
#define RC_NOTFOUND	4
#define RC_BADJID	5
#define RC_RISKY	6	/* check: a risky setting */

struct ctl {
	struct config	 cfg;		/* defaults + -c FILE, finished */
	const char	*conf;		/* the -c FILE, or NULL */
	struct store	*st;		/* opened by ctl_store() */
};

struct ctl_cmd {
	const char	*name;		/* or two: "user policy" */
	const char	*usage;		/* "user add|delete|passwd|list [JID]" */
	int		(*run)(struct ctl *c, int argc, char **argv);
};

void	 complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	 die(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* The usage of one command (or of all: NULL), as one line. */
void	 ctl_usage_line(char *line, size_t cap, const char *cmd);
/* Dies with RC_USAGE and that line. */
void	 ctl_usage(const char *cmd) __attribute__((noreturn));
/* The argument as printable text, so that an error stays one line. */
const char *shown(const char *s);
/* The database named by the configuration, created if missing. */
struct store *ctl_store(struct ctl *c);
/* A JID argument ("alice" or "alice@DOMAIN") as a normalised localpart of
 * this server (malloc'd); dies with RC_BADJID otherwise. */
char	*account_localpart(const struct config *cfg, const char *arg);
int	 is_ascii(const char *s);
/* Maps a store result to an exit code, printing why when it is not OK. */
int	 store_fail(struct store *st, enum store_rc rc, const char *lp,
	    const char *domain);

extern const struct ctl_cmd ctl_cmds[];

int	 cmd_user(struct ctl *c, int argc, char **argv);
int	 cmd_check(struct ctl *c, int argc, char **argv);
int	 cmd_user_policy(struct ctl *c, int argc, char **argv);
int	 cmd_invite(struct ctl *c, int argc, char **argv);
int	 cmd_reports(struct ctl *c, int argc, char **argv);
int	 cmd_top(struct ctl *c, int argc, char **argv);
int	 cmd_user_group(struct ctl *c, int argc, char **argv);
int	 cmd_groups(struct ctl *c, int argc, char **argv);
int	 cmd_audit(struct ctl *c, int argc, char **argv);
int	 cmd_backup(struct ctl *c, int argc, char **argv);
int	 cmd_restore(struct ctl *c, int argc, char **argv);
int	 cmd_archive_export(struct ctl *c, int argc, char **argv);
int	 cmd_archive_purge(struct ctl *c, int argc, char **argv);

#endif
