/* start.c - the C half of program start-up (crt0.S calls __tally_start):
 * the environment and auxiliary vector found on the initial stack,
 * constructors, main, exit. Not the place for stdio or malloc set-up:
 * both start lazily. */
#include <stdlib.h>

#include "tally/syscall.h"
#include "uapi/tally/layout.h"

char **environ;
static const unsigned long *auxv;

extern void (*__preinit_array_start[])(int, char **, char **);
extern void (*__preinit_array_end[])(int, char **, char **);
extern void (*__init_array_start[])(int, char **, char **);
extern void (*__init_array_end[])(int, char **, char **);

int main(int argc, char **argv, char **envp);
void __tally_start(int argc, char **argv, char **envp) __attribute__((noreturn, used));

/* The value of auxiliary vector entry `type`, 0 when absent (as Linux's
 * getauxval, without its errno). */
unsigned long tally_getauxval(unsigned long type)
{
	for (const unsigned long *a = auxv; a && a[0] != LINUX_AT_NULL; a += 2)
		if (a[0] == type)
			return a[1];
	return 0;
}

static void run_array(void (**start)(int, char **, char **),
		      void (**end)(int, char **, char **), int argc, char **argv, char **envp)
{
	for (; start < end; start++)
		(*start)(argc, argv, envp);
}

void __tally_start(int argc, char **argv, char **envp)
{
	char **p = envp;

	environ = envp;
	while (*p)
		p++;
	auxv = (const unsigned long *)(p + 1);
	run_array(__preinit_array_start, __preinit_array_end, argc, argv, envp);
	run_array(__init_array_start, __init_array_end, argc, argv, envp);
	exit(main(argc, argv, envp));
}
