/* kstack.h - the processes' kernel stacks, each below an unmapped guard:
 * a region of the kernel's address space of their own, mapped with
 * 4 KiB pages (the identity map's 2 MiB leaves leave no page unmapped).
 *
 *   KSTACK_VA_BASE  0x1f_c000_0000 (127 GiB): the last top-level entry
 *                   below USER_VA_BASE, so every process shares it with
 *                   the identity map (vm_share); its table is made at
 *                   boot and pinned (vm_pin_table), so a stack mapped
 *                   later shows in every space
 *   slot i          [BASE + i * KSTACK_SLOT, + KSTACK_SLOT):
 *                     lower half  KSTACK_GUARD  never mapped
 *                     upper half  KSTACK_SIZE   the stack, R W
 *   KSTACK_SLOTS    slots (twice PROC_MAX: processes being made and
 *                   zombies not reaped yet hold one too)
 *
 * The kernel's identity map ends below KSTACK_VA_BASE (memory.c). A
 * stack that runs into its guard faults; trapvec.S sees the frame would
 * not fit on it and takes that trap on the hart's overflow stack, and
 * trap.c reports "kernel stack overflow" with the process and the
 * address, then stops the machine, as Linux panics (the process may hold
 * any lock: killing it is not safe).
 *
 * Constants only when included from assembly. */
#ifndef TALLY_KERNEL_KSTACK_H
#define TALLY_KERNEL_KSTACK_H

#define KSTACK_VA_BASE    0x1fc0000000   /* 127 GiB */
#define KSTACK_VA_SHIFT   30             /* the region: one 1 GiB top-level entry */
#define KSTACK_SLOT_SHIFT 16
#define KSTACK_SLOT       (1 << KSTACK_SLOT_SHIFT)       /* 64 KiB */
#define KSTACK_GUARD_SHIFT 15
#define KSTACK_GUARD      (1 << KSTACK_GUARD_SHIFT)      /* 32 KiB, the lower half */
#define KSTACK_SIZE       (KSTACK_SLOT - KSTACK_GUARD)   /* 32 KiB, the upper half */
#define KSTACK_SLOTS      128

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

/* Pin the region's table in the kernel's space (vm_pin_table); before
 * any process is made (every space shares the entry above it from then
 * on). Returns 0 or -ENOMEM. */
int kstack_init(void);

/* A kernel stack: KSTACK_SIZE bytes of fresh frames mapped R W at the top
 * of a free slot, its guard below it unmapped, this hart's TLB flushed for
 * them. Returns its lowest address, or NULL (-ENOMEM: no frame, no table
 * page, or every slot taken; nothing is left allocated then). */
void *kstack_alloc(void);

/* Give back what kstack_alloc gave: unmapped, the TLB of every online
 * hart flushed for it (SBI remote_sfence_vma; a firmware refusing it is
 * a panic), then its frames and any table page left empty freed, its
 * slot free again. The stack must be off every hart (its process exited
 * and switched away, or never ran). NULL is ignored. */
void kstack_free(void *stack);

/* Whether addr lies in a slot's guard, and then the stack above it
 * (*stack, its lowest address). */
bool kstack_guard_hit(uint64_t addr, uint64_t *stack);

/* Stacks in use now (for tests: back to the figure before, once every
 * process made meanwhile is reaped). */
unsigned kstack_in_use(void);
#endif

#endif
