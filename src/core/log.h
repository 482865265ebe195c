/*
 * log.h - one line per event on stderr, with a level.
 *
 * Levels have fixed meanings: debug (protocol tracing, off by default), info
 * (one line per ordinary event: connect, login, logout), warn (something a
 * peer did wrong or a recoverable local problem), error (a local fault the
 * admin must fix).  fatal() is for a broken environment at start-up (bad
 * config, unreadable key): it logs and exits 1.
 *
 * Never pass message bodies, passwords or keys.  Bytes that came from a peer
 * go through log_escape() first so that they cannot forge log lines.
 */
#ifndef PARLEY_CORE_LOG_H
#define PARLEY_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void	log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn" or "error"; returns 0, or -1 if unknown. */
int	log_level_parse(const char *s, enum log_level *out);
void	log_msg(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/*
 * Copies at most srclen bytes of src into dst as printable ASCII, escaping
 * everything else as \xNN, truncating with "..." to fit dstlen (>= 8).
 * Returns dst.
 */
char	*log_escape(char *dst, size_t dstlen, const char *src, size_t srclen);

#define log_debug(...)	do { if (log_get_level() <= LOG_DEBUG) \
				log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif
