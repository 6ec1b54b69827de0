/* ls - list directories through getdents64(2), in the volume's order:
 *
 *   ls [-a] [-i] [PATH...]    no PATH: the current directory
 *
 * One name a line, a directory's with '/' after it (the d_type of its
 * record); -a shows "." and ".." too; -i puts each d_ino before its
 * name. A PATH that is a file is printed as given. A failure is named on
 * stderr ("ls: PATH: why") and makes the exit status 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tally/syscall.h"

static int all, inodes;
static char buf[2048];

static int list(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	ssize_t n;

	if (fd < 0 && errno == ENOTDIR) {
		printf("%s\n", path);
		return 0;
	}
	if (fd < 0) {
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			const struct linux_dirent64 *d = (const void *)(buf + off);

			off += d->d_reclen;
			if (!all && d->d_name[0] == '.')
				continue;
			if (inodes)
				printf("%llu ", (unsigned long long)d->d_ino);
			printf("%s%s\n", d->d_name, d->d_type == LINUX_DT_DIR ? "/" : "");
		}
	if (n < 0)
		fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
	close(fd);
	return n < 0;
}

int main(int argc, char **argv)
{
	int i = 1, status = 0, paths;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++)
		for (const char *o = argv[i] + 1; *o; o++) {
			if (*o == 'a')
				all = 1;
			else if (*o == 'i')
				inodes = 1;
			else {
				fprintf(stderr, "usage: ls [-a] [-i] [PATH...]\n");
				return 2;
			}
		}
	paths = argc - i;
	if (!paths)
		return list(".");
	for (; i < argc; i++) {
		if (paths > 1)
			printf("%s:\n", argv[i]);
		status |= list(argv[i]);
	}
	return status;
}
