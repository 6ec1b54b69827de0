/* mm_host_init.c - mm_host_init() (mm/mm_host.h): one arena as all of
 * RAM. (The growing arena: mm_host_grow.c over common/mm_grow.h.)
 *
 * Host glue; nothing here is compiled into the kernel or into Tally's
 * user runtime (whose malloc grows its arena: common/mm_grow.h). */
#include "mm/mm_host.h"
#include "mm/page.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "kerrno.h"

void (*mm_host_before_init)(void);

int mm_host_init(void *arena, size_t bytes)
{
	uintptr_t start = (uintptr_t)arena, base, end;
	struct mm_region ram;
	struct mm_layout l = { 0 };
	int ret;

	if (!arena || start + bytes < start)
		return -EINVAL;
	if (mm_host_before_init)
		mm_host_before_init();   /* a growing arena is forgotten */
	base = (start + PAGE_SIZE - 1) & PAGE_MASK;
	end = (start + bytes) & PAGE_MASK;
	if (end <= base)
		return -EINVAL;
	ram.base = MM_HOST_PHYS_BASE;
	ram.size = end - base;
	l.ram = &ram;
	l.nram = 1;
	l.virt_offset = base - (uintptr_t)MM_HOST_PHYS_BASE;
	ret = page_alloc_init(&l);
	if (!ret)
		ret = kmalloc_init();
	mm_txn_reset();
	mm_stats_reset();
	return ret;
}

