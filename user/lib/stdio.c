/* stdio.c - stdin, stdout and stderr for picolibc's tinystdio, over file
 * descriptors 0, 1 and 2 (the console): picolibc's own buffered-fd
 * streams (stdio-bufio.h, the same ones its fopen builds over open and
 * read), defined here because Debian's libc leaves the three to the
 * system. stdout is line buffered, stderr unbuffered (a one-byte buffer),
 * stdin reads what the console has, up to a buffer. exit() runs
 * destructors, so stdout's last partial line is flushed by one. */
#include <stdio.h>
#include <stdio-bufio.h>
#include <unistd.h>

static char in_buf[256];
static char out_buf[256];
static char err_buf[1];

static struct __file_bufio in_file =
	FDEV_SETUP_BUFIO(0, in_buf, sizeof(in_buf), read, write, lseek, close, __SRD, 0);
static struct __file_bufio out_file =
	FDEV_SETUP_BUFIO(1, out_buf, sizeof(out_buf), read, write, lseek, close, __SWR, __BLBF);
static struct __file_bufio err_file =
	FDEV_SETUP_BUFIO(2, err_buf, sizeof(err_buf), read, write, lseek, close, __SWR, 0);

FILE *const stdin = &in_file.xfile.cfile.file;
FILE *const stdout = &out_file.xfile.cfile.file;
FILE *const stderr = &err_file.xfile.cfile.file;

__attribute__((destructor)) static void flush_stdout(void)
{
	fflush(stdout);
}
