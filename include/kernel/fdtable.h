/* fdtable.h - a process's open files: the file descriptor table behind
 * openat/close/read/lseek/fstat/getdents64 (kernel/sys_file.c) and write.
 *
 * A descriptor is an index into a fixed table of FD_MAX slots, each NULL
 * or a struct file: a file or directory the process owns alone (no dup,
 * no sharing: nothing is reference counted), or one of the three static
 * console files, which hold no state and are never freed. 0, 1 and 2 start as the console: 0 reads it
 * (kernel/ttyline.h: a line at a time, echoed, Ctrl-D end of file) and 1
 * and 2 write it, as a shell's redirections would open them (0 read-only,
 * 1 and 2 write-only). Files and directories come from the read-only
 * FAT32 volume the table was given (fdtable_set_root); relative paths
 * start at its cwd, an absolute path fixed when the process was made (the
 * shell's cwd then; a later `cd` in the shell does not move it).
 *
 * Not locked: a table belongs to one process, which runs on one hart at
 * a time. The file system underneath is serialized by sys_file.c. */
#ifndef TALLY_KERNEL_FDTABLE_H
#define TALLY_KERNEL_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>
#include "fs/fat32.h"

#define FD_MAX 32            /* descriptors per process: the 33rd open is -EMFILE */

enum file_kind { FILE_CONSOLE = 1, FILE_REG, FILE_DIR };

/* What fstat reports about a file or directory, taken at open from its
 * directory entry (the volume is read-only: it cannot change). */
struct file_meta {
	uint64_t ino;            /* sys_file.c: the first cluster, or for an
	                            empty file a number from its entry's place */
	uint32_t size;           /* DIR_FileSize; a directory: its chain's bytes */
	struct fat_time mtime;   /* DIR_WrtDate/Time: st_mtime and st_ctime */
	struct fat_time adate;   /* DIR_LstAccDate: st_atime */
};

struct file {
	enum file_kind kind;
	unsigned acc;            /* LINUX_O_RDONLY / LINUX_O_WRONLY */
	bool input;              /* FILE_CONSOLE opened for reading: reads the
	                            console; false for a background process
	                            (end of file at once, as /dev/null) */
	struct file_meta meta;
	uint64_t pos;            /* FILE_REG: byte offset (may pass the end);
	                            FILE_DIR: records getdents64 returned */
	struct fat_file f;       /* FILE_REG */
	struct fat_dir d;        /* FILE_DIR: the next on-disk entry */
	char *path;              /* FILE_DIR: its absolute path (kmalloc) */
	uint64_t parent_ino;     /* FILE_DIR: ".."'s d_ino */
};

struct fdtable {
	struct file *fd[FD_MAX];
	struct fat_fs *fs;       /* the volume, or NULL (opening is -ENOENT) */
	char *cwd;               /* absolute (kmalloc); NULL means "/" */
	bool foreground;         /* reads the console (fdtable_init) */
};

/* Set up t with fds 0, 1, 2 on the console and no volume. foreground:
 * whether fd 0 reads the console (the process the shell waits for) or is
 * at end of file at once (a background process: POSIX's rule for an
 * asynchronous list without job control, XCU 2.9.3.1). Allocates
 * nothing; cannot fail. */
void fdtable_init(struct fdtable *t, bool foreground);

/* Give t the volume fs and the cwd relative paths start from (an
 * absolute path, copied). 0; -ENOMEM (t unchanged). */
int fdtable_set_root(struct fdtable *t, struct fat_fs *fs, const char *cwd);

/* Close every descriptor and free the cwd: t is empty afterwards (safe
 * on a table fdtable_init made, and twice). */
void fdtable_destroy(struct fdtable *t);

/* The file behind fd, or NULL (not open, or out of range). */
struct file *fdtable_get(struct fdtable *t, long fd);

/* The lowest free descriptor, or -EMFILE. */
int fdtable_free_slot(const struct fdtable *t);

/* Put f (owned by t from now on) at descriptor fd, which must be free. */
void fdtable_install(struct fdtable *t, int fd, struct file *f);

/* Close fd: 0, -EBADF when it is not open. */
int fdtable_close(struct fdtable *t, long fd);

#endif
