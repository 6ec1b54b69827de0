/* mm_host_init.c - mm_host_init() (mm/mm_host.h): one arena as all of
 * RAM; mm_host_init_growing(): an arena that grows by hot-adding more of
 * a reservation (page_hot_add) when the mm layer runs short.
 *
 * Host glue, also compiled into Tally's user runtime (mk/user.mk: the
 * arena of a process's malloc); nothing here is compiled into the kernel. */
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

