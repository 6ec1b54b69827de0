/* selftest_user_files.S - a U-mode program for the `files` KTAP suite
 * (selftest_files.c), copied to USER_TEXT by proc_run and entered with
 * a0 = what to do: 0 close the file before exiting, 1 leave it open (the
 * kernel closes it at exit). Linux's riscv64 numbers: openat 56, close 57,
 * read 63, fstat 80, exit 93.
 *
 * openat(AT_FDCWD, "/README.txt", O_RDONLY), read 16 bytes onto the
 * stack, fstat onto the stack; exit with -errno of the first call that
 * fails (ENOMEM: 12), 99 for a short read, else 0. */
#define SYS_openat 56
#define SYS_close  57
#define SYS_read   63
#define SYS_fstat  80
#define SYS_exit   93
#define AT_FDCWD   -100

	.section .rodata
	.balign 4
	.globl user_open_read, user_open_read_end
user_open_read:
	j	1f
path:
	.asciz	"/README.txt"
	.balign 4
1:	mv	s1, a0
	addi	sp, sp, -144
	li	a7, SYS_openat
	li	a0, AT_FDCWD
	lla	a1, path
	li	a2, 0
	li	a3, 0
	ecall
	bltz	a0, 8f
	mv	s0, a0
	li	a7, SYS_read
	mv	a1, sp
	li	a2, 16
	ecall
	bltz	a0, 8f
	li	t0, 16
	bne	a0, t0, 7f
	li	a7, SYS_fstat
	mv	a0, s0
	mv	a1, sp
	ecall
	bltz	a0, 8f
	bnez	s1, 6f
	li	a7, SYS_close
	mv	a0, s0
	ecall
	bltz	a0, 8f
6:	li	a0, 0
	j	9f
7:	li	a0, 99
	j	9f
8:	neg	a0, a0
9:	li	a7, SYS_exit
	ecall
user_open_read_end:
