/* uapi/tally/layout.h - a user process's address range and initial stack.
 *
 * A Tally program is a static ELF64 executable for RISC-V (ELFCLASS64,
 * ELFDATA2LSB, EM_RISCV, ET_EXEC) linked by user/user.ld: text starts at
 * TALLY_USER_BASE, every PT_LOAD is page aligned (p_align 4096, p_vaddr and
 * p_offset equal modulo 4096), and the segments are text (R X), read-only
 * data (R) and data + bss (R W), in that order. The break (brk) starts at
 * the first page boundary after bss. User addresses lie in
 * [TALLY_USER_BASE, TALLY_USER_END): the upper half of Sv39's lower half
 * (128 GiB up to a guard page below 2^38), where the kernel maps nothing
 * of its own: its identity map (RAM, devices) stays below 128 GiB and is
 * shared into every process without the U bit. The kernel's USER_VA_BASE
 * and USER_VA_TOP are these (include/proc/uspace.h defines them from
 * here; tests/user/test_abi.py checks that it does).
 *
 * Initial stack at _start, as Linux and the RISC-V psABI lay it out: sp
 * (16-byte aligned) points at argc; then argv[0..argc-1], NULL;
 * envp[0..], NULL; auxv as (type, value) pairs of 8 bytes each, ending
 * with AT_NULL; the strings above them. Registers other than sp are
 * unspecified (a0 may hold 0); user/lib/crt0.S reads only the stack. */
#ifndef TALLY_UAPI_LAYOUT_H
#define TALLY_UAPI_LAYOUT_H

#define TALLY_USER_BASE   0x2000000000UL     /* 128 GiB: the first user address, start of text */
#define TALLY_USER_END    0x3ffffff000UL     /* one past the last (a guard page below 2^38) */
#define TALLY_PAGE_SIZE   4096UL
#define TALLY_ARG_MAX     (64UL * 1024)      /* bytes of argv + envp strings and pointers */

/* Auxiliary vector types (Linux include/uapi/linux/auxvec.h). */
#define LINUX_AT_NULL     0
#define LINUX_AT_PHDR     3
#define LINUX_AT_PHENT    4
#define LINUX_AT_PHNUM    5
#define LINUX_AT_PAGESZ   6
#define LINUX_AT_ENTRY    9
#define LINUX_AT_RANDOM   25

#endif
