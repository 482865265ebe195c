/*
 * clamd.h - virus scans by ClamAV's clamd over its unix socket, on the
 * event loop, never blocking it.
 *
 * Why no worker thread: the scanning itself happens in clamd, another
 * process.  parleyd only moves the file's bytes to a socket and waits for
 * one line, which is what the loop does for every connection anyway; a
 * thread would add a result queue and locks and gain nothing.  The file
 * is read in PARLEY_SCAN_CHUNK pieces as clamd takes them (at most
 * SCAN_QUEUED bytes wait in the socket's buffer), so a scan costs the
 * same memory whatever the file's size.  The reads are pread(2) of a
 * local file, like the writes that stored it.
 *
 * Protocol (clamd(8), INSTREAM): "zINSTREAM\0", then chunks, each a
 * 4-byte big-endian length and that many bytes, then a zero length.
 * clamd answers one NUL-terminated line: "stream: OK", "stream: NAME
 * FOUND", or a line ending in "ERROR" (for example past its
 * StreamMaxLength, when it may answer and close before the whole file is
 * sent).  Anything else, no answer within the timeout, or no clamd at
 * all is SCAN_FAILED: the caller decides whether that fails closed.
 *
 * At most PARLEY_SCAN_PARALLEL scans talk to clamd at once; the rest wait
 * in order.  Every scan ends in exactly one call of its done function,
 * always from the event loop (never inside scanner_submit), unless it is
 * cancelled first.
 */
#ifndef PARLEY_SCAN_CLAMD_H
#define PARLEY_SCAN_CLAMD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

enum scan_verdict { SCAN_CLEAN, SCAN_INFECTED, SCAN_FAILED };

/* detail: the signature name (INFECTED) or why it failed (FAILED),
 * printable ASCII; NULL when clean. */
typedef void (*scan_done_fn)(void *ud, enum scan_verdict v,
	    const char *detail);

struct scanner;
struct scan;

struct scanner *scanner_new(struct event_base *base, const char *socket_path,
	    unsigned timeout_s);
/* Cancels every scan (no done calls) and frees the scanner. */
void	 scanner_free(struct scanner *sc);
/* Scans the first size bytes of fd (the scanner keeps its own dup). */
struct scan *scanner_submit(struct scanner *sc, int fd, uint64_t size,
	    scan_done_fn fn, void *ud);
/* Stops a scan; its done function is not called. */
void	 scan_cancel(struct scan *s);
/* 1 if something listens on the socket now (a start-up check only). */
int	 scanner_reachable(const struct scanner *sc, char *why, size_t len);

/* Reads clamd's answer line (without its NUL); detail gets the
 * signature or the error as printable ASCII.  For tests and fuzzing. */
enum scan_verdict clamd_parse_reply(const char *line, size_t len,
	    char *detail, size_t dlen);

#endif
