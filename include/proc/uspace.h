/* uspace.h - the layout of a process's user address space and the
 * protection bits its areas carry.
 *
 * Sv39 gives user space the lower half of the 39-bit space, [0, 2^38)
 * (RISC-V privileged spec 4.4.1: bits 63..39 copy bit 38, so 2^38 and up
 * are the kernel half, sign-extended). Each process shares the kernel's
 * identity map through the top-level entries below USER_VA_BASE (without
 * the U bit: kernel/proc.h, vm_share), so its own memory is the upper
 * 128 GiB, laid out as Linux lays out a 64-bit process (top-down mmap,
 * the stack at the top):
 *
 *   0x00_0000_0000  +---------------------+
 *                   |  kernel identity map |  shared, no U bit: MMIO, RAM, the kernel
 *   KSTACK_VA_BASE  +---------------------+  0x1f_c000_0000 (127 GiB)
 *                   |  kernel stacks       |  shared, no U bit (kernel/kstack.h)
 *   USER_VA_BASE    +=====================+  0x20_0000_0000 (128 GiB)
 *                   |  text data bss      |  ELF segments from here up (static
 *                   |  heap (brk)     ^   |  executables link at USER_VA_BASE);
 *                   |                     |  the heap from the page after them
 *                   |  mmap           v   |  gaps found top-down below USER_MMAP_TOP
 *   USER_MMAP_TOP   +---------------------+  0x3f_ff6f_f000
 *                   |  stack guard gap    |  USER_STACK_GAP: nothing is mapped here
 *                   |  stack          v   |  grows down, at most USER_STACK_MAX
 *   USER_STACK_TOP  +---------------------+  0x3f_ffff_f000 = USER_VA_TOP
 *                   |  never mapped       |  a guard page below 2^38
 *   0x40_0000_0000  +---------------------+  2^38: end of the lower half
 *
 * Every user address is in [USER_VA_BASE, USER_VA_TOP); an ELF segment
 * must lie in [USER_VA_BASE, USER_MMAP_TOP) (elf.h), so neither the stack
 * nor its guard gap can be covered by the image. Constants only: no code
 * here; kernel/proc.h takes its user range from here, and this from
 * uapi/tally/layout.h, what user programs are linked against. */
#ifndef TALLY_PROC_USPACE_H
#define TALLY_PROC_USPACE_H

#include <stdint.h>
#include "uapi/tally/layout.h"

/* The range is the one user programs are linked for (the uapi header is
 * its one definition). */
#define USER_PAGE_SIZE  4096ULL                   /* Sv39 base page */
#define USER_VA_BASE    TALLY_USER_BASE           /* 128 GiB: the first user address */
#define USER_VA_TOP     TALLY_USER_END            /* one past the last: 2^38 less a page */
#define USER_STACK_TOP  USER_VA_TOP               /* the initial sp is below it */
#define USER_STACK_MAX  (8ULL << 20)              /* 8 MiB, Linux's default RLIMIT_STACK */
#define USER_STACK_GAP  (1ULL << 20)              /* 256 pages, Linux's stack_guard_gap */
#define USER_MMAP_TOP   (USER_STACK_TOP - USER_STACK_MAX - USER_STACK_GAP)

/* Protection of an area, Linux's PROT_* values (mmap(2), mprotect(2)).
 * RISC-V has no write-only pages (privileged spec 4.3.1, table 4.5: W
 * without R is reserved), so PROT_WRITE is always mapped with read too. */
#ifndef PROT_NONE
#define PROT_NONE  0x0u
#define PROT_READ  0x1u
#define PROT_WRITE 0x2u
#define PROT_EXEC  0x4u
#endif
#define PROT_MASK  (PROT_READ | PROT_WRITE | PROT_EXEC)

static inline uint64_t user_page_down(uint64_t va)
{
	return va & ~(USER_PAGE_SIZE - 1);
}

/* va rounded up to a page; va must be at most UINT64_MAX - 4095 (callers
 * check for wrap first). */
static inline uint64_t user_page_up(uint64_t va)
{
	return (va + USER_PAGE_SIZE - 1) & ~(USER_PAGE_SIZE - 1);
}

#endif
