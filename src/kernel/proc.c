/* proc.c - user processes (kernel/proc.h): make one, enter U-mode, take its
 * traps, end it and give back everything it held.
 *
 * A process runs on the hart that called proc_run(), which waits in it:
 *
 *   proc_run (on the caller's stack)              the process
 *     build its space, kernel stack, trap frame
 *     satp <- its table; proc_switch ----------->  proc_first_entry
 *                                                  trap_return: sret to U
 *                                                  ... ecall / fault / irq:
 *                                                  trapvec saves its frame on
 *                                                  its kernel stack (sscratch)
 *                                                  trap_handle -> proc_user_trap
 *                                                  exit / kill: proc_exit
 *     <----------------------------------------- proc_switch
 *     satp <- the kernel's; sscratch as before
 *     free its pages, tables, kernel stack
 *
 * While the process is in U-mode, sscratch holds the top of its kernel
 * stack (the frame's x[0], which trap_return puts back), so every trap it
 * takes saves its registers there. The hart takes interrupts in U-mode
 * (privileged spec 4.1.1: a lower privilege cannot mask S interrupts); in
 * the handler they are off, as in every trap. The first hart's Ctrl-C
 * (console_interrupted) kills the process at its next interrupt. */
#include <string.h>
#include "kernel/proc.h"
#include "kernel/console.h"
#include "kernel/memory.h"
#include "kernel/smp.h"
#include "arch/riscv.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "kerrno.h"

#define SATP_SV39 (8ull << 60)

extern void proc_first_entry(void);

/* Per hart: the process it runs, and where proc_run waits for it. */
static struct proc_hart {
	struct proc *current;
	struct proc_context sched;
} proc_harts[HART_MAX];

static int next_pid = 1;

struct proc *proc_current(void)
{
	return proc_harts[this_hart()->index].current;
}

static void use_space(const struct vm_space *vs)
{
	sfence_vma();
	csr_write(satp, SATP_SV39 | (virt_to_phys(vs->root) >> PAGE_SHIFT));
	sfence_vma();
}

/* ---- user memory ------------------------------------------------------- */

/* Whether [va, va + n) lies in the user range with every page mapped for
 * U-mode with all of want (VM_R, VM_W). */
static int user_range_ok(struct proc *p, uint64_t va, size_t n, unsigned want)
{
	uint64_t end = va + n, page;
	unsigned perm;

	if (end < va || va < USER_VA_BASE || end > USER_VA_TOP)
		return 0;
	for (page = va & ~(uint64_t)(PAGE_SIZE - 1); page < end; page += PAGE_SIZE)
		if (vm_translate(&p->vm, page, NULL, &perm) != 0 ||
		    (perm & (VM_U | want)) != (VM_U | want))
			return 0;
	return 1;
}

int copy_from_user(struct proc *p, void *dst, uint64_t src, size_t n)
{
	char *d = dst;

	if (!user_range_ok(p, src, n, VM_R))
		return -EFAULT;
	while (n) {
		size_t chunk = PAGE_SIZE - (src & (PAGE_SIZE - 1));
		phys_addr_t pa;

		if (chunk > n)
			chunk = n;
		vm_translate(&p->vm, src, &pa, NULL);   /* checked above */
		memcpy(d, (const void *)(uintptr_t)(pa + mm_virt_offset), chunk);
		d += chunk;
		src += chunk;
		n -= chunk;
	}
	return 0;
}

/* ---- making and ending a process --------------------------------------- */

/* Everything p holds back: its mappings' pages, its tables, its kernel
 * stack, p itself. Any of them may be missing (a half-made process). */
static void proc_free(struct proc *p, struct page *text, struct page *stack)
{
	if (p->vm.root) {
		vm_unmap(&p->vm, USER_TEXT, PAGE_SIZE);
		vm_unmap(&p->vm, USER_STACK_TOP - PAGE_SIZE, PAGE_SIZE);
		vm_unshare(&p->vm, 0, USER_VA_BASE);
		vm_destroy(&p->vm);
	}
	if (text)
		free_pages(text, 0);
	if (stack)
		free_pages(stack, 0);
	if (p->kstack)
		free_pages(virt_to_page(p->kstack), PROC_KSTACK_ORDER);
	kfree(p);
}

/* The registers p starts with: its first return to U-mode is trap_return
 * over this frame, at the top of its kernel stack. */
static void proc_frame(struct proc *p, uint64_t arg)
{
	/* the top word names the hart it runs on (trapvec.S: tp) */
	uintptr_t top = (uintptr_t)p->kstack + (PAGE_SIZE << PROC_KSTACK_ORDER) - 16;

	*(struct hart **)top = this_hart();
	p->tf = (struct trap_frame *)((top - sizeof(struct trap_frame)) & ~(uintptr_t)15);
	memset(p->tf, 0, sizeof(*p->tf));
	p->tf->x[0] = top;                 /* sscratch while in U-mode */
	p->tf->x[2] = USER_STACK_TOP;      /* sp */
	p->tf->x[10] = arg;                /* a0 */
	p->tf->sepc = USER_TEXT;
	/* sret to U-mode (SPP 0) with interrupts on there (SPIE) */
	p->tf->sstatus = (csr_read(sstatus) & ~(SSTATUS_SPP | SSTATUS_SIE | SSTATUS_SUM)) |
			 SSTATUS_SPIE;
	memset(&p->ctx, 0, sizeof(p->ctx));
	p->ctx.ra = (uint64_t)(uintptr_t)proc_first_entry;
	p->ctx.sp = (uint64_t)(uintptr_t)p->tf;
}

int proc_run(const char *name, const void *image, size_t len, uint64_t arg, int *status)
{
	struct proc_hart *h = &proc_harts[this_hart()->index];
	struct page *text = NULL, *stack = NULL, *ks;
	uint64_t irq, scratch;
	struct proc *p;
	int rc;

	if (!image || !len || len > PAGE_SIZE || !status || h->current)
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	strncpy(p->name, name ? name : "?", PROC_NAME_MAX - 1);
	rc = vm_create(&p->vm);
	if (rc == 0)
		rc = vm_share(&p->vm, &kernel_vm, 0, USER_VA_BASE);
	if (rc == 0) {
		text = alloc_pages(GFP_ZERO, 0);
		stack = alloc_pages(GFP_ZERO, 0);
		ks = alloc_pages(0, PROC_KSTACK_ORDER);
		p->kstack = ks ? page_address(ks) : NULL;
		rc = text && stack && ks ? 0 : -ENOMEM;
	}
	if (rc == 0) {
		memcpy(page_address(text), image, len);
		rc = vm_map(&p->vm, USER_TEXT, page_to_phys(text), PAGE_SIZE, VM_R | VM_X | VM_U);
	}
	if (rc == 0)
		rc = vm_map(&p->vm, USER_STACK_TOP - PAGE_SIZE, page_to_phys(stack), PAGE_SIZE,
			    VM_R | VM_W | VM_U);
	if (rc) {
		proc_free(p, text, stack);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	p->pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
	proc_frame(p, arg);
	p->state = PROC_RUNNING;

	irq = irq_save();
	scratch = csr_read(sscratch);
	h->current = p;
	use_space(&p->vm);
	proc_switch(&h->sched, &p->ctx);   /* back when it exits */
	kvm_enable_hart();
	csr_write(sscratch, scratch);
	irq_restore(irq);

	*status = p->status;
	proc_free(p, text, stack);
	return 0;
}

void proc_exit(struct proc *p, int status)
{
	struct proc_hart *h = &proc_harts[this_hart()->index];

	p->status = status & 0xff;
	p->state = PROC_EXITED;
	h->current = NULL;
	proc_switch(&p->ctx, &h->sched);
	__builtin_unreachable();   /* nothing switches back to an exited process */
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

void proc_user_trap(struct trap_frame *tf)
{
	struct proc *p = proc_current();
	uint64_t code = tf->scause & ~SCAUSE_INTR;

	if (tf->scause & SCAUSE_INTR) {   /* handled already */
		if (this_hart()->index == 0 && console_interrupted()) {
			kprintf("pid %d (%s): interrupted\n", p->pid, p->name);
			proc_exit(p, PROC_EXIT_SIGINT);
		}
		return;
	}
	switch (code) {
	case 8:   /* environment call from U-mode */
		tf->sepc += 4;
		p->syscalls++;
		tf->x[10] = (uint64_t)syscall_dispatch(p, tf);
		return;
	case 1: case 5: case 7: case 12: case 13: case 15:
		kprintf("pid %d (%s): segmentation fault at 0x%lx (%s), pc 0x%lx\n", p->pid,
			p->name, (unsigned long)tf->stval, fault_kind(code), (unsigned long)tf->sepc);
		proc_exit(p, PROC_EXIT_SIGSEGV);
	case 2:
		kprintf("pid %d (%s): illegal instruction at pc 0x%lx\n", p->pid, p->name,
			(unsigned long)tf->sepc);
		proc_exit(p, PROC_EXIT_SIGILL);
	default:
		kprintf("pid %d (%s): exception %lu at pc 0x%lx\n", p->pid, p->name,
			(unsigned long)code, (unsigned long)tf->sepc);
		proc_exit(p, PROC_EXIT_SIGSEGV);
	}
}
