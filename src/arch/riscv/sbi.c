/* sbi.c - the SBI calls Tally makes: probe, timer, HSM start and status,
 * IPI, remote fence, system reset.
 * Calling convention: extension id in a7, function id in a6, arguments in
 * a0..a5; the error comes back in a0 and the value in a1 (SBI spec ch. 3). */
#include "kernel/sbi.h"

struct sbiret sbi_call(long ext, long fid, long a0, long a1, long a2)
{
	register long r0 __asm__("a0") = a0;
	register long r1 __asm__("a1") = a1;
	register long r2 __asm__("a2") = a2;
	register long r6 __asm__("a6") = fid;
	register long r7 __asm__("a7") = ext;

	__asm__ volatile("ecall"
			 : "+r"(r0), "+r"(r1)
			 : "r"(r2), "r"(r6), "r"(r7)
			 : "memory");
	return (struct sbiret){ .error = r0, .value = r1 };
}

int sbi_probe(long ext)
{
	struct sbiret r = sbi_call(SBI_EXT_BASE, 3, ext, 0, 0);

	return r.error == 0 && r.value != 0;
}

void sbi_set_timer(uint64_t when)
{
	sbi_call(SBI_EXT_TIME, 0, (long)when, 0, 0);
}

long sbi_hart_start(unsigned long hartid, uintptr_t start, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, 0, (long)hartid, (long)start, (long)opaque).error;
}

void sbi_hart_stop(void)
{
	sbi_call(SBI_EXT_HSM, 1, 0, 0, 0);
}

long sbi_send_ipi(unsigned long mask, unsigned long base)
{
	return sbi_call(SBI_EXT_IPI, 0, (long)mask, (long)base, 0).error;
}

long sbi_remote_sfence_vma(unsigned long mask, unsigned long base, uintptr_t start,
			   unsigned long size)
{
	register long a0 __asm__("a0") = (long)mask;
	register long a1 __asm__("a1") = (long)base;
	register long a2 __asm__("a2") = (long)start;
	register long a3 __asm__("a3") = (long)size;
	register long a6 __asm__("a6") = 1;   /* remote_sfence_vma */
	register long a7 __asm__("a7") = SBI_EXT_RFENCE;

	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a6), "r"(a7)
			 : "memory");
	return a0;
}

long sbi_hart_status(unsigned long hartid)
{
	struct sbiret r = sbi_call(SBI_EXT_HSM, 2, (long)hartid, 0, 0);

	return r.error ? r.error : r.value;
}

void sbi_system_reset(uint32_t type, uint32_t reason)
{
	sbi_call(SBI_EXT_SRST, 0, type, reason, 0);
}

void sbi_console_putchar(int c)
{
	sbi_call(1, 0, c, 0, 0);
}
