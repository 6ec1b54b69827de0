/* selftest_user.S - small U-mode programs for the `proc` KTAP suite
 * (selftest_proc.c). Each is position-independent code between
 * user_NAME and user_NAME_end, copied to USER_TEXT by proc_run and
 * entered with a0 = the test's argument. System calls by Linux's riscv64
 * numbers: write 64, exit 93, getpid 172. Kept in .rodata: the kernel
 * never runs them itself. */
#define SYS_write  64
#define SYS_exit   93
#define SYS_getpid 172
#define USER_VA_BASE   0x2000000000
#define USER_STACK_TOP 0x3ffffff000

	.section .rodata
	.balign 4

/* write a line, then exit(7) if write said it wrote all of it */
	.globl user_hello, user_hello_end
user_hello:
	j	4f
hello_msg:
	.ascii	"proc: hello from user space\n"
hello_msg_end:
	.equ	HELLO_LEN, hello_msg_end - hello_msg
	.balign 4
4:	li	a7, SYS_write
	li	a0, 1
	lla	a1, hello_msg
	li	a2, HELLO_LEN
	ecall
	mv	s0, a0
	li	a7, SYS_getpid
	ecall
	li	t0, HELLO_LEN
	li	a0, 7
	beq	s0, t0, 3f
	li	a0, 1
3:	li	a7, SYS_exit
	ecall
user_hello_end:

/* exit(a0 + 1): the argument arrives in a0; a value kept across a push
 * and pop on the stack */
	.globl user_arg, user_arg_end
user_arg:
	addi	sp, sp, -16
	sd	a0, 8(sp)
	li	a0, 0
	ld	a0, 8(sp)
	addi	sp, sp, 16
	addi	a0, a0, 1
	li	a7, SYS_exit
	ecall
user_arg_end:

/* a load from address 0 */
	.globl user_null, user_null_end
user_null:
	ld	a0, 0(zero)
	li	a7, SYS_exit
	ecall
user_null_end:

/* a store into its own text (mapped R X) */
	.globl user_store_text, user_store_text_end
user_store_text:
	lla	t0, user_store_text
	sd	zero, 0(t0)
	li	a7, SYS_exit
	ecall
user_store_text_end:

/* a load from the kernel's image (mapped without U) */
	.globl user_kernel_load, user_kernel_load_end
user_kernel_load:
	li	t0, 0x80200000
	ld	a0, 0(t0)
	li	a7, SYS_exit
	ecall
user_kernel_load_end:

/* a store below its one stack page: the stack grows down to it; exit(a0) */
	.globl user_below_stack, user_below_stack_end
user_below_stack:
	li	t0, USER_STACK_TOP - 8192
	sd	zero, 0(t0)
	li	a7, SYS_exit
	ecall
user_below_stack_end:

/* a store beyond the stack's limit (8 MiB below its top) */
	.globl user_stack_limit, user_stack_limit_end
user_stack_limit:
	li	t0, USER_STACK_TOP - (8 << 20) - 8192
	sd	zero, 0(t0)
	li	a7, SYS_exit
	ecall
user_stack_limit_end:

/* write() from the kernel's image, from an unmapped user page, and from a
 * buffer whose second half lies past the stack's top: exit(14) when the
 * first two are -EFAULT and the third writes its first half only */
	.globl user_efault, user_efault_end
user_efault:
	li	a7, SYS_write
	li	a0, 1
	li	a1, 0x80200000
	li	a2, 16
	ecall
	mv	s0, a0
	li	a7, SYS_write
	li	a0, 1
	li	a1, USER_VA_BASE + 0x100000
	li	a2, 4
	ecall
	mv	s1, a0
	li	t1, USER_STACK_TOP - 3	/* its last three bytes: newlines */
	li	t2, 10
	sb	t2, 0(t1)
	sb	t2, 1(t1)
	sb	t2, 2(t1)
	li	a7, SYS_write
	li	a0, 1
	mv	a1, t1
	li	a2, 6
	ecall
	mv	s2, a0
	li	a0, 1
	li	t0, -14
	bne	s0, t0, 1f
	bne	s1, t0, 1f
	li	t0, 3
	bne	s2, t0, 1f
	li	a0, 14
1:	li	a7, SYS_exit
	ecall
user_efault_end:

/* an unknown system call: exit(-its result) */
	.globl user_enosys, user_enosys_end
user_enosys:
	li	a7, 999
	ecall
	neg	a0, a0
	li	a7, SYS_exit
	ecall
user_enosys_end:

/* an illegal instruction */
	.globl user_illegal, user_illegal_end
user_illegal:
	.word	0
user_illegal_end:

/* a0 getpid calls in a loop, then exit(0): the round trip's cost */
	.globl user_getpid_loop, user_getpid_loop_end
user_getpid_loop:
	mv	s0, a0
1:	li	a7, SYS_getpid
	ecall
	addi	s0, s0, -1
	bnez	s0, 1b
	li	a0, 0
	li	a7, SYS_exit
	ecall
user_getpid_loop_end:
