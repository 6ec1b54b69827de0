/* ksyms.h - the kernel's own function names, for backtraces and leak
 * reports. The table is generated at build time from a first link
 * (tools/gensyms.py); the first link carries an empty one. */
#ifndef TALLY_KSYMS_H
#define TALLY_KSYMS_H

#include <stdint.h>

struct ksym {
	uintptr_t addr;
	const char *name;
};

extern const struct ksym ksyms[];
extern const unsigned ksyms_count;

/* The function containing addr and addr's offset into it, or NULL when
 * addr lies outside the kernel's text. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);

#endif
