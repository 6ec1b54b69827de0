/* selftest_user.S - small U-mode programs for the `proc` KTAP suite
 * (selftest_proc.c). Each is position-independent code between
 * user_NAME and user_NAME_end, copied to USER_TEXT by proc_run and
 * entered with a0 = the test's argument. System calls by Linux's riscv64
 * numbers: write 64, exit 93, getpid 172. Kept in .rodata: the kernel
 * never runs them itself. */
#define SYS_write  64
#define SYS_exit   93
#define SYS_getpid 172
#define SYS_getppid 173
#define SYS_sched_yield 124
#define SYS_kill   129
#define SYS_wait4  260
#define SYS_clock_gettime 113
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

/* spin forever, no system call: only the tick or a kill ends its slice */
	.globl user_spin, user_spin_end
user_spin:
1:	j	1b
user_spin_end:

/* a0 sched_yield calls, then exit(getppid() + 3 if every yield returned 0,
 * else 1) */
	.globl user_yield_ppid, user_yield_ppid_end
user_yield_ppid:
	mv	s0, a0
	li	s1, 0
1:	li	a7, SYS_sched_yield
	ecall
	or	s1, s1, a0
	addi	s0, s0, -1
	bnez	s0, 1b
	li	a7, SYS_getppid
	ecall
	addi	a0, a0, 3
	beqz	s1, 2f
	li	a0, 1
2:	li	a7, SYS_exit
	ecall
user_yield_ppid_end:

/* wait4(-1, NULL, 0, NULL) with no child, and clock_gettime(MONOTONIC)
 * into its stack: exit(-wait4's result) (10, ECHILD) when the clock
 * answered 0 with tv_nsec below 10^9, else exit(1) */
	.globl user_wait_echild, user_wait_echild_end
user_wait_echild:
	li	a7, SYS_clock_gettime
	li	a0, 1
	addi	sp, sp, -16
	mv	a1, sp
	ecall
	bnez	a0, 1f
	ld	t0, 8(sp)
	li	t1, 1000000000
	bgeu	t0, t1, 1f
	li	a7, SYS_wait4
	li	a0, -1
	li	a1, 0
	li	a2, 0
	li	a3, 0
	ecall
	neg	a0, a0
	j	2f
1:	li	a0, 1
2:	li	a7, SYS_exit
	ecall
user_wait_echild_end:

/* kill(getpid(), SIGTERM): it must not come back; exit(0) if it does */
	.globl user_kill_self, user_kill_self_end
user_kill_self:
	li	a7, SYS_getpid
	ecall
	li	a1, 15
	li	a7, SYS_kill
	ecall
	li	a0, 0
	li	a7, SYS_exit
	ecall
user_kill_self_end:
