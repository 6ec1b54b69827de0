/* power.h - leaving the machine. Exit codes seen by the host (QEMU's exit
 * status):
 *   0  poweroff (shell command, or a self-test run that passed)
 *   1  a self-test run that failed  (EXIT_TEST_FAILED)
 *   2  boot could not complete: no device tree, no RAM, RAM beyond the
 *      Sv39 identity map, no Sv39 MMU, mm init failed (each says why)
 *   3  a fatal trap: unexpected exception in the kernel (EXIT_FATAL_TRAP)
 *   4  a broken kernel invariant (EXIT_PANIC) */
#ifndef TALLY_POWER_H
#define TALLY_POWER_H

#define EXIT_OK          0
#define EXIT_TEST_FAILED 1
#define EXIT_BOOT_FAILED 2
#define EXIT_FATAL_TRAP  3
#define EXIT_PANIC       4

/* Shut down; QEMU exits with status 0. */
__attribute__((noreturn)) void poweroff(void);

/* Shut down with a failure status: through the sifive,test0 finisher
 * when the device tree has one, otherwise SBI SRST "system failure". */
__attribute__((noreturn)) void power_fail(int code);

/* Report a broken invariant and power off with EXIT_PANIC. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#endif
