/* selftest_mman_user.S - U-mode programs for the `mman` KTAP suite
 * (selftest_mman.c): mmap, munmap, mprotect and madvise (kernel/mman.h).
 *
 * Each program is a small interpreter followed by a script of rows, all
 * within the one page proc_run copies to USER_TEXT. A row is eight
 * doublewords: an operation, six arguments, the value expected:
 *   nr >= 0    the system call nr(a0..a5); its result must equal want
 *   OP_STORE   store byte a1 at a0 (no check)
 *   OP_LOAD    load the byte at a0; it must equal want
 *   OP_JUMP    jump to a0 (a fault case: it never comes back)
 *   OP_SPIN    spin here for good (the test looks at the process, then
 *              kills it)
 * An argument or want equal to ARG stands for the program's argument (a0
 * at entry). The first row that differs ends the program with its row
 * number (1-based); after the last row it exits 0. A row meant to kill
 * the process comes last: the test then expects 139. Expected values are
 * Linux's (errno numbers from include/kerrno.h, flag values from
 * uapi/tally/mman.h), not what Tally printed. */
#define SYS_munmap   215
#define SYS_mmap     222
#define SYS_mprotect 226
#define SYS_madvise  233
#define SYS_exit     93

#define OP_STORE -1
#define OP_LOAD  -2
#define OP_JUMP  -3
#define OP_SPIN  -4
#define ARG      0x4152474152474152

#define P        4096
#define BASE     0x2000000000            /* USER_VA_BASE = USER_TEXT */
#define TOP      0x3ffffff000            /* USER_VA_TOP */
#define MMAP_TOP 0x3fff6ff000            /* USER_MMAP_TOP: TOP - 8 MiB - 1 MiB */
#define A        (BASE + 0x40000000)     /* free space: 1 GiB above the text */
#define B        (BASE + 0x80000000)
#define C        (BASE + 0x1000000000)   /* 64 GiB up: room for ARG-sized areas below */
#define GiB      0x40000000

#define R   1
#define RW  3
#define X   4
#define SHARED    0x01
#define PRIV      0x02
#define FIXED     0x10
#define ANON      0x20
#define NORESERVE 0x4000
#define POPULATE  0x8000
#define NOREPLACE 0x100000
#define PA        (PRIV | ANON)

#define MADV_NORMAL     0
#define MADV_RANDOM     1
#define MADV_SEQUENTIAL 2
#define MADV_WILLNEED   3
#define MADV_DONTNEED   4
#define MADV_FREE       8

#define EPERM  -1
#define EBADF  -9
#define ENOMEM -12
#define EEXIST -17
#define ENODEV -19
#define EINVAL -22

	.macro row nr, a0=0, a1=0, a2=0, a3=0, a4=0, a5=0, want=0
	.dword \nr, \a0, \a1, \a2, \a3, \a4, \a5, \want
	.endm

	/* reg = the program's argument when it holds ARG */
	.macro argsub reg
	bne	\reg, s5, 9f
	mv	\reg, s3
9:
	.endm

	/* the interpreter: user_NAME, then its rows up to user_NAME_end */
	.macro program name
	.balign 8
	.globl user_\name, user_\name\()_end
user_\name:
	mv	s3, a0
	li	s5, ARG
	lla	s0, 8f
	lla	s1, user_\name\()_end
	li	s2, 1
1:	bgeu	s0, s1, 6f
	ld	a7, 0(s0)
	ld	a0, 8(s0)
	argsub	a0
	ld	a1, 16(s0)
	argsub	a1
	ld	a2, 24(s0)
	argsub	a2
	ld	a3, 32(s0)
	argsub	a3
	ld	a4, 40(s0)
	argsub	a4
	ld	a5, 48(s0)
	argsub	a5
	ld	s4, 56(s0)
	argsub	s4
	bltz	a7, 2f
	ecall
	j	4f
2:	li	t0, OP_STORE
	bne	a7, t0, 3f
	sb	a1, 0(a0)
	j	5f
3:	li	t0, OP_LOAD
	bne	a7, t0, 10f
	lbu	a0, 0(a0)
	j	4f
10:	li	t0, OP_SPIN
	beq	a7, t0, 10b
	jalr	a0
4:	bne	a0, s4, 6f
5:	addi	s0, s0, 64
	addi	s2, s2, 1
	j	1b
6:	li	a0, 0
	bgeu	s0, s1, 7f
	mv	a0, s2
7:	li	a7, SYS_exit
	ecall
	.balign 8
8:
	.endm

	.section .rodata

/* Refusals, each with Linux's errno, and the placements that are fixed:
 * a hint rounded up, top-down below USER_MMAP_TOP, MAP_SHARED anonymous
 * accepted (fd ignored), a read-only mapping that commits nothing. */
	program mman_errors
	row SYS_mmap, 0, 0, RW, PA, -1, 0, EINVAL                 /* 1 length 0 */
	row SYS_mmap, 0, P, RW, PA, -1, 1, EINVAL                 /* 2 offset unaligned */
	row SYS_mmap, 0, P, RW, ANON, -1, 0, EINVAL               /* 3 neither private nor shared */
	row SYS_mmap, 0, P, RW, ANON | 3, -1, 0, EINVAL           /* 4 MAP_SHARED_VALIDATE */
	row SYS_mmap, 0, P, RW, PRIV, -1, 0, EBADF                /* 5 a file, fd -1 */
	row SYS_mmap, 0, P, RW, PRIV, 1, 0, ENODEV                /* 6 a file, the console */
	row SYS_mmap, A + 1, P, RW, PA | FIXED, -1, 0, EINVAL     /* 7 fixed, unaligned */
	row SYS_mmap, 0x1000, P, RW, PA | FIXED, -1, 0, EPERM     /* 8 fixed, below user space */
	row SYS_mmap, TOP - P, 2 * P, RW, PA | FIXED, -1, 0, ENOMEM /* 9 fixed, past the top */
	row SYS_mmap, 0, 1 << 40, R, PA, -1, 0, ENOMEM            /* 10 larger than user space */
	row SYS_mmap, 0, 64 * GiB, RW, PA, -1, 0, ENOMEM          /* 11 writable: not committable */
	row SYS_mmap, BASE, P, RW, PA | NOREPLACE, -1, 0, EEXIST  /* 12 over the text */
	row SYS_mmap, BASE + 1, P, RW, PA | NOREPLACE, -1, 0, EINVAL /* 13 unaligned */
	row SYS_mmap, A, 64 * GiB, R, PA | FIXED, -1, 0, A        /* 14 read-only: no commit */
	row SYS_mprotect, A, 64 * GiB, RW, 0, 0, 0, ENOMEM        /* 15 writable: not committable */
	row SYS_munmap, A, 64 * GiB, 0, 0, 0, 0, 0                /* 16 */
	row SYS_munmap, A + 1, P, 0, 0, 0, 0, EINVAL              /* 17 unaligned */
	row SYS_munmap, A, 0, 0, 0, 0, 0, EINVAL                  /* 18 length 0 */
	row SYS_munmap, BASE, 1 << 40, 0, 0, 0, 0, EINVAL         /* 19 past the top */
	row SYS_munmap, 0x1000, P, 0, 0, 0, 0, 0                  /* 20 below user space: nothing */
	row SYS_munmap, A, P, 0, 0, 0, 0, 0                       /* 21 nothing mapped there */
	row SYS_mprotect, A + 1, P, R, 0, 0, 0, EINVAL            /* 22 unaligned */
	row SYS_mprotect, A, P, R, 0, 0, 0, ENOMEM                /* 23 nothing mapped */
	row SYS_mprotect, A, 0, R, 0, 0, 0, 0                     /* 24 length 0 */
	row SYS_mprotect, BASE, P, 0x10, 0, 0, 0, EINVAL          /* 25 unknown protection bit */
	row SYS_mprotect, 0x1000, P, R, 0, 0, 0, ENOMEM           /* 26 below user space */
	row SYS_mmap, A + 5, P, RW, PA, -1, 0, A + P              /* 27 a hint, rounded up */
	row SYS_mmap, 0, P, RW, SHARED | ANON, 5, 0, MMAP_TOP - P /* 28 top-down; fd ignored */
	row OP_STORE, MMAP_TOP - P, 0x66
	row OP_LOAD, MMAP_TOP - P, 0, 0, 0, 0, 0, 0x66            /* 30 */
	row SYS_mmap, 0, 2 * P, R, PA, -1, 0, MMAP_TOP - 3 * P    /* 31 the next gap down */
	row OP_LOAD, MMAP_TOP - 2 * P, 0, 0, 0, 0, 0, 0           /* 32 reads zero */
	row SYS_munmap, MMAP_TOP - 3 * P, 3 * P, 0, 0, 0, 0, 0    /* 33 both at once */
	row SYS_mmap, 0, P, RW, PA, -1, 0, MMAP_TOP - P           /* 34 the gap is back */
user_mman_errors_end:

/* Splits and their effects: partial munmap keeps the pages around the
 * hole, mprotect over a hole changes nothing, MAP_FIXED_NOREPLACE fills a
 * hole, MAP_FIXED replaces pages with zeroed ones, PROT_NONE keeps the
 * contents, MAP_POPULATE (also over pages mapped already) reads zero. */
	program mman_split
	row SYS_mmap, A, 4 * P, RW, PA | FIXED, -1, 0, A          /* 1 */
	row OP_STORE, A, 0x10
	row OP_STORE, A + P, 0x11
	row OP_STORE, A + 2 * P, 0x12
	row OP_STORE, A + 3 * P, 0x13
	row SYS_munmap, A + P, 2 * P, 0, 0, 0, 0, 0               /* 6 the middle two */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x10                       /* 7 */
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x13               /* 8 */
	row SYS_mprotect, A, 4 * P, R, 0, 0, 0, ENOMEM            /* 9 over the hole */
	row OP_STORE, A, 0x20                                     /* 10 still writable */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x20                       /* 11 */
	row SYS_mmap, A + P, P, RW, PA | NOREPLACE, -1, 0, A + P  /* 12 into the hole */
	row OP_LOAD, A + P, 0, 0, 0, 0, 0, 0                      /* 13 zero */
	row SYS_mmap, A, 2 * P, RW, PA | FIXED, -1, 0, A          /* 14 replace two pages */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0                          /* 15 a fresh page */
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x13               /* 16 untouched */
	row SYS_mprotect, A + 3 * P, P, R, 0, 0, 0, 0             /* 17 */
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x13               /* 18 */
	row SYS_mprotect, A + 3 * P, P, 0, 0, 0, 0, 0             /* 19 PROT_NONE */
	row SYS_mprotect, A + 3 * P, P, RW, 0, 0, 0, 0            /* 20 and back */
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x13               /* 21 kept its contents */
	row OP_STORE, A + 3 * P, 0x14
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x14               /* 23 writable again */
	row SYS_mmap, B, 3 * P, RW, PA | FIXED | POPULATE, -1, 0, B /* 24 */
	row OP_LOAD, B + 2 * P, 0, 0, 0, 0, 0, 0                  /* 25 */
	row OP_STORE, B + P, 0x77
	row SYS_mmap, B + P, 3 * P, R, PA | FIXED | POPULATE, -1, 0, B + P /* 27 over one mapped and one not */
	row OP_LOAD, B + P, 0, 0, 0, 0, 0, 0                      /* 28 a new zeroed page */
	row OP_LOAD, B + 3 * P, 0, 0, 0, 0, 0, 0                  /* 29 */
	row SYS_mmap, B, P, R, PA | FIXED | POPULATE, -1, 0, B    /* 30 populated over populated */
	row SYS_munmap, A, 4 * P, 0, 0, 0, 0, 0                   /* 31 */
	row SYS_munmap, B, 4 * P, 0, 0, 0, 0, 0                   /* 32 */
	row SYS_munmap, B, 4 * P, 0, 0, 0, 0, 0                   /* 33 again: nothing there */
user_mman_split_end:

/* MAP_POPULATE of ARG bytes (more than the allocator can hand out) fails
 * and changes nothing: the page it would have replaced keeps its data
 * and stays writable, the range it would have taken stays free. */
	program mman_populate_oom
	row SYS_mmap, A, P, RW, PA | FIXED, -1, 0, A              /* 1 */
	row OP_STORE, A, 0x5a
	row SYS_mmap, A, ARG, R, PA | FIXED | POPULATE, -1, 0, ENOMEM /* 3 */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x5a                       /* 4 */
	row OP_STORE, A, 0x5b
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x5b                       /* 6 */
	row SYS_mmap, B, ARG, R, PA | NOREPLACE | POPULATE, -1, 0, ENOMEM /* 7 */
	row SYS_mmap, B, P, RW, PA | NOREPLACE, -1, 0, B          /* 8 still free */
	row SYS_mmap, 0, ARG, R, PA | POPULATE, -1, 0, ENOMEM     /* 9 placed top-down */
	row SYS_mmap, 0, P, RW, PA, -1, 0, MMAP_TOP - P           /* 10 nothing left behind */
user_mman_populate_oom_end:

/* MAP_NORESERVE (Linux's VM_NORESERVE, heuristic overcommit): a writable
 * mapping of far more than memory is refused, and allowed when not
 * committed; a later mprotect to writable is not committed either; a
 * read-only mapping made writable is. BIG: more than any machine the
 * tests boot has, and nothing is touched but two pages. */
#define BIG (16 * GiB)
	program mman_noreserve
	row SYS_mmap, A, BIG, RW, PA | FIXED, -1, 0, ENOMEM       /* 1 committed */
	row SYS_mmap, A, BIG, RW, PA | FIXED | NORESERVE, -1, 0, A /* 2 not */
	row OP_STORE, A, 0x5a
	row OP_STORE, A + BIG - P, 0x5b
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x5a                       /* 5 */
	row OP_LOAD, A + BIG - P, 0, 0, 0, 0, 0, 0x5b             /* 6 */
	row SYS_mprotect, A, BIG, R, 0, 0, 0, 0                   /* 7 */
	row SYS_mprotect, A, BIG, RW, 0, 0, 0, 0                  /* 8 not committed */
	row SYS_munmap, A, BIG, 0, 0, 0, 0, 0                     /* 9 */
	row SYS_mmap, A, BIG, R, PA | FIXED, -1, 0, A             /* 10 read-only */
	row SYS_mprotect, A, BIG, RW, 0, 0, 0, ENOMEM             /* 11 committed */
	row SYS_munmap, A, BIG, 0, 0, 0, 0, 0                     /* 12 */
user_mman_noreserve_end:

/* madvise: DONTNEED drops pages, which read zero at the next touch and
 * stay writable, and leaves the pages around them; the hints change
 * nothing; errors as Linux's (advice, alignment, wrapping length; a hole
 * is ENOMEM after the rest was done); a PROT_NONE area's pages are
 * dropped too; the kernel's shared range below USER_VA_BASE is no area
 * of the process (ENOMEM, nothing done). */
	program mman_madvise
	row SYS_mmap, A, 4 * P, RW, PA | FIXED, -1, 0, A          /* 1 */
	row OP_STORE, A, 0x31
	row OP_STORE, A + P, 0x32
	row OP_STORE, A + 2 * P, 0x33
	row OP_STORE, A + 3 * P, 0x34
	row SYS_madvise, A + P, 2 * P, MADV_DONTNEED, 0, 0, 0, 0  /* 6 the middle two */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x31                       /* 7 kept */
	row OP_LOAD, A + P, 0, 0, 0, 0, 0, 0                      /* 8 a zeroed page */
	row OP_LOAD, A + 2 * P, 0, 0, 0, 0, 0, 0                  /* 9 */
	row OP_LOAD, A + 3 * P, 0, 0, 0, 0, 0, 0x34               /* 10 kept */
	row OP_STORE, A + P, 0x42
	row OP_LOAD, A + P, 0, 0, 0, 0, 0, 0x42                   /* 12 still writable */
	row SYS_madvise, A, 4 * P, MADV_WILLNEED, 0, 0, 0, 0      /* 13 hints */
	row SYS_madvise, A, 4 * P, MADV_NORMAL, 0, 0, 0, 0        /* 14 */
	row SYS_madvise, A, 4 * P, MADV_RANDOM, 0, 0, 0, 0        /* 15 */
	row SYS_madvise, A, 4 * P, MADV_SEQUENTIAL, 0, 0, 0, 0    /* 16 */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x31                       /* 17 nothing dropped */
	row SYS_madvise, A, P, 5, 0, 0, 0, EINVAL                 /* 18 no such advice */
	row SYS_madvise, A, P, 1000, 0, 0, 0, EINVAL              /* 19 */
	row SYS_madvise, A + 1, P, MADV_DONTNEED, 0, 0, 0, EINVAL /* 20 unaligned */
	row SYS_madvise, A, -1, MADV_DONTNEED, 0, 0, 0, EINVAL    /* 21 rounding wraps */
	row SYS_madvise, TOP, -2 * P, MADV_DONTNEED, 0, 0, 0, EINVAL /* 22 the end wraps */
	row SYS_madvise, A, 0, MADV_DONTNEED, 0, 0, 0, 0          /* 23 length 0: nothing */
	row SYS_madvise, A, 0, 5, 0, 0, 0, EINVAL                 /* 24 advice first */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0x31                       /* 25 */
	row SYS_madvise, A, P, MADV_FREE, 0, 0, 0, 0              /* 26 dropped at once */
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0                          /* 27 */
	row SYS_mmap, B, 3 * P, RW, PA | FIXED, -1, 0, B          /* 28 */
	row OP_STORE, B, 0x51
	row OP_STORE, B + 2 * P, 0x53
	row SYS_munmap, B + P, P, 0, 0, 0, 0, 0                   /* 31 a hole */
	row SYS_madvise, B, 3 * P, MADV_DONTNEED, 0, 0, 0, ENOMEM /* 32 */
	row OP_LOAD, B, 0, 0, 0, 0, 0, 0                          /* 33 yet dropped */
	row OP_LOAD, B + 2 * P, 0, 0, 0, 0, 0, 0                  /* 34 on both sides */
	row SYS_madvise, B + P, P, MADV_WILLNEED, 0, 0, 0, ENOMEM /* 35 a hint over a hole */
	row SYS_madvise, B + 3 * P, P, MADV_DONTNEED, 0, 0, 0, ENOMEM /* 36 past the last area */
	row SYS_madvise, 0x80000000, P, MADV_DONTNEED, 0, 0, 0, ENOMEM /* 37 the kernel's RAM */
	row SYS_madvise, 0x1000, BASE - 0x1000, MADV_DONTNEED, 0, 0, 0, ENOMEM /* 38 all of the shared range */
	row SYS_mmap, B + P, P, RW, PA | FIXED, -1, 0, B + P      /* 39 */
	row OP_STORE, B + P, 0x55
	row SYS_mprotect, B + P, P, 0, 0, 0, 0, 0                 /* 41 PROT_NONE, frame kept */
	row SYS_madvise, B + P, P, MADV_DONTNEED, 0, 0, 0, 0      /* 42 dropped all the same */
	row SYS_mprotect, B + P, P, RW, 0, 0, 0, 0                /* 43 */
	row OP_LOAD, B + P, 0, 0, 0, 0, 0, 0                      /* 44 */
	row SYS_munmap, A, 4 * P, 0, 0, 0, 0, 0                   /* 45 */
	row SYS_munmap, B, 3 * P, 0, 0, 0, 0, 0                   /* 46 */
user_mman_madvise_end:

/* For the RSS count: 8 pages touched, the middle 4 dropped, then it
 * spins with its text page and 4 of those mapped (selftest_mman.c). */
	program mman_madvise_rss
	row SYS_mmap, A, 8 * P, RW, PA | FIXED, -1, 0, A          /* 1 */
	row OP_STORE, A, 1
	row OP_STORE, A + P, 1
	row OP_STORE, A + 2 * P, 1
	row OP_STORE, A + 3 * P, 1
	row OP_STORE, A + 4 * P, 1
	row OP_STORE, A + 5 * P, 1
	row OP_STORE, A + 6 * P, 1
	row OP_STORE, A + 7 * P, 1
	row SYS_madvise, A + 2 * P, 4 * P, MADV_DONTNEED, 0, 0, 0, 0 /* 10 */
	row OP_SPIN
user_mman_madvise_rss_end:

/* Strict commit counts what the process was promised already: two
 * PROT_NONE reservations of ARG bytes (two thirds of what a process could
 * get), the first made writable, the second then refused, as is a new
 * writable mapping; MADV_DONTNEED keeps the promise; unmapping the first
 * lets the second through. */
	program mman_commit_pieces
	row SYS_mmap, A, ARG, 0, PA | FIXED, -1, 0, A             /* 1 not committed */
	row SYS_mmap, C, ARG, 0, PA | FIXED, -1, 0, C             /* 2 */
	row SYS_mprotect, A, ARG, RW, 0, 0, 0, 0                  /* 3 committed */
	row SYS_mprotect, C, ARG, RW, 0, 0, 0, ENOMEM             /* 4 both: too much */
	row SYS_mmap, 0, ARG, RW, PA, -1, 0, ENOMEM               /* 5 */
	row OP_STORE, A, 1
	row SYS_madvise, A, ARG, MADV_DONTNEED, 0, 0, 0, 0        /* 7 */
	row SYS_mprotect, C, ARG, RW, 0, 0, 0, ENOMEM             /* 8 still promised */
	row SYS_munmap, A, ARG, 0, 0, 0, 0, 0                     /* 9 */
	row SYS_mprotect, C, ARG, RW, 0, 0, 0, 0                  /* 10 */
	row SYS_munmap, C, ARG, 0, 0, 0, 0, 0                     /* 11 */
user_mman_commit_pieces_end:

/* Accesses that must kill the process (139): the last row each. */
	program mman_none
	row SYS_mmap, A, P, 0, PA | FIXED, -1, 0, A
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0
user_mman_none_end:

	program mman_none_populated
	row SYS_mmap, A, P, RW, PA | FIXED | POPULATE, -1, 0, A
	row SYS_mprotect, A, P, 0, 0, 0, 0, 0
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0
user_mman_none_populated_end:

	program mman_readonly
	row SYS_mmap, A, P, RW, PA | FIXED, -1, 0, A
	row OP_STORE, A, 1
	row SYS_mprotect, A, P, R, 0, 0, 0, 0
	row OP_LOAD, A, 0, 0, 0, 0, 0, 1
	row OP_STORE, A, 2
user_mman_readonly_end:

	program mman_unmapped
	row SYS_mmap, A, 2 * P, RW, PA | FIXED, -1, 0, A
	row OP_STORE, A + P, 1
	row SYS_munmap, A + P, P, 0, 0, 0, 0, 0
	row OP_LOAD, A, 0, 0, 0, 0, 0, 0
	row OP_LOAD, A + P, 0, 0, 0, 0, 0, 0
user_mman_unmapped_end:

	program mman_noexec
	row SYS_mmap, A, P, RW, PA | FIXED | POPULATE, -1, 0, A
	row OP_JUMP, A
user_mman_noexec_end:
