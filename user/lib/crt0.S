/* crt0.S - where a Tally program starts: _start, entered in U-mode at the
 * ELF entry with the initial stack the RISC-V psABI and Linux's execve
 * lay out (include/uapi/tally/layout.h): sp -> argc, argv[], NULL,
 * envp[], NULL, auxv. Sets gp and tp, then hands argc, argv and envp to
 * __tally_start (start.c), which never returns. Not a dynamic loader: no
 * relocations are applied, the image runs where user.ld linked it. */

	.section .text.tally_start, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	/* gp for linker relaxation; must not itself be relaxed against gp. */
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	/* The TLS block is the image's .tdata/.tbss, already in place. */
	la	tp, __tls_base
	/* End the frame-pointer chain for debuggers and backtraces. */
	li	s0, 0
	li	ra, 0
	ld	a0, 0(sp)		/* argc */
	addi	a1, sp, 8		/* argv */
	slli	t0, a0, 3
	add	a2, a1, t0
	addi	a2, a2, 8		/* envp = &argv[argc + 1] */
	andi	sp, sp, -16		/* already aligned by contract; cheap to be sure */
	call	__tally_start
1:	j	1b			/* __tally_start does not return */
	.size _start, . - _start
