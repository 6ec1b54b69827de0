/* elf_fixture.c - a real static rv64 executable for tests/host/test_elf.c
 * (built with the cross compiler, -nostdlib -static: see the Makefile).
 * It is never run, only validated and cut short at every length: what
 * matters is that the toolchain's own layout -- text, read-only data,
 * data, bss in separate PT_LOAD segments -- is what Tally accepts. */
static const char greeting[] = "hello from a fixture\n";
static const char *volatile message = greeting;   /* .data, pointing into .rodata */
static volatile long counter = 7;
static char scratch[8192];

void _start(void)
{
	register long a7 __asm__("a7") = 93;   /* exit */
	register long a0 __asm__("a0");

	scratch[counter] = message[3];
	a0 = scratch[7] + counter;
	__asm__ volatile("ecall" : : "r"(a7), "r"(a0));
	for (;;)
		;
}
