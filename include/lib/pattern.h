/* pattern.h - a byte pattern that names its block: fill a block with the
 * pattern of id, later check that it is intact (allocator stress tests in
 * the kernel, the shell and on the host). */
#ifndef TALLY_LIB_PATTERN_H
#define TALLY_LIB_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

static inline unsigned char pattern_byte(unsigned long id, size_t i)
{
	return (unsigned char)(id * 31 + i);
}

static inline void pattern_fill(void *p, size_t n, unsigned long id)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = pattern_byte(id, i);
}

static inline bool pattern_intact(const void *p, size_t n, unsigned long id)
{
	for (size_t i = 0; i < n; i++)
		if (((const unsigned char *)p)[i] != pattern_byte(id, i))
			return false;
	return true;
}

#endif
