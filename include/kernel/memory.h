/* memory.h - bringing up physical memory and the kernel page table. */
#ifndef TALLY_MEMORY_H
#define TALLY_MEMORY_H

#include "mm/vm.h"

/* The kernel's own address space (identity map), valid after kvm_init. */
extern struct vm_space kernel_vm;

/* Build the frame array and zones from `platform`; print one line per
 * zone. Returns 0 or the error of page_alloc_init. */
int mem_init(void);

/* Build the kernel page table and switch to it (Sv39). Returns 0, or
 * -ENOMEM when the tables cannot be allocated (paging stays off then). */
int kvm_init(void);

/* Start the object allocators (slab caches, heap, kmalloc modes); one
 * boot line. Returns 0 or -ENOMEM. */
int kmem_init(void);

#endif
