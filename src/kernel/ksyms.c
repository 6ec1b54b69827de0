/* ksyms.c - address -> function name, by binary search of the generated
 * table (include/kernel/ksyms.h). */
#include "kernel/ksyms.h"
#include "kernel/sections.h"

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset)
{
	unsigned lo = 0, hi = ksyms_count;

	if (addr < (uintptr_t)_text_start || addr >= (uintptr_t)_text_end || !hi)
		return 0;
	while (hi - lo > 1) {   /* invariant: ksyms[lo].addr <= addr, if any is */
		unsigned mid = lo + (hi - lo) / 2;

		if (ksyms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksyms[lo].addr > addr)
		return 0;
	*offset = addr - ksyms[lo].addr;
	return ksyms[lo].name;
}
