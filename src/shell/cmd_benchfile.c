/* cmd_benchfile.c - `benchfile PATH`: the cost of reading a file
 * sequentially, cold (block cache emptied first) and warm (read again at
 * once): instructions per KiB and virtio requests per MiB. One summary
 * line per pass. Instructions spent waiting for the device (the wait
 * loop and the interrupt handlers) are left out: how long a request takes
 * depends on the host's I/O, not on Tally. Ctrl-C stops a pass between
 * chunks. */
#include "shell/shell.h"
#include "kernel/console.h"
#include "kernel/disk.h"
#include "drivers/virtio_blk.h"
#include "fs/bcache.h"
#include "kernel/trap.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define CHUNK 65536

static char chunk[CHUNK];

static int pass(struct fat_fs *fs, const char *path, const char *name)
{
	struct vblk_stats v0 = { 0 }, v1 = { 0 };
	struct fat_file f;
	uint64_t i0, irq0, bytes = 0;
	long n;
	int rc = fat_open(fs, path, &f);

	if (rc)
		return rc;
	vblk_get_stats(disk_dev(), &v0);
	irq0 = trap_irq_instret;
	i0 = rdinstret();
	while ((n = console_interrupted() ? -EINTR : fat_read(&f, chunk, CHUNK)) > 0)
		bytes += (uint64_t)n;
	i0 = rdinstret() - i0;
	vblk_get_stats(disk_dev(), &v1);
	i0 -= (trap_irq_instret - irq0) + (v1.wait_instret - v0.wait_instret);
	fat_close(&f);
	if (n < 0)
		return (int)n;
	kprintf("benchfile %s bytes=%lu instr_per_kib=%lu requests_per_mib=%lu\n", name,
		(unsigned long)bytes, (unsigned long)(bytes ? i0 * 1024 / bytes : 0),
		(unsigned long)(bytes ? (v1.requests - v0.requests) * (1ul << 20) / bytes : 0));
	return 0;
}

static int cmd_benchfile(int argc, char **argv)
{
	struct fat_fs *fs;
	int rc;

	if (argc != 2)
		return SH_USAGE;
	if (!(fs = sh_fs_or_say()))
		return -1;
	if (sh_bg_stress_refuse("benchfile", "its instructions would count the other harts' "
				"too (rdinstret counts every hart under QEMU)"))
		return -1;
	bcache_invalidate(fat_bcache(fs));
	rc = pass(fs, argv[1], "cold");
	if (!rc)
		rc = pass(fs, argv[1], "warm");
	if (rc == -EINTR)
		return SH_INTERRUPTED;
	return rc ? sh_fs_fail("benchfile", argv[1], rc) : 0;
}
SH_COMMAND("benchfile", "path", "cost of reading a file, cold and warm", cmd_benchfile);
