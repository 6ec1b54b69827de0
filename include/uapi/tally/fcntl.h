/* uapi/tally/fcntl.h - openat's flags, AT_FDCWD and lseek's whence, with
 * Linux's values (include/uapi/asm-generic/fcntl.h, linux/fcntl.h,
 * linux/fs.h). A C library may number its O_ flags otherwise (picolibc
 * does: user/lib/posix.c translates), hence the LINUX_ prefix. The volume
 * is read-only: LINUX_O_WRONLY, LINUX_O_RDWR, LINUX_O_CREAT or
 * LINUX_O_TRUNC get -EROFS. */
#ifndef TALLY_UAPI_FCNTL_H
#define TALLY_UAPI_FCNTL_H

#define LINUX_O_ACCMODE    00000003
#define LINUX_O_RDONLY     00000000
#define LINUX_O_WRONLY     00000001
#define LINUX_O_RDWR       00000002
#define LINUX_O_CREAT      00000100
#define LINUX_O_EXCL       00000200
#define LINUX_O_NOCTTY     00000400
#define LINUX_O_TRUNC      00001000
#define LINUX_O_APPEND     00002000
#define LINUX_O_NONBLOCK   00004000
#define LINUX_O_DIRECTORY  00200000
#define LINUX_O_NOFOLLOW   00400000
#define LINUX_O_CLOEXEC    02000000

#define LINUX_AT_FDCWD     (-100)
#define LINUX_AT_REMOVEDIR 0x200   /* unlinkat: rmdir rather than unlink */

/* renameat2's flags (include/uapi/linux/fcntl.h). */
#define LINUX_RENAME_NOREPLACE 1
#define LINUX_RENAME_EXCHANGE  2
#define LINUX_RENAME_WHITEOUT  4

#define LINUX_SEEK_SET     0
#define LINUX_SEEK_CUR     1
#define LINUX_SEEK_END     2

#endif
