/*
 * xml_int.h - private to src/xml/: the stanza arena shared by tree.c and
 * stream.c.  Nothing outside xml/ includes this file.
 *
 * An arena is a chain of blocks with bump allocation; all of it is freed at
 * once.  The struct xml_stanza itself lives at the start of the first block,
 * so a small stanza costs a single malloc.  Requests larger than a quarter
 * of the next block size get a block of their own, so a big text node never
 * wastes the tail of the current block.
 */
#ifndef PARLEY_XML_XML_INT_H
#define PARLEY_XML_XML_INT_H

#include <stddef.h>

#include "xml/xml.h"

struct xml_block {
	struct xml_block	*next;
	size_t			 size;	/* usable bytes after the header */
};

struct xml_stanza {
	struct xml_node		*root;
	struct xml_block	*blocks;	/* head is the bump block */
	char			*cur;		/* next free byte in head */
	size_t			 left;		/* free bytes at cur */
	size_t			 used;		/* bytes handed out, all blocks */
	size_t			 next_size;	/* size of the next bump block */
};

/* An empty arena (root NULL) whose first block holds about hint bytes. */
struct xml_stanza *xml_arena_new(size_t hint);
/* align must be a power of two. */
void	*xml_arena_alloc(struct xml_stanza *st, size_t n, size_t align);
char	*xml_arena_strndup(struct xml_stanza *st, const char *s, size_t n);
/* A detached element whose ns and name already live in st (or are static). */
struct xml_node *xml_node_new_elem(struct xml_stanza *st, const char *ns,
	    const char *name);
/* Links child as the last child of parent. */
void	 xml_node_append(struct xml_node *parent, struct xml_node *child);

#endif
