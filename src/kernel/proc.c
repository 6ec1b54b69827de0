/* proc.c - user processes (kernel/proc.h): make one, enter U-mode, take its
 * traps, end it and give back everything it held. Scheduling, waiting and
 * killing are sched.c's.
 *
 *   proc_spawn / proc_run (any kernel context, or the spawn call)
 *     build its space, kernel stack, trap frame; sched_add: runnable
 *   sched_run_one (a hart's scheduler)            the process
 *     satp <- its table; proc_switch ----------->  proc_first_entry
 *                                                  trap_return: sret to U
 *                                                  ... ecall / fault / irq:
 *                                                  trapvec saves its frame on
 *                                                  its kernel stack (sscratch)
 *                                                  trap_handle -> proc_user_trap
 *     <----------------------------------------- tick: sched_yield_proc
 *     <----------------------------------------- wait4: asleep
 *     <----------------------------------------- exit / kill: its space
 *                                                  freed, sched_exit_proc
 *     satp <- the kernel's; finish_switch
 *   proc_wait (parent or kernel): reaps the zombie (kernel stack, struct)
 *
 * While the process is in U-mode, sscratch holds the top of its kernel
 * stack (the frame's x[0], which trap_return puts back), so every trap it
 * takes saves its registers there. The hart takes interrupts in U-mode
 * (privileged spec 4.1.1: a lower privilege cannot mask S interrupts); in
 * the handler they are off, as in every trap, so a process's kernel part
 * is never preempted. A pending kill (p->killed) ends it on its way back
 * to U-mode.
 *
 * Locks: a process's mm_lock (kernel/proc.h) is held around every change
 * of its areas, page table and memory counters -- a fault, brk, exit --
 * so that memstat PID can read them from another hart (proc_inspect);
 * the page allocator's locks nest inside it. Order: oom_lock, then
 * proc_lock (oom_kill's proc_list); proc_lock, then a process's mm_lock
 * (sched.c's proc_inspect). Nothing holding an mm_lock takes oom_lock or
 * proc_lock: oom_kill runs after the fault has dropped it. */
#include <string.h>
#include "kernel/proc.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "kernel/kstack.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/sys_file.h"
#include "arch/riscv.h"
#include "mm/buddy.h"
#include "mm/faultinj.h"
#include "mm/kmalloc.h"
#include "fs/fat32.h"
#include "proc/elf.h"
#include "proc/ustack.h"
#include "uapi/tally/layout.h"
#include "kerrno.h"

extern void proc_first_entry(void);


/* ---- user memory ------------------------------------------------------- */

/* The PTE permissions of an area's protection: RISC-V has no write-only
 * page (privileged spec 4.3.1), so write brings read. */
static unsigned pte_perm(unsigned prot)
{
	unsigned perm = VM_U;

	if (prot & (PROT_READ | PROT_WRITE))
		perm |= VM_R;
	if (prot & PROT_WRITE)
		perm |= VM_W;
	if (prot & PROT_EXEC)
		perm |= VM_X;
	return perm;
}

/* kernel/proc.h */
void user_frame_claim(struct page *pg)
{
	page_set_owner(pg, PAGE_OWNER_USER);
}

/* kernel/proc.h */
void user_frame_free(struct page *pg)
{
	page_set_owner(pg, PAGE_OWNER_PAGES);   /* free_pages takes plain blocks only */
	free_pages(pg, 0);
}

/* Map a zeroed frame at page va of p with prot (p's mm_lock held, or p
 * not running yet): 0, -ENOMEM, -EEXIST when va is mapped already. The
 * frame and any table it needs are GFP_USER (mm/gfp.h): they never take
 * a zone below its high watermark, so what processes hold never leaves
 * the kernel short. */
static int map_zero_page(struct proc *p, uint64_t va, unsigned prot, struct page **out)
{
	struct page *pg = alloc_pages(GFP_ZERO | GFP_USER, 0);
	int rc;

	if (!pg)
		return -ENOMEM;
	rc = vm_map(&p->vm, va, page_to_phys(pg), PAGE_SIZE, pte_perm(prot));
	if (rc != 0) {
		free_pages(pg, 0);
		return rc == -EEXIST ? -EEXIST : -ENOMEM;
	}
	user_frame_claim(pg);
	proc_rss_add(p, 1);
	if (out)
		*out = pg;
	return 0;
}

static int fault_locked(struct proc *p, uint64_t addr, unsigned prot)
{
	uint64_t page = addr & ~(uint64_t)(PAGE_SIZE - 1);
	struct vma *v = vma_find(&p->vmas, addr);
	int rc;

	if (!v && vma_grow_down(&p->vmas, addr, &v) != 0)
		return -EFAULT;
	if (!(v->vm_prot & prot))
		return -EFAULT;   /* not allowed */
	/* mapped already: a protection fault, which vm_map finds (-EEXIST)
	 * with no walk of its own first (a zeroed frame is wasted then, on
	 * the way to a segmentation fault) */
	rc = map_zero_page(p, page, v->vm_prot, NULL);
	if (rc != 0)
		return rc == -EEXIST ? -EFAULT : -ENOMEM;
	p->faults++;
	p->heap_rss += v->vm_kind == VMA_HEAP;
	return 0;
}

int proc_fault(struct proc *p, uint64_t addr, unsigned prot)
{
	unsigned long flags = spin_lock_irqsave(&p->mm_lock);
	int rc = fault_locked(p, addr, prot);

	spin_unlock_irqrestore(&p->mm_lock, flags);
	return rc;
}

/* Whether [va, va + n) lies in areas allowing want, every page mapped
 * (faulting in those not touched yet): 0, -EFAULT, -ENOMEM. */
static int user_range_ready(struct proc *p, uint64_t va, size_t n, unsigned want)
{
	uint64_t end = va + n, page;
	int rc;

	if (vma_access_ok(&p->vmas, va, n, want) != 0)
		return -EFAULT;
	for (page = va & ~(uint64_t)(PAGE_SIZE - 1); page < end; page += PAGE_SIZE)
		if (vm_translate(&p->vm, page, NULL, NULL) != 0 &&
		    (rc = proc_fault(p, page, want)) != 0)
			return rc;
	return 0;
}

/* Copy n bytes between kernel buf and user address uva of p, one page
 * at a time through p's table, after checking the whole range against
 * its areas (want: PROT_READ from user space, PROT_WRITE to it). */
static int copy_user(struct proc *p, uint64_t uva, void *buf, size_t n, unsigned want)
{
	char *k = buf;

	if (user_range_ready(p, uva, n, want) != 0)
		return -EFAULT;
	while (n) {
		size_t chunk = PAGE_SIZE - (uva & (PAGE_SIZE - 1));
		phys_addr_t pa;
		char *u;

		if (chunk > n)
			chunk = n;
		vm_translate(&p->vm, uva, &pa, NULL);   /* mapped above */
		u = (char *)(uintptr_t)(pa + mm_virt_offset);
		if (want == PROT_WRITE)
			memcpy(u, k, chunk);
		else
			memcpy(k, u, chunk);
		k += chunk;
		uva += chunk;
		n -= chunk;
	}
	return 0;
}

int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n)
{
	return copy_user(p, src, dst, n, PROT_READ);
}

/* kernel/proc.h */
int copy_to_user(struct proc *p, uint64_t dst, const void *src, size_t n)
{
	return copy_user(p, dst, (void *)src, n, PROT_WRITE);
}

long copy_str_from_user(struct proc *p, char *dst, uint64_t src, size_t max)
{
	size_t len = 0;

	while (len < max) {   /* a page at a time: no page past the NUL's is read */
		size_t chunk = PAGE_SIZE - ((src + len) & (PAGE_SIZE - 1));

		if (chunk > max - len)
			chunk = max - len;
		if (copy_from_user(p, dst + len, src + len, chunk) != 0)
			return -EFAULT;
		for (size_t i = 0; i < chunk; i++)
			if (dst[len + i] == '\0')
				return (long)(len + i);
		len += chunk;
	}
	return -ENAMETOOLONG;
}

struct flush_range {
	uint64_t va, len;
};

static void flush_here(void *arg)
{
	const struct flush_range *r = arg;

	for (uint64_t va = r->va & ~(uint64_t)(PAGE_SIZE - 1); va < r->va + r->len; va += PAGE_SIZE)
		__asm__ volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
}

void proc_tlb_shootdown(struct proc *p, uint64_t va, uint64_t len)
{
	struct flush_range r = { va, len };
	unsigned hart = __atomic_load_n(&p->hart, __ATOMIC_RELAXED);

	flush_here(&r);
	if (__atomic_load_n(&p->on_cpu, __ATOMIC_ACQUIRE) && hart != this_hart()->index)
		smp_call(hart, flush_here, &r);
}

/* ---- making and ending a process --------------------------------------- */

/* Give back the frames mapped in area piece of p and the mappings (a
 * vma_change_fn: told of each piece an unmap removes; p's mm_lock
 * held). Only the mapped pages are visited (vm_next_mapped): a large
 * area never touched costs its tables, not its pages. */
static void unmap_piece(void *ctx, const struct vma *piece, unsigned old_prot)
{
	struct proc *p = ctx;
	uintptr_t va = piece->vm_start;
	phys_addr_t pa;

	(void)old_prot;
	for (; vm_next_mapped(&p->vm, va, piece->vm_end, &va, &pa) == 0; va += PAGE_SIZE) {
		vm_unmap(&p->vm, va, PAGE_SIZE);
		user_frame_free(pfn_to_page(pa >> PAGE_SHIFT));
		p->rss--;
		p->heap_rss -= piece->vm_kind == VMA_HEAP;
	}
}

/* kernel/proc.h */
void proc_unmap_piece(void *ctx, const struct vma *piece, unsigned old_prot)
{
	unmap_piece(ctx, piece, old_prot);
}

/* kernel/proc.h: a PROT_NONE page keeps its frame, readable by the
 * kernel only (no U bit: every user access faults) */
unsigned proc_pte_perm(unsigned prot)
{
	return (prot & PROT_MASK) ? pte_perm(prot) : VM_R;
}

static long brk_locked(struct proc *p, uint64_t addr)
{
	uint64_t old_end = (p->brk + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t new_end = (addr + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t base = (p->brk_start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);

	if (!p->brk_start || addr < p->brk_start || addr > USER_MMAP_TOP)
		return (long)p->brk;   /* Linux: the break as it is, and no errno */
	if (new_end > old_end) {
		struct vma heap = { .vm_start = old_end, .vm_end = new_end,
				    .vm_prot = PROT_READ | PROT_WRITE, .vm_kind = VMA_HEAP };
		uint64_t pages = (new_end - base) >> PAGE_SHIFT;

		/* committed: no more than could be backed now (the pages a
		 * process could still get and those the heap holds), as strict
		 * overcommit would */
		if (pages > buddy_user_free_pages() + p->heap_rss ||
		    vma_insert(&p->vmas, &heap) != 0)
			return (long)p->brk;
	} else if (new_end < old_end) {
		if (vma_unmap(&p->vmas, new_end, old_end - new_end, unmap_piece, p) != 0)
			return (long)p->brk;
	}
	p->brk = addr;
	return (long)addr;
}

/* kernel/proc.h */
long proc_brk(struct proc *p, uint64_t addr)
{
	unsigned long flags = spin_lock_irqsave(&p->mm_lock);
	long rc = brk_locked(p, addr);

	spin_unlock_irqrestore(&p->mm_lock, flags);
	return rc;
}

/* The frames of p's areas and its tables (at exit: the hart is off
 * them). */
static void proc_free_space(struct proc *p)
{
	unsigned long flags;
	struct elf_plan *plan;
	char *exe;

	fdtable_destroy(&p->files);   /* sys_file: every fd closed, however it ended */
	flags = spin_lock_irqsave(&p->mm_lock);
	vma_set_destroy(&p->vmas, unmap_piece, p);
	if (p->vm.root) {
		vm_unshare(&p->vm, 0, USER_VA_BASE);
		vm_destroy(&p->vm);
		p->vm.root = NULL;
	}
	plan = p->exe_plan;   /* the areas that pointed into it are gone */
	exe = p->exe;
	p->exe_plan = NULL;
	p->exe = NULL;
	spin_unlock_irqrestore(&p->mm_lock, flags);
	kfree(plan);
	kfree(exe);
}

/* Everything a process that never ran holds: its space, its kernel
 * stack, p itself. Any of them may be missing (a half-made process). */
static void proc_free(struct proc *p)
{
	proc_free_space(p);
	kstack_free(p->kstack);
	kfree(p);
}

/* A process with an empty space sharing the kernel's mappings and a
 * kernel stack, or NULL (-ENOMEM: nothing left allocated). */
static struct proc *proc_new(const char *name)
{
	struct proc *p = kzalloc(sizeof(*p), GFP_KERNEL);

	if (!p)
		return NULL;
	strncpy(p->name, name ? name : "?", PROC_NAME_MAX - 1);
	p->mm_lock = (struct spinlock)SPINLOCK_INIT("proc mm");
	fdtable_init(&p->files, true);   /* sys_file: fds 0..2 the console, in the foreground */
	vma_set_init(&p->vmas, NULL);
	p->kstack = kstack_alloc();   /* above a guard (kernel/kstack.h) */
	if (!p->kstack || vm_create_user(&p->vm) != 0 || vm_share(&p->vm, &kernel_vm, 0, USER_VA_BASE) != 0) {
		proc_free(p);
		return NULL;
	}
	p->vm.gfp = GFP_USER;   /* its tables below the root: the user's share (mm/gfp.h) */
	return p;
}

/* The main stack: a growsdown area of one page under USER_STACK_TOP. */
static int add_stack(struct proc *p, uint64_t bottom)
{
	struct vma v = { .vm_start = bottom, .vm_end = USER_STACK_TOP,
			 .vm_prot = PROT_READ | PROT_WRITE, .vm_kind = VMA_STACK,
			 .vm_flags = VMA_GROWSDOWN };

	return vma_insert(&p->vmas, &v);
}

/* The registers p starts with: its first return to U-mode is trap_return
 * over this frame, at the top of its kernel stack. */
static void proc_frame(struct proc *p, uint64_t entry, uint64_t sp, uint64_t arg)
{
	/* the top word names the hart it runs on (trapvec.S: tp): the
	 * scheduler writes it whenever it runs p */
	uintptr_t top = (uintptr_t)p->kstack + KSTACK_SIZE - 16;

	p->kstack_top = top;
	*(struct hart **)top = this_hart();
	((struct proc **)top)[1] = p;      /* proc_of_frame */
	p->tf = (struct trap_frame *)((top - sizeof(struct trap_frame)) & ~(uintptr_t)15);
	memset(p->tf, 0, sizeof(*p->tf));
	p->tf->x[0] = top;                 /* sscratch while in U-mode */
	p->tf->x[2] = sp;
	p->tf->x[10] = arg;                /* a0 */
	p->tf->sepc = entry;
	/* sret to U-mode (SPP 0) with interrupts on there (SPIE) */
	p->tf->sstatus = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SIE | SSTATUS_SUM)) |
			 SSTATUS_SPIE;
	memset(&p->ctx, 0, sizeof(p->ctx));
	p->ctx.ra = (uint64_t)(uintptr_t)proc_first_entry;
	p->ctx.sp = (uint64_t)(uintptr_t)p->tf;
}

/* Make p runnable from entry as parent's child: its pid, or -EAGAIN
 * with p freed. */
static int proc_start(struct proc *p, uint64_t entry, uint64_t sp, uint64_t arg,
		      struct proc *parent)
{
	int pid;

	proc_frame(p, entry, sp, arg);
	pid = sched_add(p, parent);
	if (pid < 0)
		proc_free(p);
	return pid;
}

int proc_start_image(const char *name, const void *image, size_t len, uint64_t arg)
{
	struct vma text = { .vm_start = USER_TEXT, .vm_end = USER_TEXT + PAGE_SIZE,
			    .vm_prot = PROT_READ | PROT_EXEC, .vm_kind = VMA_TEXT };
	struct page *pg;
	struct proc *p;
	int rc;

	if (!image || !len || len > PAGE_SIZE)
		return -EINVAL;
	p = proc_new(name);
	if (!p)
		return -ENOMEM;
	rc = disk_fs(NULL) ? fdtable_set_root(&p->files, disk_fs(NULL), "/") : 0;   /* sys_file */
	if (rc == 0)
		rc = vma_insert(&p->vmas, &text);
	if (rc == 0)
		rc = add_stack(p, USER_STACK_TOP - PAGE_SIZE);
	if (rc == 0)
		rc = map_zero_page(p, USER_TEXT, PROT_READ | PROT_EXEC, &pg);
	if (rc) {
		proc_free(p);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	memcpy(page_address(pg), image, len);
	strncpy(p->cmd, p->name, PROC_CMD_MAX - 1);
	return proc_start(p, USER_TEXT, USER_STACK_TOP, arg, NULL);
}

/* kernel/proc.h */
int proc_start_kernel(const char *name, void (*fn)(void))
{
	struct proc *p = proc_new(name);
	int pid;

	if (!p)
		return -ENOMEM;
	strncpy(p->cmd, p->name, PROC_CMD_MAX - 1);
	proc_frame(p, 0, 0, 0);
	p->ctx.ra = (uint64_t)(uintptr_t)fn;   /* not proc_first_entry: it never enters U-mode */
	pid = sched_add(p, NULL);
	if (pid < 0)
		proc_free(p);
	return pid;
}

int proc_run(const char *name, const void *image, size_t len, uint64_t arg, int *status)
{
	int pid;

	if (!status)
		return -EINVAL;
	pid = proc_start_image(name, image, len, arg);
	return pid < 0 ? pid : proc_wait_kernel(pid, status, 0);
}

/* ---- from a file ---------------------------------------------------------- */

/* Read every page of every segment of plan from ef into p (at load: the
 * file need not stay open), bss pages past the file's left to faults. */
static int load_segments(struct proc *p, const struct elf_file *ef, const struct elf_plan *plan)
{
	struct vma want[2 * ELF_MAX_SEGMENTS];
	unsigned n = elf_plan_vmas(plan, want);
	int rc = vma_insert_all(&p->vmas, want, n);

	for (unsigned i = 0; rc == 0 && i < plan->nseg; i++) {
		const struct elf_segment *seg = &plan->seg[i];

		for (uint64_t va = seg->start; rc == 0 && va < seg->file_end; va += PAGE_SIZE) {
			struct page *pg;

			rc = map_zero_page(p, va, seg->prot, &pg);
			if (rc == 0)
				rc = elf_fill_page(ef, seg, va, page_address(pg));
		}
	}
	return rc;
}

/* The initial stack with argv (ustack.h) at the top of the stack area. */
static int build_stack(struct proc *p, const struct elf_plan *plan, const char *const *argv,
		       unsigned argc, const char *const *envp, unsigned envc, uint64_t *sp)
{
	static const char *const none[1] = { NULL };
	struct ustack_args a = { .argv = argv, .argc = argc, .envp = envp ? envp : none,
				 .envc = envp ? envc : 0,
				 .phdr = plan->phdr, .phent = plan->phent,
				 .phnum = plan->phnum, .entry = plan->entry };
	struct ustack_layout l;
	size_t size = USTACK_ARG_MAX + 2 * PAGE_SIZE;
	char *buf;
	int rc;

	for (unsigned i = 0; i < sizeof(a.random); i++)   /* not secret: varied */
		a.random[i] = (uint8_t)(rdtime() >> (i % 8 * 8)) ^ (uint8_t)(i * 37);
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	rc = ustack_build(buf, size, USER_STACK_TOP, &a, &l);
	if (rc == 0)
		rc = add_stack(p, (USER_STACK_TOP - l.used) & ~(uint64_t)(PAGE_SIZE - 1));
	if (rc == 0)   /* its pages first: no frame is -ENOMEM here, not copy's -EFAULT */
		rc = user_range_ready(p, l.sp, l.used, PROT_WRITE);
	if (rc == 0)
		rc = copy_to_user(p, l.sp, buf + size - l.used, l.used);
	kfree(buf);
	*sp = l.sp;
	return rc;
}

/* ps's command: the path and arguments, cut to PROC_CMD_MAX - 1. */
static void set_cmd(struct proc *p, const char *path, const char *const *argv, unsigned argc)
{
	size_t n = 0;

	for (unsigned i = 0; i < argc || i == 0; i++) {
		const char *w = i == 0 ? path : argv[i];

		if (i > 0 && n < PROC_CMD_MAX - 1)
			p->cmd[n++] = ' ';
		while (*w && n < PROC_CMD_MAX - 1)
			p->cmd[n++] = *w++;
	}
	p->cmd[n] = '\0';
}

/* The process of path's executable with its arguments and environment,
 * its fds 0..2 the console (fd 0 reading it when foreground) and cwd its
 * cwd, loaded (under sys_file_lock), not started: 0 and *out, *entry, *sp,
 * or an error with nothing left allocated. */
static int load(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
		const char *const *envp, unsigned envc, const char *cwd, bool foreground,
		const char **why, struct proc **out, uint64_t *entry, uint64_t *sp)
{
	struct elf_plan *plan = kmalloc(sizeof(*plan), GFP_KERNEL);   /* 1 KiB: off the stack */
	struct fat_file f;
	struct elf_file ef;
	struct proc *p = NULL;
	unsigned long flags;
	int rc;

	if (!plan)
		return -ENOMEM;
	flags = sys_file_lock();   /* the FAT reader: one caller at a time */
	rc = fat_open(fs, path, &f);
	if (rc == 0) {
		elf_file_init_fat(&ef, &f);
		rc = elf_validate(&ef, plan, why);
	}
	if (rc == 0) {
		const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

		p = proc_new(name);
		rc = p ? 0 : -ENOMEM;
		if (p) {
			fdtable_init(&p->files, foreground);   /* allocates nothing */
			rc = fdtable_set_root(&p->files, fs, cwd);
		}
		if (rc == 0)
			rc = load_segments(p, &ef, plan);
		if (rc == 0)
			rc = fat_realpath(fs, path, &p->exe);   /* memstat PID names it */
		if (rc == 0) {
			p->exe_ino = f.first;
			p->exe_plan = plan;   /* its text and data areas point at plan->seg */
			plan = NULL;
		}
	}
	sys_file_unlock(flags);
	if (rc == 0)
		rc = build_stack(p, p->exe_plan, argv, argc, envp, envc, sp);
	if (rc == 0) {
		p->brk_start = p->brk = p->exe_plan->brk;
		*entry = p->exe_plan->entry;
		set_cmd(p, path, argv, argc);
		*out = p;
	} else if (p) {
		proc_free(p);
	}
	kfree(plan);
	return rc;
}

static bool oom_make_room(struct proc *caller);   /* running out of memory, below */
static unsigned long injected_total(void);

int proc_spawn(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
	       const char *const *envp, unsigned envc, struct proc *parent, bool foreground,
	       const char **why)
{
	uint64_t entry = 0, sp = 0;
	struct proc *p;
	int rc;

	*why = NULL;
	if (!fs || !path)
		return -EINVAL;
	/* a child starts where its parent is (NULL: "/"); the kernel's where
	 * the shell is now */
	do {   /* out of frames for real: the OOM decision, then load again */
		unsigned long injected = injected_total();

		rc = load(fs, path, argv, argc, envp, envc,
			  parent ? (parent->files.cwd ? parent->files.cwd : "/") : fat_getcwd(fs),
			  foreground, why, &p, &entry, &sp);
		if (rc != -ENOMEM || injected_total() != injected)
			break;
	} while (oom_make_room(parent));
	return rc ? rc : proc_start(p, entry, sp, 0, parent);
}

int proc_exec(struct fat_fs *fs, const char *path, const char *const *argv, unsigned argc,
	      int *status, const char **why)
{
	int pid = proc_spawn(fs, path, argv, argc, NULL, 0, NULL, true, why);

	return pid < 0 ? pid : proc_wait_kernel(pid, status, 0);
}

void proc_exit(struct proc *p, int status)
{
	p->wstatus = (status & 0xff) << 8;
	kvm_enable_hart();   /* off its tables before they go */
	proc_free_space(p);
	sched_exit_proc(p);
}

void proc_die(struct proc *p, int sig)
{
	if (sig == PROC_SIGINT)
		kprintf("pid %d (%s): interrupted\n", p->pid, p->name);
	p->wstatus = sig & 0x7f;
	kvm_enable_hart();
	proc_free_space(p);
	sched_exit_proc(p);
}

/* ---- its traps ---------------------------------------------------------- */

static const char *fault_kind(uint64_t code)
{
	switch (code) {
	case 1: case 12: return "exec";
	case 5: case 13: return "load";
	default: return "store";   /* 7, 15 */
	}
}

/* On the way back to U-mode: a pending kill ends p here. */
static void proc_check_killed(struct proc *p)
{
	if (p->killed)
		proc_die(p, p->killed);
}

/* ---- running out of memory ----------------------------------------------- */

/* The OOM decision, for self's want of a frame that reclaim could not
 * meet (the page allocator drains every cache before it says no): a page
 * fault of self, or (self NULL) the loading of a process being made,
 * which holds nothing yet. The live process with the largest resident
 * set is killed (SIGKILL, status 137), with Linux's oom-kill line naming
 * it and its sizes. Returns its pid when that is another process (the
 * caller waits for it to go and tries again); 0 when it is self; -ESRCH
 * when self is NULL and no process holds a page (nothing killed or
 * said). A victim already on its way is not killed or reported twice
 * (oom_victim). */
static struct proc_info oom_list[PROC_MAX];
static struct spinlock oom_lock = SPINLOCK_INIT("oom");
static int oom_victim;

static int oom_kill(struct proc *self)
{
	const struct proc_info *best = NULL;
	unsigned long flags = spin_lock_irqsave(&oom_lock), self_rss = self ? self->rss : 0;
	unsigned n = proc_list(oom_list, PROC_MAX);
	char name[PROC_NAME_MAX];
	uint64_t vsz = self ? self->vmas.bytes : 0;
	int pid = self ? self->pid : 0, again;

	for (unsigned i = 0; i < n && i < PROC_MAX; i++)
		if (oom_list[i].state != PROC_ZOMBIE && oom_list[i].pid != pid &&
		    oom_list[i].rss > self_rss && (!best || oom_list[i].rss > best->rss))
			best = &oom_list[i];
	if (!best && !self) {
		spin_unlock_irqrestore(&oom_lock, flags);
		return -ESRCH;
	}
	if (best) {
		const char *c = best->cmd, *base = c, *end;

		for (end = c; *end && *end != ' '; end++)
			if (*end == '/')
				base = end + 1;
		n = (unsigned)(end - base) < PROC_NAME_MAX - 1 ? (unsigned)(end - base) : PROC_NAME_MAX - 1;
		memcpy(name, base, n);
		name[n] = 0;
		pid = best->pid;
		vsz = best->vsz;
		self_rss = best->rss;
	} else {
		strncpy(name, self->name, PROC_NAME_MAX - 1);
		name[PROC_NAME_MAX - 1] = 0;
	}
	again = pid == oom_victim;
	oom_victim = pid;
	spin_unlock_irqrestore(&oom_lock, flags);
	if (!again)
		kprintf("Out of memory: Killed process %d (%s) total-vm:%lukB, anon-rss:%lukB, "
			"file-rss:0kB\n", pid, name, (unsigned long)(vsz >> 10), self_rss << 2);
	if (!best)
		return 0;
	if (!again)
		proc_kill(pid, PROC_SIGKILL);
	return pid;
}

#define OOM_WAIT_MS 10000   /* a victim of 120 MiB takes about 1 s under TCG */

/* For a load that found no frame (caller: the spawning process, NULL for
 * the kernel): the OOM decision as a fault's, and a wait until the
 * victim's frames are back. Returns true when one went (load again);
 * false when no process holds a page, the caller itself was chosen (it
 * dies on its way back to U-mode), or the victim did not go in time. */
static bool oom_make_room(struct proc *caller)
{
	int pid = oom_kill(NULL);

	if (pid <= 0 || (caller && pid == caller->pid))
		return false;
	return sched_wait_exit(pid, OOM_WAIT_MS) == 0;
}

/* Failures fault injection made so far, every scope: an injected one is
 * not a reason to kill anyone (as Linux's should_fail_alloc_page, which
 * fails before the OOM killer is reached). */
static unsigned long injected_total(void)
{
	struct faultinj_stats st;

	faultinj_get(NULL, &st);
	return st.injected[0] + st.injected[1] + st.injected[2];
}

/* swtch.S's proc_first_entry, before the first return to U-mode: a
 * process killed before it ever ran ends here. */
void proc_first_run(void)
{
	proc_check_killed(proc_current());
}

void proc_user_trap(struct trap_frame *tf)
{
	struct proc *p = proc_of_frame(tf);
	uint64_t code = tf->scause & ~SCAUSE_INTR;

	if (tf->scause & SCAUSE_INTR) {   /* handled already */
		if (!p->killed && (code == IRQ_S_TIMER || code == IRQ_S_SOFT))
			sched_yield_proc(p);   /* its slice is over, or a kill or a call came */
		proc_check_killed(p);
		return;
	}
	switch (code) {   /* a system call (8) never comes here: syscall_entry */
	case 12: case 13: case 15: {   /* page faults: demand paging, stack growth */
		unsigned long injected = faultinj_injected();   /* this hart's: no switch in between */
		int rc = proc_fault(p, tf->stval, code == 12 ? PROT_EXEC :
				    code == 13 ? PROT_READ : PROT_WRITE);

		if (rc == 0 || (rc == -ENOMEM && faultinj_injected() != injected)) {
			/* an injected failure is not out of memory: nobody is
			 * killed, the access faults again (mm/oom_kill.c's
			 * pagefault_out_of_memory returns and the fault is
			 * retried); injection's times and interval bound it */
			proc_check_killed(p);
			return;
		}
		if (rc == -ENOMEM) {
			if (oom_kill(p) > 0) {   /* another one goes: wait, then fault again */
				sched_yield_proc(p);
				proc_check_killed(p);
				return;
			}
			proc_die(p, PROC_SIGKILL);
		}
	}
		__attribute__((fallthrough));   /* a bad access */
	case 1: case 5: case 7:
		kprintf("pid %d (%s): segmentation fault at 0x%lx (%s), pc 0x%lx\n", p->pid,
			p->name, (unsigned long)tf->stval, fault_kind(code), (unsigned long)tf->sepc);
		proc_die(p, PROC_SIGSEGV);
	case 2:
		kprintf("pid %d (%s): illegal instruction at pc 0x%lx\n", p->pid, p->name,
			(unsigned long)tf->sepc);
		proc_die(p, PROC_SIGILL);
	default:
		kprintf("pid %d (%s): exception %lu at pc 0x%lx\n", p->pid, p->name,
			(unsigned long)code, (unsigned long)tf->sepc);
		proc_die(p, PROC_SIGSEGV);
	}
}
