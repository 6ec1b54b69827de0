/* memory.c - physical memory and paging bring-up, from `struct platform`.
 *
 * The kernel page table is an identity map (virtual == physical), which
 * keeps the frame array, device-tree pointers and DMA addresses valid
 * without translation. What it maps:
 *   RAM outside the kernel image   R W      (2 MiB / 1 GiB leaves where aligned)
 *   kernel .text                   R X
 *   kernel .rodata                 R
 *   kernel .data/.bss, stacks      R W      (never X)
 *   stack guard pages              unmapped (an overflow faults)
 * and, in a region of their own above it, the processes' kernel stacks
 * (kernel/kstack.h, 4 KiB pages below guards).
 *   device MMIO from the DT        R W
 *   page 0 (null)                  unmapped
 */
#include "kernel/memory.h"
#include "kernel/console.h"
#include "kernel/kstack.h"
#include "kernel/platform.h"
#include "kernel/proc.h"
#include "kernel/sections.h"
#include "kernel/smp.h"
#include "mm/buddy.h"
#include "mm/kmalloc.h"
#include "mm/stats.h"
#include "mm/txn.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define SATP_SV39 (8ull << 60)
/* The identity map puts RAM at virtual == physical in the lower half of
 * Sv39's sign-extended space (below 2^38, privileged spec 4.4.1), and
 * user processes take the upper part of that half (kernel/proc.h): every
 * process shares the kernel's top-level entries below USER_VA_BASE, the
 * last of which is the kernel stacks' region (kernel/kstack.h), so RAM
 * and devices must end below that. */
#define IDENTITY_REACH KSTACK_VA_BASE

struct vm_space kernel_vm;

static uintptr_t addr(const char *sym)
{
	return (uintptr_t)sym;
}

static void print_zone(const struct zone *z)
{
	uint64_t start = z->start_pfn << PAGE_SHIFT, end = z->end_pfn << PAGE_SHIFT;

	kprintf("zone %-6s %09lx-%09lx %6lu MiB, %lu pages free, min %lu\n", z->name,
		(unsigned long)start, (unsigned long)end,
		(unsigned long)((end - start) >> 20), z->free_pages, z->wmark_min);
}

/* Checked before the frame array is built: setting up frames for RAM the
 * page table cannot map took half a minute, only to fail. */
static int check_reach(void)
{
	for (int i = 0; i < platform.nram; i++) {
		uint64_t end = platform.ram[i].base + platform.ram[i].size;

		if (end > IDENTITY_REACH || end < platform.ram[i].base) {
			kprintf("memory: RAM up to %lx is beyond what the Sv39 identity map reaches "
				"(%lx, %lu GiB): give QEMU at most -m %luG\n", (unsigned long)end,
				(unsigned long)IDENTITY_REACH, (unsigned long)(IDENTITY_REACH >> 30),
				(unsigned long)((IDENTITY_REACH - platform.ram[0].base) >> 30));
			return -ERANGE;
		}
	}
	return 0;
}

int mem_init(void)
{
	struct mm_region ram[PLAT_MAX_RAM], resv[PLAT_MAX_RESERVED + 1];
	struct mm_layout l = { .ram = ram, .nram = platform.nram, .reserved = resv,
			       .kernel = { addr(_kernel_start), addr(_kernel_end) - addr(_kernel_start) } };
	int rc = check_reach();

	if (rc)
		return rc;
	for (int i = 0; i < platform.nram; i++)
		ram[i] = (struct mm_region){ platform.ram[i].base, platform.ram[i].size };
	for (int i = 0; i < platform.nreserved; i++)
		resv[l.nreserved++] = (struct mm_region){ platform.reserved[i].base,
							  platform.reserved[i].size };
	resv[l.nreserved++] = (struct mm_region){ platform.dtb_base, platform.dtb_size };
	rc = page_alloc_init(&l);
	if (rc)
		return rc;
	for (int z = 0; z < NR_ZONES; z++)
		if (zone_get(z)->present_pages)
			print_zone(zone_get(z));
	return 0;
}

int kmem_init(void)
{
	int rc = kmalloc_init();

	mm_txn_reset();
	mm_stats_reset();
	if (!rc)
		kprintf("kmalloc: mode %s, %u slab size classes, SimpleHeap on demand\n",
			mm_mode_name(), kmalloc_nr_classes());
	return rc;
}

static int map_identity(uintptr_t start, uintptr_t end, unsigned perm)
{
	start &= PAGE_MASK;
	end = (end + PAGE_SIZE - 1) & PAGE_MASK;
	return start < end ? vm_map(&kernel_vm, start, start, end - start, perm) : 0;
}

/* Devices may share a page (or a large leaf) with another device: when
 * part of the range is mapped already, map the rest page by page. */
static int map_mmio(const struct plat_device *d)
{
	uintptr_t start = d->base & PAGE_MASK, end = (d->base + d->size + PAGE_SIZE - 1) & PAGE_MASK;
	int rc;

	if (!d->size)
		return 0;
	if (end > IDENTITY_REACH || end < start) {
		kprintf("memory: device at %lx is beyond what the identity map reaches (%lx): "
			"not mapped\n", (unsigned long)d->base, (unsigned long)IDENTITY_REACH);
		return -ERANGE;
	}
	rc = map_identity(start, end, VM_R | VM_W | VM_LARGE);
	if (rc != -EEXIST)
		return rc;
	for (uintptr_t p = start; p < end; p += PAGE_SIZE)
		if (vm_translate(&kernel_vm, p, NULL, NULL) == -ENOENT &&
		    (rc = map_identity(p, p + PAGE_SIZE, VM_R | VM_W)) != 0)
			return rc;
	return 0;
}

static int map_ram(void)
{
	uintptr_t ks = addr(_kernel_start), ke = addr(_kernel_end);
	int rc = 0;

	for (int i = 0; i < platform.nram && !rc; i++) {
		uintptr_t s = platform.ram[i].base, e = s + platform.ram[i].size;

		if (ks >= s && ke <= e) {
			rc = map_identity(s, ks, VM_R | VM_W | VM_LARGE);
			if (!rc)
				rc = map_identity(ke, e, VM_R | VM_W | VM_LARGE);
		} else {
			rc = map_identity(s, e, VM_R | VM_W | VM_LARGE);
		}
	}
	return rc;
}

static int map_kernel(void)
{
	int rc;

	if ((rc = map_identity(addr(_text_start), addr(_text_end), VM_R | VM_X)) ||
	    (rc = map_identity(addr(_rodata_start), addr(_rodata_end), VM_R)) ||
	    (rc = map_identity(addr(_data_start), addr(_stacks_start), VM_R | VM_W)) ||
	    (rc = map_identity(addr(_stacks_end), addr(_kernel_end), VM_R | VM_W)))
		return rc;
	for (unsigned i = 0; i < HART_MAX && !rc; i++) {   /* guard pages stay unmapped */
		uintptr_t boot = hart_boot_stack_top(i), trap = hart_trap_stack_top(i);

		rc = map_identity(boot - HART_BOOT_STACK, boot, VM_R | VM_W);
		if (!rc)
			rc = map_identity(trap - HART_TRAP_STACK, trap, VM_R | VM_W);
	}
	return rc;
}

static int map_devices(void)
{
	int rc;

	if ((rc = map_mmio(&platform.uart)) || (rc = map_mmio(&platform.test)))
		return rc;
	for (int i = 0; i < platform.nintc; i++)
		if ((rc = map_mmio(&(struct plat_device){ platform.intc[i].base,
							  platform.intc[i].size, 0 })))
			return rc;
	for (int i = 0; i < platform.nvirtio; i++)
		if ((rc = map_mmio(&platform.virtio[i])))
			return rc;
	return 0;
}

void kvm_enable_hart(void)
{
	sfence_vma();
	csr_write(satp, SATP_SV39 | (virt_to_phys(kernel_vm.root) >> PAGE_SHIFT));
	sfence_vma();
}

int kvm_init(void)
{
	struct vm_counts c;
	int rc = vm_create(&kernel_vm);

	if (!rc && !(rc = map_ram()) && !(rc = map_kernel()))
		rc = map_devices();
	if (rc) {
		vm_destroy(&kernel_vm);
		return rc;
	}
	kvm_enable_hart();
	/* A write of an unsupported MODE has no effect (privileged spec
	 * 4.1.11): without Sv39, satp reads back without it. */
	if (csr_read(satp) >> 60 != SATP_SV39 >> 60) {
		kprintf("paging: satp reads %lx after writing Sv39: this CPU has no Sv39 MMU, "
			"which Tally needs\n", (unsigned long)csr_read(satp));
		vm_destroy(&kernel_vm);
		return -ENODEV;
	}
	vm_count(&kernel_vm, &c);
	kprintf("paging: Sv39 identity map, %lu tables, leaves %lu x 1G %lu x 2M %lu x 4K\n",
		c.tables, c.leaves[2], c.leaves[1], c.leaves[0]);
	return 0;
}
