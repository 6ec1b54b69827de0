/* elf_fat.c - an executable's bytes from the FAT32 volume: the struct
 * elf_file (proc/elf.h) the kernel's loader reads through, over an open
 * fat_file (fs/fat32.h). Nothing else: no caching, no ownership of the
 * file. */
#include "proc/elf.h"
#include "fs/fat32.h"
#include "kerrno.h"

static int elf_fat_read(const struct elf_file *ef, uint64_t off, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		long n = fat_pread(ef->ctx, off, out, len);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;        /* the file ended early */
		out += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

void elf_file_init_fat(struct elf_file *ef, struct fat_file *f)
{
	ef->read = elf_fat_read;
	ef->ctx = f;
	ef->size = f->size;
}
