/* trapvec.S - the supervisor trap vector.
 *
 * Every trap switches to the dedicated trap stack (its top is kept in
 * sscratch; sscratch is 0 while a trap is being handled), saves all 31
 * registers plus sepc/sstatus/scause/stval as a struct trap_frame
 * (include/kernel/trap.h), and calls trap_handle(frame). Using a separate
 * stack means a kernel stack overflow into its guard page is still
 * reported instead of faulting again forever. A nested trap (a fault
 * inside the handler) stays on the trap stack below the first frame.
 *
 * A process's kernel part runs on its own kernel stack with sscratch 0
 * (kernel/sched.c), so a fault there is taken as a nested trap, on that
 * stack -- unless the frame would reach into the stack's guard
 * (kernel/kstack.h: the lower half of each 64 KiB slot): the overflow
 * Linux catches with its overflow stack. The frame then goes on the
 * hart's overflow stack (struct hart's overflow_sp), and trap.c reports
 * a kernel stack overflow.
 *
 * The frame's x[0] slot (x0 is never saved) keeps what sscratch held
 * before the trap -- the stack top, or 0 in a nested trap -- and the
 * return puts it back, so a nested trap that returns leaves sscratch 0
 * for the handler it interrupted. A user process's trap comes the same
 * way: while it runs in U-mode, sscratch holds the top of its kernel
 * stack (kernel/proc.c), so its frame is saved there.
 *
 * The word at the stack top (0(top): just above the stack proper) holds
 * the hart's struct hart, loaded into tp on every trap that is not
 * nested: code in U-mode may have changed tp (kernel/smp.h, this_hart).
 *
 * A system call (scause 8, an ecall from U-mode: nothing else has that
 * cause) goes straight to syscall_entry; every other trap to trap_handle.
 *
 * trap_return: restore the frame at sp and sret -- also how a process
 * first enters U-mode (proc.c builds a frame and jumps here). */
#define FRAME	(36 * 8)
#define REG(n)	((n) * 8)
#define EPC	(32 * 8)
#define STATUS	(33 * 8)
#define CAUSE	(34 * 8)
#define TVAL	(35 * 8)

#include "kernel/kstack.h"
#include "kernel/smp.h"

	.section .text
	.globl trap_vector
	.align 4
trap_vector:
	csrrw	sp, sscratch, sp
	bnez	sp, 1f
	/* nested: sscratch was 0, sp held our own trap-stack pointer */
	csrrw	sp, sscratch, zero
	/* would the frame reach into a kernel stack's guard? t0 is kept in
	 * sscratch meanwhile (0 here, so that is free) */
	csrw	sscratch, t0
	addi	t0, sp, -FRAME
	srli	t0, t0, KSTACK_VA_SHIFT
	addi	t0, t0, -(KSTACK_VA_BASE >> KSTACK_VA_SHIFT)
	bnez	t0, 4f			/* not in the kernel stacks' region */
	addi	t0, sp, -FRAME
	srli	t0, t0, KSTACK_GUARD_SHIFT
	andi	t0, t0, 1
	beqz	t0, 5f			/* the lower half of a slot: its guard */
4:	csrrw	t0, sscratch, zero
	addi	sp, sp, -FRAME
	sd	t0, REG(5)(sp)
	addi	t0, sp, FRAME
	sd	t0, REG(2)(sp)
	sd	zero, REG(0)(sp)	/* sscratch was 0 */
	sd	x4, REG(4)(sp)		/* tp is the kernel's already */
	j	2f
5:	/* a kernel stack overflow: the frame goes on this hart's overflow
	 * stack instead (tp is the kernel's here); trap.c reports it */
	ld	t0, HART_OVERFLOW_SP(tp)
	addi	t0, t0, -FRAME
	sd	sp, REG(2)(t0)
	mv	sp, t0
	csrrw	t0, sscratch, zero
	sd	t0, REG(5)(sp)
	sd	zero, REG(0)(sp)	/* sscratch was 0 */
	sd	x4, REG(4)(sp)
	j	2f
1:	addi	sp, sp, -FRAME
	sd	t0, REG(5)(sp)
	csrrw	t0, sscratch, zero	/* t0 = interrupted sp; mark "in trap" */
	sd	t0, REG(2)(sp)
	addi	t0, sp, FRAME
	sd	t0, REG(0)(sp)		/* sscratch was the stack top */
	sd	x4, REG(4)(sp)
	ld	x4, 0(t0)		/* tp: this hart, from the stack top */
2:
	sd	x1, REG(1)(sp)
	sd	x3, REG(3)(sp)
	sd	x6, REG(6)(sp)
	sd	x7, REG(7)(sp)
	sd	x8, REG(8)(sp)
	sd	x9, REG(9)(sp)
	sd	x10, REG(10)(sp)
	sd	x11, REG(11)(sp)
	sd	x12, REG(12)(sp)
	sd	x13, REG(13)(sp)
	sd	x14, REG(14)(sp)
	sd	x15, REG(15)(sp)
	sd	x16, REG(16)(sp)
	sd	x17, REG(17)(sp)
	sd	x18, REG(18)(sp)
	sd	x19, REG(19)(sp)
	sd	x20, REG(20)(sp)
	sd	x21, REG(21)(sp)
	sd	x22, REG(22)(sp)
	sd	x23, REG(23)(sp)
	sd	x24, REG(24)(sp)
	sd	x25, REG(25)(sp)
	sd	x26, REG(26)(sp)
	sd	x27, REG(27)(sp)
	sd	x28, REG(28)(sp)
	sd	x29, REG(29)(sp)
	sd	x30, REG(30)(sp)
	sd	x31, REG(31)(sp)
	csrr	t0, sepc
	sd	t0, EPC(sp)
	csrr	t0, sstatus
	sd	t0, STATUS(sp)
	csrr	t1, stval
	sd	t1, TVAL(sp)
	csrr	t0, scause
	sd	t0, CAUSE(sp)

	mv	a0, sp
	mv	s0, zero	/* the backtrace of the handler stops here */
	li	t1, 8		/* environment call from U-mode: a system call */
	beq	t0, t1, 3f
	call	trap_handle
	j	trap_return
3:	call	syscall_entry	/* kernel/syscall.c: straight to the call */

	.globl trap_return
trap_return:
	/* back to the interrupted code: sscratch as it was before the trap */
	ld	t0, REG(0)(sp)
	csrw	sscratch, t0
	ld	t0, EPC(sp)
	csrw	sepc, t0
	ld	t0, STATUS(sp)
	csrw	sstatus, t0
	ld	x1, REG(1)(sp)
	ld	x3, REG(3)(sp)
	ld	x4, REG(4)(sp)
	ld	x5, REG(5)(sp)
	ld	x6, REG(6)(sp)
	ld	x7, REG(7)(sp)
	ld	x8, REG(8)(sp)
	ld	x9, REG(9)(sp)
	ld	x10, REG(10)(sp)
	ld	x11, REG(11)(sp)
	ld	x12, REG(12)(sp)
	ld	x13, REG(13)(sp)
	ld	x14, REG(14)(sp)
	ld	x15, REG(15)(sp)
	ld	x16, REG(16)(sp)
	ld	x17, REG(17)(sp)
	ld	x18, REG(18)(sp)
	ld	x19, REG(19)(sp)
	ld	x20, REG(20)(sp)
	ld	x21, REG(21)(sp)
	ld	x22, REG(22)(sp)
	ld	x23, REG(23)(sp)
	ld	x24, REG(24)(sp)
	ld	x25, REG(25)(sp)
	ld	x26, REG(26)(sp)
	ld	x27, REG(27)(sp)
	ld	x28, REG(28)(sp)
	ld	x29, REG(29)(sp)
	ld	x30, REG(30)(sp)
	ld	x31, REG(31)(sp)
	ld	x2, REG(2)(sp)
	sret
