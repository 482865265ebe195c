/*
 * alloc.h - allocation that never fails from the caller's point of view.
 *
 * Every x* wrapper aborts the process (with a log line) when the C library
 * cannot satisfy the request.  Out-of-memory is prevented upstream by the
 * per-connection and per-stanza byte limits in limits.h, so call sites carry
 * no NULL checks.  Memory returned here is released with free().
 *
 * wipe() clears secrets (passwords, SCRAM keys) in a way the compiler may not
 * optimise away.
 */
#ifndef PARLEY_CORE_ALLOC_H
#define PARLEY_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
void wipe(void *p, size_t n);

#endif
