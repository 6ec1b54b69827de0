/* memory.h - bringing up physical memory and the kernel page table. */
#ifndef TALLY_MEMORY_H
#define TALLY_MEMORY_H

#include "mm/vm.h"

/* The kernel's own address space (identity map), valid after kvm_init. */
extern struct vm_space kernel_vm;

/* Build the frame array and zones from `platform`; print one line per
 * zone. Returns 0, -ERANGE (said why) when RAM ends beyond what the Sv39
 * identity map reaches, or the error of page_alloc_init. */
int mem_init(void);

/* Build the kernel page table and switch to it (Sv39). Returns 0;
 * -ENOMEM when the tables cannot be allocated; -ENODEV (said why) when
 * satp does not take Sv39 (a CPU without an MMU). Paging stays off after
 * an error. */
int kvm_init(void);

/* Paging on for the calling hart with the kernel's table (kvm_init made
 * it): a secondary hart's first step. */
void kvm_enable_hart(void);

/* Start the object allocators (slab caches, heap, kmalloc modes); one
 * boot line. Returns 0 or -ENOMEM. */
int kmem_init(void);

#endif
