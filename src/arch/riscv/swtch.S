/* swtch.S - switch kernel contexts: proc_switch(from, to) saves ra, sp and
 * s0..s11 (the registers a call preserves, RISC-V psABI "Integer Register
 * Convention") into *from and loads them from *to, returning into to's ra.
 * struct proc_context in include/kernel/proc.h. */
	.section .text
	.globl proc_switch
	.align 2
proc_switch:
	sd	ra, 0(a0)
	sd	sp, 8(a0)
	sd	s0, 16(a0)
	sd	s1, 24(a0)
	sd	s2, 32(a0)
	sd	s3, 40(a0)
	sd	s4, 48(a0)
	sd	s5, 56(a0)
	sd	s6, 64(a0)
	sd	s7, 72(a0)
	sd	s8, 80(a0)
	sd	s9, 88(a0)
	sd	s10, 96(a0)
	sd	s11, 104(a0)
	ld	ra, 0(a1)
	ld	sp, 8(a1)
	ld	s0, 16(a1)
	ld	s1, 24(a1)
	ld	s2, 32(a1)
	ld	s3, 40(a1)
	ld	s4, 48(a1)
	ld	s5, 56(a1)
	ld	s6, 64(a1)
	ld	s7, 72(a1)
	ld	s8, 80(a1)
	ld	s9, 88(a1)
	ld	s10, 96(a1)
	ld	s11, 104(a1)
	ret

/* The first return into a process: its context starts here with sp at its
 * trap frame (whose x[0] is the kernel stack top, for sscratch);
 * proc_first_run ends it if it was killed before it ever ran. */
	.globl proc_first_entry
proc_first_entry:
	call	proc_first_run
	j	trap_return
