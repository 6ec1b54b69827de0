/* hello - the smallest Tally program: stdio over write(2), argv and the
 * environment from the initial stack, exit status from main. Prints
 * "hello: <text>" with its arguments (or "world"), "argc: N", "pid: N",
 * then "env: NAME=VALUE" for each entry of its environment, in order, and
 * exits 0. */
#include <stdio.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("hello:");
	if (argc < 2)
		printf(" world");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nargc: %d\npid: %d\n", argc, (int)getpid());
	for (char **e = environ; *e; e++)
		printf("env: %s\n", *e);
	return 0;
}
