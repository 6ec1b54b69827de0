/* cat - concatenate files to standard output, as POSIX's cat (XCU):
 *
 *   cat [FILE...]     no FILE, or "-": standard input (the console)
 *
 * read(2) and write(2) straight through a 4 KiB buffer, no stdio. A file
 * that cannot be opened or read is named on stderr ("cat: PATH: why")
 * and the rest are still copied; the exit status is then 1. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];

static void say(const char *path, int err)
{
	const char *why = strerror(err);

	write(2, "cat: ", 5);
	write(2, path, strlen(path));
	write(2, ": ", 2);
	write(2, why, strlen(why));
	write(2, "\n", 1);
}

/* Copy fd to stdout: 0, or the errno of a failed read or write. */
static int copy(int fd)
{
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(1, buf + off, (size_t)(n - off));

			if (w < 0)
				return errno;
			off += w;
		}
	return n < 0 ? errno : 0;
}

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		int err = copy(0);

		if (err)
			say("-", err);
		return err ? 1 : 0;
	}
	for (int i = 1; i < argc; i++) {
		int stdin_ = !strcmp(argv[i], "-");
		int fd = stdin_ ? 0 : open(argv[i], O_RDONLY);
		int err = fd < 0 ? errno : copy(fd);

		if (err) {
			say(argv[i], err);
			status = 1;
		}
		if (fd > 0)
			close(fd);
	}
	return status;
}
