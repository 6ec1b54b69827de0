/* cmd_memmap.c - `memmap [DMA|Normal|High]`: physical memory as text, one
 * character per block of frames (a power of two chosen so the map fits in
 * MAP_LINES lines of MAP_COLS). A cell that holds any of the kernel image
 * or a reserved range shows it (a coarse map must not lose those
 * landmarks); any other cell shows who holds most of its frames.
 * The map is built in one pass over the frame array, from block heads
 * (buddy_walk: one moment's, the zones locked), so it costs time linear
 * in RAM and no memory. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "mm/buddy.h"

#define MAP_COLS  64
#define MAP_LINES 16
#define MAP_CELLS (MAP_COLS * MAP_LINES)

static const char owner_char[PAGE_OWNER_NR] = {
	[PAGE_OWNER_FREE] = '.', [PAGE_OWNER_RESERVED] = 'R', [PAGE_OWNER_KERNEL] = 'K',
	[PAGE_OWNER_PAGES] = 'P', [PAGE_OWNER_SLAB] = 'S', [PAGE_OWNER_HEAP] = 'H',
	[PAGE_OWNER_PGTABLE] = 'T', [PAGE_OWNER_LARGE] = 'P',
	[PAGE_OWNER_KEPT] = 'C', [PAGE_OWNER_USER] = 'U', [PAGE_OWNER_USER_PGTABLE] = 't',
};

static uint32_t cells[MAP_CELLS][PAGE_OWNER_NR];

/* One run of the buddy allocator's walk into the cells it covers
 * (called with the zones locked: counts only). */
static void count_run(uint64_t pfn, uint64_t n, unsigned owner, void *arg)
{
	const uint64_t *range = arg;   /* start, frames per cell */

	while (n) {
		uint64_t cell = (pfn - range[0]) / range[1];
		uint64_t take = (cell + 1) * range[1] + range[0] - pfn;

		take = take < n ? take : n;
		cells[cell][owner < PAGE_OWNER_NR ? owner : 0] += (uint32_t)take;
		pfn += take;
		n -= take;
	}
}

static void count(uint64_t start, uint64_t end, uint64_t per)
{
	uint64_t range[2] = { start, per };

	memset(cells, 0, sizeof(cells));
	buddy_walk(start, end, count_run, range);
}

static char cell_char(int c)
{
	unsigned best = PAGE_OWNER_FREE;

	if (cells[c][PAGE_OWNER_KERNEL])
		return owner_char[PAGE_OWNER_KERNEL];
	if (cells[c][PAGE_OWNER_RESERVED])
		return owner_char[PAGE_OWNER_RESERVED];
	for (unsigned o = 0; o < PAGE_OWNER_NR; o++)
		if (cells[c][o] > cells[c][best])
			best = o;
	return owner_char[best];
}

static void draw(uint64_t start, uint64_t end)
{
	uint64_t frames = end - start, per = 1;
	int ncells, w = sh_addr_width();

	while (frames > per * MAP_CELLS)
		per *= 2;
	ncells = (int)((frames + per - 1) / per);
	count(start, end, per);
	kprintf("memmap: %0*lx-%0*lx, %lu frames, %lu KiB per character\n",
		w, (unsigned long)(start << PAGE_SHIFT), w, (unsigned long)(end << PAGE_SHIFT),
		(unsigned long)frames, (unsigned long)(per * 4));
	for (int c = 0; c < ncells; c++) {
		if (c % MAP_COLS == 0)
			kprintf("%0*lx ", w, (unsigned long)((start + c * per) << PAGE_SHIFT));
		kputc(cell_char(c));
		if (c % MAP_COLS == MAP_COLS - 1 || c == ncells - 1)
			kputc('\n');
	}
	kprintf("legend: .=free K=kernel R=reserved S=slab H=heap P=pages C=kept block T=pgtable\n"
		"        U=user process page t=user process page table\n");
}

/* Where each zone lies (mm/page.h), to say why one is absent. */
static const char *const zone_rule[NR_ZONES] = {
	[ZONE_DMA] = "DMA is the first 16 MiB of RAM below 4 GiB",
	[ZONE_NORMAL] = "Normal is the RAM below 4 GiB after the first 16 MiB",
	[ZONE_HIGH] = "High is the RAM from 4 GiB up",
};

static int cmd_memmap(int argc, char **argv)
{
	if (argc > 2)
		return SH_USAGE;
	if (argc == 1) {
		draw(page_base_pfn, page_base_pfn + page_nr_frames);
		return 0;
	}
	for (int z = 0; z < NR_ZONES; z++) {
		const struct zone *zn = zone_get(z);

		if (strcmp(argv[1], zn->name))
			continue;
		if (!zn->present_pages) {
			kprintf("memmap: no %s zone: %s, and RAM here is %lx-%lx\n", zn->name,
				zone_rule[z], (unsigned long)(page_base_pfn << PAGE_SHIFT),
				(unsigned long)((page_base_pfn + page_nr_frames) << PAGE_SHIFT));
			return -1;
		}
		draw(zn->start_pfn, zn->end_pfn);
		return 0;
	}
	return SH_USAGE;
}
SH_COMMAND("memmap", "[DMA|Normal|High]", "a picture of physical memory, by owner",
	   cmd_memmap);
