/* fdtable.c - a process's file descriptor table (kernel/fdtable.h): slots,
 * the console files 0..2 start as, closing. What the calls do with a file
 * is sys_file.c's. */
#include <string.h>
#include "kernel/fdtable.h"
#include "kernel/ttyline.h"
#include "mm/kmalloc.h"
#include "kerrno.h"
#include "uapi/tally/fcntl.h"

/* Stateless, shared by every process, never freed. */
static struct file console_in = { .kind = FILE_CONSOLE, .acc = LINUX_O_RDONLY, .input = true };
static struct file console_null = { .kind = FILE_CONSOLE, .acc = LINUX_O_RDONLY };
static struct file console_out = { .kind = FILE_CONSOLE, .acc = LINUX_O_WRONLY };

void fdtable_init(struct fdtable *t, bool foreground)
{
	memset(t, 0, sizeof(*t));
	t->foreground = foreground;
	t->fd[0] = foreground ? &console_in : &console_null;
	t->fd[1] = &console_out;
	t->fd[2] = &console_out;
}

int fdtable_set_root(struct fdtable *t, struct fat_fs *fs, const char *cwd)
{
	size_t n = strlen(cwd) + 1;
	char *copy = kmalloc(n, GFP_KERNEL);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, cwd, n);
	kfree(t->cwd);
	t->cwd = copy;
	t->fs = fs;
	return 0;
}

struct file *fdtable_get(struct fdtable *t, long fd)
{
	return fd >= 0 && fd < FD_MAX ? t->fd[fd] : NULL;
}

int fdtable_free_slot(const struct fdtable *t)
{
	for (int fd = 0; fd < FD_MAX; fd++)
		if (!t->fd[fd])
			return fd;
	return -EMFILE;
}

void fdtable_install(struct fdtable *t, int fd, struct file *f)
{
	t->fd[fd] = f;
}

/* Give back what f holds. The console's line (ttyline) outlives a close
 * of fd 0; it is dropped when the process ends (fdtable_destroy). */
static void file_free(struct file *f)
{
	if (f->kind == FILE_CONSOLE)
		return;
	if (f->kind == FILE_REG)
		fat_close(&f->f);
	else
		fat_closedir(&f->d);
	kfree(f->path);
	kfree(f);
}

int fdtable_close(struct fdtable *t, long fd)
{
	struct file *f = fdtable_get(t, fd);

	if (!f)
		return -EBADF;
	t->fd[fd] = NULL;
	file_free(f);
	return 0;
}

void fdtable_destroy(struct fdtable *t)
{
	for (int fd = 0; fd < FD_MAX; fd++)
		if (t->fd[fd]) {
			file_free(t->fd[fd]);
			t->fd[fd] = NULL;
		}
	kfree(t->cwd);
	t->cwd = NULL;
	t->fs = NULL;
	t->foreground = false;
	if (t->foreground)
		ttyline_flush();   /* a half-read line is the process's, not the shell's */
}
