/* kstack.c - the processes' kernel stacks in their own region, each
 * above an unmapped guard (kernel/kstack.h has the layout).
 *
 * Not a general vmalloc: fixed-size slots, a bitmap of them, the
 * kernel's page table edited under one lock (nothing else edits
 * kernel_vm after boot). The lock is taken with interrupts off and
 * holds across the page-table allocations of vm_map (lock order:
 * kstack, then the mm's). */
#include "kernel/kstack.h"
#include "kernel/memory.h"
#include "kernel/power.h"
#include "kernel/proc.h"
#include "kernel/sbi.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "arch/riscv.h"
#include "lib/bitops.h"
#include "mm/buddy.h"
#include "mm/page.h"
#include "proc/uspace.h"
#include "kerrno.h"

_Static_assert(KSTACK_VA_BASE + (1ull << KSTACK_VA_SHIFT) == USER_VA_BASE,
	       "the region is the last top-level entry below user space");
_Static_assert((uint64_t)KSTACK_SLOTS * KSTACK_SLOT <= (1ull << KSTACK_VA_SHIFT),
	       "the slots fit in the region");
_Static_assert(KSTACK_SLOTS >= 2 * PROC_MAX && KSTACK_SLOTS % 64 == 0,
	       "a slot for every process, zombies and those being made included");

static struct spinlock kstack_lock = SPINLOCK_INIT("kstack");
static uint64_t slot_used[KSTACK_SLOTS / 64];
static unsigned slots_in_use;

int kstack_init(void)
{
	return vm_pin_table(&kernel_vm, KSTACK_VA_BASE);
}

static uintptr_t slot_stack(unsigned i)
{
	return KSTACK_VA_BASE + (uintptr_t)i * KSTACK_SLOT + KSTACK_GUARD;
}

static void flush_local(uintptr_t va)
{
	for (uintptr_t a = va; a < va + KSTACK_SIZE; a += PAGE_SIZE)
		__asm__ volatile("sfence.vma %0, zero" :: "r"(a) : "memory");
}

/* A free slot taken (kstack_lock held), or -1. */
static int take_slot(void)
{
	for (unsigned w = 0; w < KSTACK_SLOTS / 64; w++)
		if (~slot_used[w]) {
			unsigned b = ctz64(~slot_used[w]);

			slot_used[w] |= 1ull << b;
			slots_in_use++;
			return (int)(w * 64 + b);
		}
	return -1;
}

static void put_slot(unsigned i)
{
	slot_used[i / 64] &= ~(1ull << (i % 64));
	slots_in_use--;
}

void *kstack_alloc(void)
{
	struct page *pg[KSTACK_SIZE / PAGE_SIZE];
	unsigned long flags;
	unsigned i, n = 0;
	uintptr_t va = 0;
	int slot;

	for (; n < KSTACK_SIZE / PAGE_SIZE; n++)   /* the frames first, outside the lock */
		if (!(pg[n] = alloc_pages(0, 0)))
			goto out_frames;
	flags = spin_lock_irqsave(&kstack_lock);
	slot = take_slot();
	if (slot < 0)
		goto out_locked;
	va = slot_stack((unsigned)slot);
	for (i = 0; i < n; i++)
		if (vm_map(&kernel_vm, va + i * PAGE_SIZE, page_to_phys(pg[i]), PAGE_SIZE,
			   VM_R | VM_W) != 0)
			goto out_unmap;
	spin_unlock_irqrestore(&kstack_lock, flags);
	flush_local(va);   /* no stale entry of the slot's earlier stack */
	return (void *)va;

out_unmap:
	while (i--)
		vm_unmap(&kernel_vm, va + i * PAGE_SIZE, PAGE_SIZE);
	put_slot((unsigned)slot);
out_locked:
	spin_unlock_irqrestore(&kstack_lock, flags);
out_frames:
	while (n--)
		free_pages(pg[n], 0);
	return NULL;
}

/* Every other online hart forgets the stack's translations: SBI
 * remote_sfence_vma, one call per 64 hart ids (a mask and its base), which
 * returns once each hart has done it, so nothing here depends on this
 * hart's interrupts. Firmware without the RFENCE extension (SBI before
 * 0.2) is a broken platform here: a panic says so. */
static void flush_others(uintptr_t va)
{
	unsigned me = this_hart()->index;
	uint64_t done = 0;   /* harts[] indexes whose group was flushed */
	long err;

	for (unsigned i = 0; i < nharts; i++) {
		unsigned long base = harts[i].hartid & ~63ul, mask = 0;

		if (done & (1ull << i))
			continue;
		for (unsigned j = i; j < nharts; j++)
			if ((harts[j].hartid & ~63ul) == base) {
				done |= 1ull << j;
				if (j != me && __atomic_load_n(&harts[j].state, __ATOMIC_ACQUIRE) == HART_ONLINE)
					mask |= 1ul << (harts[j].hartid & 63);
			}
		if (mask && (err = sbi_remote_sfence_vma(mask, base, va, KSTACK_SIZE)) != 0)
			panic("kstack: SBI remote_sfence_vma refused (error %ld): harts of mask %lx "
			      "base %lu could keep a way to a freed kernel stack's frames", err, mask, base);
	}
}

void kstack_free(void *stack)
{
	phys_addr_t pa[KSTACK_SIZE / PAGE_SIZE];
	uintptr_t va = (uintptr_t)stack;
	unsigned long flags;

	if (!stack)
		return;
	flags = spin_lock_irqsave(&kstack_lock);
	for (unsigned i = 0; i < KSTACK_SIZE / PAGE_SIZE; i++) {
		pa[i] = 0;
		if (vm_translate(&kernel_vm, va + i * PAGE_SIZE, &pa[i], NULL) == 0)
			vm_unmap(&kernel_vm, va + i * PAGE_SIZE, PAGE_SIZE);
	}
	flush_local(va);
	flush_others(va);   /* no hart keeps a way to the frames: now they may go */
	for (unsigned i = 0; i < KSTACK_SIZE / PAGE_SIZE; i++)
		if (pa[i])
			free_pages(pfn_to_page(pa[i] >> PAGE_SHIFT), 0);
	put_slot((unsigned)((va - KSTACK_VA_BASE) >> KSTACK_SLOT_SHIFT));
	spin_unlock_irqrestore(&kstack_lock, flags);
}

bool kstack_guard_hit(uint64_t addr, uint64_t *stack)
{
	uint64_t off = addr - KSTACK_VA_BASE;

	if (addr < KSTACK_VA_BASE || off >= (uint64_t)KSTACK_SLOTS * KSTACK_SLOT ||
	    (off & (KSTACK_SLOT - 1)) >= KSTACK_GUARD)
		return false;
	if (stack)
		*stack = slot_stack((unsigned)(off >> KSTACK_SLOT_SHIFT));
	return true;
}

unsigned kstack_in_use(void)
{
	return __atomic_load_n(&slots_in_use, __ATOMIC_RELAXED);
}
