/*
 * buf.h - a growable byte buffer that carries its length.
 *
 * The buffer always keeps a NUL after the last byte so that its contents can
 * be used as a C string when they are text; binary contents are fine too.
 * The owner of a struct buf frees it with buf_free().  Growth aborts on
 * out-of-memory (alloc.h); callers bound what they append.
 */
#ifndef PARLEY_CORE_BUF_H
#define PARLEY_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated; NULL until the first append */
	size_t	 len;	/* bytes used, not counting the NUL */
	size_t	 cap;	/* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_init(struct buf *b);
void	 buf_free(struct buf *b);
void	 buf_reset(struct buf *b);	/* len = 0, keeps the memory */
void	 buf_reserve(struct buf *b, size_t extra);
void	 buf_append(struct buf *b, const void *p, size_t n);
void	 buf_puts(struct buf *b, const char *s);
void	 buf_putc(struct buf *b, char c);
void	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends s with the five XML special characters escaped (text and attrs). */
void	 buf_put_xml_escaped(struct buf *b, const char *s, size_t n);
/* Returns the contents as a malloc'd string and leaves b empty. */
char	*buf_steal(struct buf *b);
/* The contents as a string ("" when empty); valid until the next change. */
const char *buf_str(const struct buf *b);

#endif
