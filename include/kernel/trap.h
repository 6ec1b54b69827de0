/* trap.h - the saved register state of a trap, and the trap entry points. */
#ifndef TALLY_TRAP_H
#define TALLY_TRAP_H

#include <stdint.h>

/* Laid out as src/arch/riscv/trapvec.S stores it: x[0] (x0 is never
 * saved) holds what sscratch held before the trap, put back on return. */
struct trap_frame {
	uint64_t x[32];
	uint64_t sepc, sstatus, scause, stval;
};

/* Install the trap vector and this hart's trap stack (in sscratch); index
 * is its dense index (kernel/smp.h). Interrupts stay off. */
void trap_init_hart(unsigned index);

/* Called by trapvec.S for every trap but a system call. */
void trap_handle(struct trap_frame *tf);

/* Called by trapvec.S for a system call (an ecall from U-mode, scause 8;
 * kernel/syscall.c): sepc past the ecall, a0 the result; returns to the
 * process, or never when it exits or was killed. */
void syscall_entry(struct trap_frame *tf);

/* Print a frame-pointer backtrace starting at frame pointer fp. */
void backtrace_from(uint64_t fp, uint64_t pc);

/* Instructions hart 0 retired inside interrupt handlers since boot (the
 * trap vector's save/restore excluded; instret is per hart, and the shell
 * measures on hart 0): benchmarks subtract it, since how many timer ticks
 * land inside a measurement depends on the host. */
extern uint64_t trap_irq_instret;

/* Register the handler for supervisor external interrupts (the PLIC). */
void trap_set_external_handler(void (*fn)(void));

#endif
