/* memstat_proc.c - `memstat PID`: one process's memory. Its areas in the
 * layout of Linux's /proc/PID/maps (fs/proc/task_mmu.c, show_map_vma and
 * show_vma_header_prefix), then its counters as key: value lines.
 *
 *   start-end perms offset dev:dev inode [padding name]
 *
 * start and end in hex, at least 8 digits; perms r/w/x and p (every
 * Tally mapping is private); offset: for the executable's text and data
 * areas the file offset of the area's first byte, else 0 (Linux prints
 * vm_pgoff for file mappings only). Tally has no device numbers: dev is
 * 00:00, and since FAT has no inodes the inode column holds the
 * executable's first cluster, its fixed identity on the volume (0 for an
 * anonymous area). A named line is padded to column 73, as Linux's
 * seq_pad to 25 + 6 * sizeof(void *) - 1 plus one space does: the
 * executable's absolute path, [heap] (brk's area), [stack] (the main
 * stack); bss past the file's pages and anonymous mmap areas have no
 * name, and their line ends with the prefix's space, as Linux's do.
 *
 * The process may be running on another hart: the areas and counters
 * are copied in one go under its mm_lock (proc_inspect, kernel/proc.h)
 * into a buffer sized by a first look at the area count (kmalloc'd for
 * the command: the copy itself cannot allocate), then printed. */
#include <string.h>
#include "shell/shell.h"
#include "shell/args.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "lib/printf.h"
#include "mm/kmalloc.h"
#include "proc/elf.h"
#include "uapi/tally/mman.h"
#include "kerrno.h"

#define MAPS_NAME_COL 72   /* Linux: seq_setwidth(m, 25 + sizeof(void *) * 6 - 1) */
#define MAPS_PATH_MAX 256  /* a longer path is cut (the copy cannot allocate) */

struct maps_area {
	uint64_t start, end, offset;
	unsigned prot;
	enum vma_kind kind;
};

/* What proc_inspect copies out of the process: its areas into area[0..
 * cap), n of them in all (more than cap: the buffer was too small). */
static struct maps_snapshot {
	enum proc_state state;
	uint64_t vsz;
	unsigned long rss, hiwater_rss, heap_rss, tables, faults, syscalls;
	uint32_t ino;
	char exe[MAPS_PATH_MAX];
	char cmd[PROC_CMD_MAX];
	unsigned n, cap;
	struct maps_area *area;
} snap;

/* The file offset of an executable's area: its segment's p_offset less
 * the segment's lead-in to p_vaddr, plus how far into the segment the
 * area starts (an area cut by munmap or mprotect starts later). */
static uint64_t area_offset(const struct vma *v)
{
	const struct elf_segment *seg = v->vm_private;

	if (!seg || (v->vm_kind != VMA_TEXT && v->vm_kind != VMA_DATA))
		return 0;
	return seg->offset - (seg->vaddr - seg->start) + (v->vm_start - seg->start);
}

/* proc_inspect's fn: copy (no allocation, no print, no lock). */
static void copy_out(const struct proc *p, void *arg)
{
	struct maps_snapshot *s = arg;
	unsigned n = 0;

	s->state = p->state;
	s->vsz = p->vmas.bytes;
	s->rss = p->rss;
	s->hiwater_rss = p->hiwater_rss;
	s->heap_rss = p->heap_rss;
	s->tables = p->vm.tables;
	s->faults = p->faults;
	s->syscalls = p->syscalls;
	s->ino = p->exe_ino;
	s->exe[0] = '\0';
	if (p->exe) {
		strncpy(s->exe, p->exe, MAPS_PATH_MAX - 1);
		s->exe[MAPS_PATH_MAX - 1] = '\0';
	}
	memcpy(s->cmd, p->cmd, PROC_CMD_MAX);
	for (const struct vma *v = vma_first(&p->vmas); v; v = vma_next(&p->vmas, v), n++)
		if (n < s->cap)
			s->area[n] = (struct maps_area){ .start = v->vm_start, .end = v->vm_end,
							 .offset = area_offset(v), .prot = v->vm_prot,
							 .kind = v->vm_kind };
	s->n = n;
}

/* Copy process pid into snap, its areas into a buffer that holds them
 * all (the count may grow between the looks: a few tries). Returns 0
 * (free snap.area after); -ESRCH (gone, maybe between two looks);
 * -ENOMEM; -EAGAIN when the count outgrew the buffer every time. On an
 * error snap.area is NULL. */
static int take_snapshot(int pid)
{
	int rc;

	snap.area = NULL;
	snap.cap = 0;
	for (int tries = 0; tries < 4; tries++) {
		rc = proc_inspect(pid, copy_out, &snap);
		if (rc == 0 && snap.n <= snap.cap)
			return 0;
		kfree(snap.area);
		snap.area = NULL;
		if (rc)
			return rc;
		snap.cap = snap.n + 8;   /* room for a few more by the next look */
		snap.area = kmalloc(snap.cap * sizeof(*snap.area), GFP_KERNEL);
		if (!snap.area)
			return -ENOMEM;
	}
	kfree(snap.area);
	snap.area = NULL;
	return -EAGAIN;
}

/* The name column of an area, or NULL for none. */
static const char *area_name(const struct maps_area *a)
{
	switch (a->kind) {
	case VMA_TEXT: case VMA_DATA: return snap.exe[0] ? snap.exe : NULL;
	case VMA_HEAP: return "[heap]";
	case VMA_STACK: return "[stack]";
	default: return NULL;   /* bss, anonymous mmap */
	}
}

static void print_area(const struct maps_area *a)
{
	const char *name = area_name(a);
	bool file = (a->kind == VMA_TEXT || a->kind == VMA_DATA) && snap.exe[0];
	char line[MAPS_NAME_COL + 8];
	int len;

	len = (int)ksnprintf(line, sizeof(line), "%08lx-%08lx %c%c%cp %08lx 00:00 %lu ",
			     (unsigned long)a->start, (unsigned long)a->end,
			     a->prot & PROT_READ ? 'r' : '-', a->prot & PROT_WRITE ? 'w' : '-',
			     a->prot & PROT_EXEC ? 'x' : '-', (unsigned long)a->offset,
			     file ? (unsigned long)snap.ino : 0ul);
	if (name)
		kprintf("%s%*s %s\n", line, len < MAPS_NAME_COL ? MAPS_NAME_COL - len : 0, "", name);
	else
		kprintf("%s\n", line);
}

static const char *state_word(enum proc_state s)
{
	switch (s) {
	case PROC_RUNNABLE: return "runnable";
	case PROC_RUNNING: return "running";
	case PROC_SLEEPING: return "sleeping";
	default: return "zombie";
	}
}

int sh_memstat_pid(const char *arg)
{
	uint64_t pid;
	unsigned long kib = PAGE_SIZE >> 10;
	int rc;

	if (sh_parse_u64(arg, &pid) != 0 || !pid || pid > 0x7fffffff)
		return SH_USAGE;
	rc = take_snapshot((int)pid);
	if (rc == -ESRCH) {
		kprintf("memstat: no process %lu\n", (unsigned long)pid);
		return -1;
	}
	if (rc) {
		kprintf("memstat: process %lu: %s\n", (unsigned long)pid,
			rc == -ENOMEM ? "out of memory for its areas" : "its areas keep changing");
		return -1;
	}
	for (unsigned i = 0; i < snap.n; i++)
		print_area(&snap.area[i]);
	kprintf("pid: %lu\n", (unsigned long)pid);
	kprintf("command: %s\n", snap.cmd);
	kprintf("state: %s\n", state_word(snap.state));
	kprintf("areas: %u\n", snap.n);
	kprintf("vsz: %lu KiB\n", (unsigned long)(snap.vsz >> 10));
	kprintf("rss: %lu KiB\n", snap.rss * kib);
	kprintf("rss_peak: %lu KiB\n", snap.hiwater_rss * kib);
	kprintf("rss_heap: %lu KiB\n", snap.heap_rss * kib);
	kprintf("page_tables: %lu KiB\n", snap.tables * kib);
	kprintf("minor_faults: %lu\n", snap.faults);
	kprintf("syscalls: %lu\n", snap.syscalls);
	kfree(snap.area);
	return 0;
}
