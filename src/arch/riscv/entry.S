/* entry.S - first instructions of the kernel.
 *
 * OpenSBI (fw_dynamic) enters here in S-mode on one hart, with the hart id
 * in a0 and the device-tree blob's physical address in a1, paging off.
 * We clear .bss, set up the boot stack and call kmain(hartid, dtb); kmain
 * never returns. Any other hart that arrives here is parked in wfi. */
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
	call	kmain
park:
	csrw	sie, zero
1:	wfi
	j	1b

	.section .data
	.align 2
boot_claimed:
	.word 0
