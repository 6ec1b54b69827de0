/* uspace.h - the layout of a process's user address space and the
 * protection bits its areas carry.
 *
 * Sv39 gives user space the lower half of the 39-bit space, [0, 2^38)
 * (RISC-V privileged spec 4.4.1: bits 63..39 copy bit 38, so 2^38 and up
 * are the kernel's, sign-extended). Within it, as Linux lays out a 64-bit
 * process (top-down mmap, the stack at the top):
 *
 *   0x00_0000_0000  +---------------------+
 *                   |  never mapped       |  null pointers fault; Linux's mmap_min_addr
 *   USER_VA_MIN     +---------------------+  0x1_0000: ELF segments from here up
 *                   |  text data bss      |  (static rv64 executables link at 0x10000)
 *                   |  heap (brk)     ^   |  from the page after the highest segment
 *                   |                     |
 *                   |  mmap           v   |  gaps found top-down below USER_MMAP_TOP
 *   USER_MMAP_TOP   +---------------------+  0x3f_ff6f_f000
 *                   |  stack guard gap    |  USER_STACK_GAP: nothing is mapped here
 *                   |  stack          v   |  grows down, at most USER_STACK_MAX
 *   USER_STACK_TOP  +---------------------+  0x3f_ffff_f000 = USER_VA_END
 *                   |  never mapped       |  the last user page
 *   0x40_0000_0000  +---------------------+  2^38: end of the user half
 *
 * Every user address is in [USER_VA_MIN, USER_VA_END); an ELF segment
 * must lie in [USER_VA_MIN, USER_MMAP_TOP) (elf.h), so neither the stack
 * nor its guard gap can be covered by the image. Constants only: no code
 * here. */
#ifndef TALLY_PROC_USPACE_H
#define TALLY_PROC_USPACE_H

#include <stdint.h>

#define USER_PAGE_SIZE  4096ULL                   /* Sv39 base page */
#define USER_VA_MIN     0x10000ULL                /* 64 KiB, as Linux's mmap_min_addr */
#define USER_VA_END     0x3ffffff000ULL           /* exclusive; 2^38 less one page */
#define USER_STACK_TOP  USER_VA_END               /* the initial sp is below it */
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
