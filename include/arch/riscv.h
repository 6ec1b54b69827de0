/* riscv.h - CSR access and the few RISC-V constants the kernel uses
 * (RISC-V privileged spec v1.12, chapter 4: supervisor level). Never
 * included from src/mm or src/fs. */
#ifndef TALLY_ARCH_RISCV_H
#define TALLY_ARCH_RISCV_H

#include <stdint.h>

#define csr_read(csr) ({ uint64_t v__; \
	__asm__ volatile("csrr %0, " #csr : "=r"(v__)); v__; })
#define csr_write(csr, val) \
	__asm__ volatile("csrw " #csr ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, bits) \
	__asm__ volatile("csrs " #csr ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) \
	__asm__ volatile("csrc " #csr ", %0" :: "rK"((uint64_t)(bits)) : "memory")

#define SSTATUS_SIE   (1ul << 1)
#define SSTATUS_SPIE  (1ul << 5)
#define SSTATUS_SPP   (1ul << 8)
#define SSTATUS_SUM   (1ul << 18)

#define SIE_SSIE      (1ul << 1)
#define SIE_STIE      (1ul << 5)
#define SIE_SEIE      (1ul << 9)

#define SCAUSE_INTR   (1ul << 63)
#define IRQ_S_SOFT    1
#define IRQ_S_TIMER   5
#define IRQ_S_EXT     9

static inline uint64_t rdtime(void)
{
	uint64_t t;
	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

static inline uint64_t rdinstret(void)
{
	uint64_t n;
	__asm__ volatile("rdinstret %0" : "=r"(n));
	return n;
}

/* Disable interrupts; return the previous sstatus.SIE for irq_restore. */
static inline uint64_t irq_save(void)
{
	uint64_t s;
	__asm__ volatile("csrrc %0, sstatus, %1" : "=r"(s) : "i"(SSTATUS_SIE) : "memory");
	return s & SSTATUS_SIE;
}

static inline void irq_restore(uint64_t s)
{
	if (s)
		csr_set(sstatus, SSTATUS_SIE);
}

static inline void wfi(void)
{
	__asm__ volatile("wfi");
}

static inline void sfence_vma(void)
{
	__asm__ volatile("sfence.vma zero, zero" ::: "memory");
}

#endif
