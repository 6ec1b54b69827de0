/* entry.S - first instructions of the kernel, for every hart.
 *
 * _start: OpenSBI (fw_dynamic) enters here in S-mode on one hart, with the
 * hart id in a0 and the device-tree blob's physical address in a1, paging
 * off. We clear .bss, set up hart 0's boot stack and tp (&harts[0]) and
 * call kmain(hartid, dtb); kmain never returns. Any other hart that
 * arrives here is parked in wfi.
 *
 * _secondary_entry: where SBI HSM hart_start sends the others (smp.c), in
 * S-mode with paging off, a0 = hart id, a1 = opaque = its struct hart,
 * whose first field is its index: sp = that index's boot stack top
 * (kernel/smp.h's layout), tp = a1, then smp_secondary_main(a0, a1). */
#include "kernel/smp.h"
	.section .text.entry
	.globl _start
_start:
	/* Only the first hart to get here boots; the others wait forever
	 * (OpenSBI normally keeps them stopped in SBI HSM anyway). */
	la	t0, boot_claimed
	li	t1, 1
	amoswap.w.aq t1, t1, (t0)
	bnez	t1, park

	la	sp, _boot_stack_top
	mv	s0, zero		/* end of the frame-pointer chain */

	la	t0, _bss_start
	la	t1, _bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, (t0)
	addi	t0, t0, 8
	j	1b
2:
	la	tp, harts		/* this_hart() works from here on */
	call	kmain
park:
	csrw	sie, zero
1:	wfi
	j	1b

	.globl _secondary_entry
_secondary_entry:
	csrw	sie, zero
	lwu	t0, 0(a1)		/* struct hart.index */
	li	t1, HART_AREA
	mul	t0, t0, t1
	la	sp, _stacks_start
	add	sp, sp, t0
	li	t1, HART_GUARD + HART_BOOT_STACK
	add	sp, sp, t1
	mv	tp, a1
	mv	s0, zero
	call	smp_secondary_main
	j	park

	.section .data
	.align 2
boot_claimed:
	.word 0
