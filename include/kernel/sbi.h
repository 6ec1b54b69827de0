/* sbi.h - calls into OpenSBI (RISC-V SBI spec v1.0). */
#ifndef TALLY_SBI_H
#define TALLY_SBI_H

#include <stdint.h>

#define SBI_EXT_BASE  0x10
#define SBI_EXT_TIME  0x54494D45
#define SBI_EXT_HSM   0x48534D
#define SBI_EXT_IPI   0x735049
#define SBI_EXT_SRST  0x53525354
#define SBI_EXT_RFENCE 0x52464E43

#define SBI_HSM_STARTED        0
#define SBI_HSM_STOPPED        1
#define SBI_HSM_START_PENDING  2
#define SBI_HSM_STOP_PENDING   3
#define SBI_HSM_SUSPENDED      4

#define SBI_SRST_SHUTDOWN      0
#define SBI_SRST_REASON_NONE   0
#define SBI_SRST_REASON_FAIL   1

struct sbiret {
	long error;
	long value;
};

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2);

/* 1 when the extension is implemented (SBI base: probe_extension). */
int sbi_probe(long ext);
void sbi_set_timer(uint64_t when);
/* HSM hart_start (SBI spec 9.1): the hart enters start in S-mode with
 * paging off, a0 = its hart id, a1 = opaque. Returns 0 or the SBI error. */
long sbi_hart_start(unsigned long hartid, uintptr_t start, unsigned long opaque);
/* HSM hart_stop (9.2): the calling hart stops; returns only on an error. */
void sbi_hart_stop(void);
/* IPI send_ipi (7.1): a supervisor software interrupt to the harts whose
 * bits are set in mask, bit i meaning hart id base + i. 0 or the error. */
long sbi_send_ipi(unsigned long mask, unsigned long base);
/* RFENCE remote_sfence_vma (8.3): the harts of mask (as send_ipi's)
 * execute sfence.vma for [start, start + size) (all of it when size is
 * 0 or -1); the firmware returns once they have. 0 or the error. */
long sbi_remote_sfence_vma(unsigned long mask, unsigned long base, uintptr_t start,
			   unsigned long size);
/* The HSM state of a hart, or a negative SBI error. */
long sbi_hart_status(unsigned long hartid);
/* Returns only if the reset failed. */
void sbi_system_reset(uint32_t type, uint32_t reason);
/* Legacy console putchar (v0.1 extension 1): for output before the UART. */
void sbi_console_putchar(int c);

#endif
