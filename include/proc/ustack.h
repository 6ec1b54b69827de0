/* ustack.h - a new process's initial user stack: argc, argv, envp and
 * the auxiliary vector, as Linux's execve leaves them.
 *
 * The RISC-V psABI fixes only that sp is 16-byte aligned at entry
 * (riscv-cc.adoc, "Integer Calling Convention": "the stack pointer shall
 * be aligned to a 128-bit boundary upon procedure entry"); what sits
 * above sp is the System V convention Linux implements for every
 * architecture (fs/binfmt_elf.c, create_elf_tables), and what a libc's
 * _start reads. From sp upward, in 8-byte words:
 *
 *   sp ->  argc
 *          argv[0] .. argv[argc-1], NULL
 *          envp[0] .. envp[envc-1], NULL
 *          auxv: (AT_PHDR, v) (AT_PHENT, v) (AT_PHNUM, v) (AT_PAGESZ, 4096)
 *                (AT_ENTRY, v) (AT_RANDOM, address of the 16 bytes) (AT_NULL, 0)
 *                (uapi/tally/layout.h's LINUX_AT_* numbers)
 *          zero padding up to the next 16-byte boundary
 *          AT_RANDOM's 16 bytes (16-byte aligned)
 *          argv strings, then envp strings, each NUL-terminated
 *          8 zero bytes (the end marker)
 *   top ->
 *
 * Built in a kernel buffer standing for the user range [top - size, top)
 * (the caller copies or maps it there); every pointer written is a user
 * address in that range. Not here: copying the strings from user space
 * (the caller passes kernel copies), mapping the stack. */
#ifndef TALLY_PROC_USTACK_H
#define TALLY_PROC_USTACK_H

#include <stddef.h>
#include <stdint.h>
#include "uapi/tally/layout.h"

/* The auxiliary vector's types are uapi/tally/layout.h's LINUX_AT_*; the
 * pairs written, AT_NULL included: */
#define USTACK_AUXV_PAIRS 7

/* All argument and environment strings with their NULs and pointers at
 * most TALLY_ARG_MAX (64 KiB, what user programs are promised: Linux
 * allows a quarter of the stack limit); -E2BIG past it, as Linux. */
#define USTACK_ARG_MAX    TALLY_ARG_MAX

struct ustack_args {
	const char *const *argv;   /* argc strings (argv may be NULL when argc is 0) */
	unsigned argc;
	const char *const *envp;   /* envc strings (envp may be NULL when envc is 0) */
	unsigned envc;
	uint64_t phdr, phent, phnum, entry;   /* from struct elf_plan */
	uint8_t random[16];        /* AT_RANDOM's bytes (the caller's randomness) */
};

/* Where things went, as user addresses. */
struct ustack_layout {
	uint64_t sp;        /* the initial sp: 16-byte aligned, argc there */
	uint64_t argv;      /* sp + 8 */
	uint64_t envp;      /* argv + 8 * (argc + 1) */
	uint64_t auxv;      /* envp + 8 * (envc + 1) */
	uint64_t random;    /* AT_RANDOM's 16 bytes */
	uint64_t strings;   /* argv[0]'s first byte (or the end marker) */
	uint64_t used;      /* top - sp: bytes of the buffer used, at its end */
};

/* Build the stack in buf[0..size), which stands for user addresses
 * [top - size, top); only its last `out->used` bytes are written (the
 * rest is left as it was). top must be 16-byte aligned and top - size
 * must not wrap. Returns 0 with *out filled; -EINVAL when buf, a or out
 * is NULL, top is unaligned or below size, or argv/envp or one of their
 * strings is NULL; -E2BIG when the strings and pointers pass
 * USTACK_ARG_MAX or it all does not fit in size (nothing is written
 * then). Strings are read at most USTACK_ARG_MAX + 1 bytes far. */
int ustack_build(void *buf, size_t size, uint64_t top, const struct ustack_args *a,
		 struct ustack_layout *out);

#endif
