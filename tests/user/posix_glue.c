/* posix_glue.c - Tally's runtime translations (user/lib/posix.c) seen
 * from a program: errno numbers above 34 (ENAMETOOLONG is 36 in Linux,
 * 91 in picolibc), open's flags (O_DIRECTORY, O_EXCL), the clock ids
 * (picolibc's CLOCK_REALTIME is 1, Linux's 0; time() over gettimeofday),
 * fstat's layout, sbrk.
 * Built by test_run.py with tally-cc; `posix_glue FILE SIZE` where FILE
 * is a regular file of SIZE bytes. Prints "name: ok|bad" lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, int good)
{
	printf("%s: %s\n", name, good ? "ok" : "bad");
}

int main(int argc, char **argv)
{
	static char longpath[5000];
	struct stat st;
	struct timespec ts;
	int fd;
	char *a, *b;

	if (argc < 3)
		return 2;
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	errno = 0;
	report("enametoolong", open(longpath, O_RDONLY) < 0 && errno == ENAMETOOLONG);
	errno = 0;
	report("enotdir", open(argv[1], O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR);
	errno = 0;
	report("eexist", open(argv[1], O_RDONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST);
	fd = open(argv[1], O_RDONLY);
	report("fstat", fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_size == atol(argv[2]));
	report("lseek", lseek(fd, 0, SEEK_END) == atol(argv[2]));
	report("close", close(fd) == 0 && close(fd) < 0 && errno == EBADF);
	report("stat_dir", stat("/", &st) == 0 && S_ISDIR(st.st_mode));
	report("clock_realtime", clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec > 1600000000);
	report("time", time(NULL) >= ts.tv_sec);
	a = sbrk(0);
	b = sbrk(8192);
	report("sbrk", b == a && sbrk(0) == a + 8192 && sbrk(-8192) == a + 8192 && sbrk(0) == a);
	report("getppid", getppid() > 0 && getpid() > 0 && getpid() != getppid());
	return 0;
}
