/* trap.c - trap dispatch and the fatal-trap report.
 *
 * Interrupts (timer, external) are handled and return. A trap taken in
 * U-mode is a process's (kernel/proc.c: system calls, its faults). Every
 * other exception is a kernel fault: it is reported with its cause,
 * sepc, stval, all registers and a frame-pointer backtrace, and the machine
 * powers off with EXIT_FATAL_TRAP; one in the guard below a process's
 * kernel stack (kernel/kstack.h) is named first, "kernel stack overflow"
 * with the process and the address. System calls do not come here
 * (trapvec.S: syscall_entry). Nothing here allocates memory. */
#include "kernel/trap.h"
#include <stddef.h>
#include "kernel/console.h"
#include "kernel/kstack.h"
#include "kernel/ksyms.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/sections.h"
#include "kernel/smp.h"
#include "kernel/timer.h"
#include "arch/riscv.h"

_Static_assert(offsetof(struct hart, overflow_sp) == HART_OVERFLOW_SP, "trapvec.S's offset");

extern void trap_vector(void);
static void (*external_handler)(void);

static const char *const exc_names[] = {
	[0] = "instruction address misaligned",
	[1] = "instruction access fault",
	[2] = "illegal instruction",
	[3] = "breakpoint",
	[4] = "load address misaligned",
	[5] = "load access fault",
	[6] = "store address misaligned",
	[7] = "store access fault",
	[8] = "environment call from U-mode",
	[9] = "environment call from S-mode",
	[12] = "instruction page fault",
	[13] = "load page fault",
	[15] = "store page fault",
};

static const char *const reg_names[32] = {
	"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
	"a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
	"s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

/* The trap stack's top word holds the hart (trapvec.S loads tp from it);
 * frames go below it. scounteren: U-mode may read cycle, time and instret
 * (bits CY, TM, IR: rdcycle, rdtime, rdinstret without a trap), so user
 * programs measure themselves (/bin/ubench under -icount shift=0). */
void trap_init_hart(unsigned index)
{
	uintptr_t top = hart_trap_stack_top(index) - 16;

	*(struct hart **)top = &harts[index];
	harts[index].overflow_sp = top;
	csr_write(sscratch, (uint64_t)top);
	csr_write(stvec, (uint64_t)(uintptr_t)trap_vector);
	csr_write(scounteren, 0x7);
}

void trap_set_external_handler(void (*fn)(void))
{
	external_handler = fn;
}

/* Within this hart's boot or trap stack, or the kernel stack of the
 * process it runs (a backtrace walks only those). */
static int in_stack(uint64_t a)
{
	uintptr_t boot = hart_boot_stack_top(this_hart()->index);
	uintptr_t trap = hart_trap_stack_top(this_hart()->index);
	struct proc *p = proc_current();
	uintptr_t ks = p ? (uintptr_t)p->kstack : 0;

	return (a >= boot - HART_BOOT_STACK && a <= boot) ||
	       (a >= trap - HART_TRAP_STACK && a <= trap) ||
	       (ks && a >= ks && a <= ks + KSTACK_SIZE);
}

/* Frame 0 is where execution was; deeper frames are return addresses,
 * named by the call before them (a call to a noreturn function may be the
 * last instruction of its caller). */
static void print_frame(int depth, uint64_t pc)
{
	uintptr_t off;
	const char *name = ksym_lookup(depth ? pc - 1 : pc, &off);

	off += depth != 0;
	if (name)
		kprintf("  #%-2d %016lx %s+0x%lx\n", depth, pc, name, (unsigned long)off);
	else
		kprintf("  #%-2d %016lx\n", depth, pc);
}

static int in_text(uint64_t a)
{
	return a >= (uintptr_t)_text_start && a < (uintptr_t)_text_end;
}

/* RISC-V frame layout with -fno-omit-frame-pointer: fp points just above
 * the frame; the return address is at fp-8 and the caller's fp at fp-16.
 * A leaf function saves only fp (at fp-8): its caller is then found
 * through that saved fp, and its return address is still in ra. */
void backtrace_from(uint64_t fp, uint64_t pc)
{
	int leaf_seen = 0;

	kprintf("backtrace:\n");
	print_frame(0, pc);
	for (int depth = 1; depth < 32 && in_stack(fp) && !(fp & 7); depth++) {
		uint64_t ra = ((uint64_t *)(uintptr_t)fp)[-1];
		uint64_t prev = ((uint64_t *)(uintptr_t)fp)[-2];

		if (depth == 1 && !leaf_seen && !in_text(ra) && in_stack(ra)) {
			leaf_seen = 1;
			fp = ra;	/* leaf frame: [-1] held the caller's fp */
			depth--;
			continue;
		}
		if (!in_text(ra))
			break;
		print_frame(depth, ra);
		if (prev <= fp)
			break;
		fp = prev;
	}
}

static const char *guard_note(uint64_t a)
{
	uintptr_t off = a - (uintptr_t)_stacks_start;

	if (a >= (uintptr_t)_stacks_start && a < (uintptr_t)_stacks_end) {
		off %= HART_AREA;
		if (off < HART_GUARD)
			return " (boot stack guard page: stack overflow)";
		if (off >= HART_GUARD + HART_BOOT_STACK && off < 2 * HART_GUARD + HART_BOOT_STACK)
			return " (trap stack guard page: stack overflow)";
	}
	if (kstack_guard_hit(a, NULL))
		return " (kernel stack guard: stack overflow)";
	if (a < 4096)
		return " (null page)";
	return "";
}

/* A fault whose address or sp lies in the guard below a process's kernel
 * stack (kernel/kstack.h): named, with the process and the stack. */
static void report_kstack_overflow(const struct trap_frame *tf)
{
	uint64_t code = tf->scause & ~SCAUSE_INTR, stack, addr = tf->stval;
	struct proc *p = proc_current();

	if (!((code == 5 || code == 7 || code == 13 || code == 15) && kstack_guard_hit(addr, &stack))) {
		if (!kstack_guard_hit(tf->x[2] - sizeof(*tf), &stack))
			return;
		addr = tf->x[2];   /* the fault was another; its frame would not fit */
	}
	if (p && (uint64_t)(uintptr_t)p->kstack == stack)
		kprintf("\n*** kernel stack overflow: pid %d (%s) at 0x%lx", p->pid, p->name,
			(unsigned long)addr);
	else
		kprintf("\n*** kernel stack overflow: no process of this hart at 0x%lx",
			(unsigned long)addr);
	kprintf(", below its stack [0x%lx, 0x%lx), sp 0x%lx\n", (unsigned long)stack,
		(unsigned long)(stack + KSTACK_SIZE), (unsigned long)tf->x[2]);
}

static void dump_registers(const struct trap_frame *tf)
{
	for (int i = 1; i < 32; i++)
		kprintf("%4s=%016lx%s", reg_names[i], tf->x[i], i % 4 == 3 ? "\n" : " ");
	kprintf("\n");
}

static __attribute__((noreturn, noinline, cold)) void fatal_trap(const struct trap_frame *tf)
{
	uint64_t code = tf->scause & ~SCAUSE_INTR;
	const char *name = code < sizeof(exc_names) / sizeof(exc_names[0]) && exc_names[code]
				   ? exc_names[code] : "unknown exception";

	smp_stop_others();
	report_kstack_overflow(tf);
	kprintf("\n*** KERNEL FAULT: %s (scause %lu) on hart %u (id %lu)\n", name, tf->scause,
		this_hart()->index, this_hart()->hartid);
	kprintf("sepc=%016lx stval=%016lx sstatus=%016lx\n", tf->sepc, tf->stval, tf->sstatus);
	if (code == 12 || code == 13 || code == 15 || code == 5 || code == 7)
		kprintf("faulting address: %016lx%s\n", tf->stval, guard_note(tf->stval));
	dump_registers(tf);
	backtrace_from(tf->x[8], tf->sepc);
	power_fail(EXIT_FATAL_TRAP);
}

uint64_t trap_irq_instret;

/* An interrupt: handled here, then the process's part when it came in
 * U-mode (its tick may end its slice). Kept out of trap_handle so the
 * exceptions' path (page faults) does not pay for its registers. */
__attribute__((noinline)) static void trap_interrupt(struct trap_frame *tf, int user)
{
	uint64_t irq = tf->scause & ~SCAUSE_INTR, start = rdinstret();

	if (irq == IRQ_S_TIMER) {
		timer_tick();
		proc_account_tick(user);
	} else if (irq == IRQ_S_SOFT)
		smp_ipi();
	else if (irq == IRQ_S_EXT && external_handler)
		external_handler();
	else
		kprintf("trap: unexpected interrupt %lu\n", irq);
	if (this_hart()->index == 0)   /* instret is per hart: hart 0's only */
		trap_irq_instret += rdinstret() - start;
	if (user)
		proc_user_trap(tf);
}

void trap_handle(struct trap_frame *tf)
{
	int user = !(tf->sstatus & SSTATUS_SPP);   /* taken in U-mode: a process's */

	if (tf->scause & SCAUSE_INTR)
		trap_interrupt(tf, user);
	else if (user)
		proc_user_trap(tf);   /* the process's own fault (system calls: syscall_entry) */
	else
		fatal_trap(tf);
}
