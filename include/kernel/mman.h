/* mman.h - the memory system calls of a process (kernel/sys_mman.c):
 * mmap, munmap, mprotect, madvise with Linux's riscv64 semantics and errno values,
 * over the process's VMAs (proc/vma.h) and Sv39 table (mm/vm.h).
 *
 * Tally maps anonymous memory only. Every call either does all it was
 * asked or returns -errno with the address space (areas, page table,
 * frames) exactly as before; Linux's mprotect, which changes the areas
 * before a hole and then fails, is the one place Tally is stricter.
 *
 * Committing memory is strict, as brk's (kernel/proc.h): a writable
 * mapping, or an mprotect that makes pages writable, of more pages than
 * a process could still get now (buddy_user_free_pages: above the zones'
 * high watermarks, mm/gfp.h) is refused with -ENOMEM, so a program learns
 * of the shortage from the call rather than from an out-of-memory kill at a
 * later page fault. The request is judged with what the process was
 * promised already: the pages of its committed areas (writable, not
 * NORESERVE) beyond its resident pages, plus the new ones, and a page
 * table for every 512 of them, must fit in what it could get now -- so a process cannot commit, piece by piece,
 * more than could ever back it (a PROT_NONE reservation made writable a
 * part at a time, as a growing malloc arena does, is refused with -ENOMEM
 * once the parts outrun memory). Other processes' promises are not
 * counted (Linux's strict mode sums them all: Tally judges each process
 * alone). MADV_DONTNEED keeps the promise (the area stays committed, as
 * Linux's). A mapping made
 * with LINUX_MAP_NORESERVE is not committed, as Linux's VM_NORESERVE
 * under its heuristic overcommit: neither mmap nor a later mprotect
 * checks it against free memory, and a first touch that then finds no
 * frame is an OOM decision (kernel/proc.h: the largest process killed). */
#ifndef TALLY_KERNEL_MMAN_H
#define TALLY_KERNEL_MMAN_H

#include <stdint.h>

struct proc;

/* mmap(addr, len, prot, flags, fd, off): a new area of p of len bytes
 * (rounded up to pages), protection prot (PROT_*; other bits ignored, as
 * Linux's calc_vm_prot_bits does), LINUX_MAP_ANONYMOUS with
 * LINUX_MAP_PRIVATE or LINUX_MAP_SHARED (the same here: with spawn and no
 * fork no other process can see an anonymous area, so sharing it changes
 * nothing observable); fd and off are then ignored except that off must
 * be page-aligned. Placement: MAP_FIXED at addr, replacing what is there
 * (its frames given back); MAP_FIXED_NOREPLACE at addr when nothing is
 * there; otherwise the hint addr (page-rounded up) when the range is free
 * and below USER_MMAP_TOP, else the highest free gap below USER_MMAP_TOP.
 * Pages are zero-filled at the first touch, or all at once with
 * LINUX_MAP_POPULATE (not for PROT_NONE, as Linux's populate skips
 * inaccessible areas). LINUX_MAP_NORESERVE: not committed (above); a
 * populate still gets every frame or fails. Returns the address; or
 *   -EINVAL  off unaligned; len 0; MAP_FIXED(_NOREPLACE) addr unaligned;
 *            neither MAP_PRIVATE nor MAP_SHARED (MAP_SHARED_VALIDATE too)
 *   -EBADF   not anonymous and fd is not open; -ENODEV: not anonymous and
 *            fd open (no file can be mapped: Linux's answer for a file
 *            without mmap)
 *   -ENOMEM  len beyond the user space; a fixed range ending above
 *            USER_VA_TOP; no gap; the set of areas full or no struct;
 *            a writable (or populated) mapping, without MAP_NORESERVE,
 *            that cannot be committed (above); MAP_POPULATE could not get
 *            every frame and table
 *   -EPERM   a fixed range starting below USER_VA_BASE (the kernel's
 *            shared range: Linux's mmap_min_addr refusal)
 *   -EEXIST  MAP_FIXED_NOREPLACE and the range meets an area */
long sys_mmap(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
	      int fd, uint64_t off);

/* munmap(addr, len): remove [addr, addr + len rounded up to pages) from
 * p's areas, splitting those across its edges; their frames, PTEs and
 * emptied tables are given back. Parts with no area are fine, and so is
 * a range below USER_VA_BASE (nothing of p's is there). Returns 0;
 * -EINVAL when addr is unaligned, len is 0, or the range ends above
 * USER_VA_TOP (Linux: TASK_SIZE); -ENOMEM when a split needs an area
 * struct that cannot be had or the set is full (nothing changed). */
long sys_munmap(struct proc *p, uint64_t addr, uint64_t len);

/* mprotect(addr, len, prot): set the protection of [addr, addr + len
 * rounded up) to prot, splitting areas at the edges; mapped pages' PTEs
 * are rewritten (PROT_NONE pages keep their frame and contents). len 0
 * is 0 with nothing done, as Linux. Returns 0; -EINVAL when addr is
 * unaligned or prot has bits other than PROT_READ/WRITE/EXEC and PROT_SEM
 * (PROT_GROWSDOWN/UP included: no area here grows that way on request);
 * -ENOMEM when part of the range is in no area (nothing changed, where
 * Linux would have changed the areas before the hole), a split struct
 * cannot be had, or making pages writable could not be committed (above). */
long sys_mprotect(struct proc *p, uint64_t addr, uint64_t len, uint64_t prot);

/* madvise(addr, len, advice), as Linux's madvise(2) (mm/madvise.c) for
 * private anonymous memory: advice about [addr, addr + len rounded up to
 * pages). LINUX_MADV_DONTNEED drops the range's mapped pages (PROT_NONE
 * ones too): PTEs cleared, the TLB flushed, then the frames given back;
 * rss (and the heap's part) falls by each, the areas and their protection
 * stay, and the next touch faults in a zeroed page. An executable's text
 * and data pages are left mapped (Linux would read them from the file
 * again; Tally has loaded them once). Commit stays with the
 * area, as Linux's: nothing is judged or given back (kernel/mman.h's
 * strict commit is judged per request anyway). LINUX_MADV_FREE and
 * LINUX_MADV_DONTNEED_LOCKED do the same here (Linux may drop MADV_FREE
 * pages lazily; dropping them at once is one of its outcomes, and Tally
 * locks nothing). LINUX_MADV_NORMAL, _RANDOM, _SEQUENTIAL and _WILLNEED
 * are hints, taken and ignored. No user memory is read. Returns 0; or
 *   -EINVAL  an advice not above (as a Linux built without it); addr not
 *            page-aligned; len so large that rounding it up wraps, or
 *            addr + len wraps (len 0 is 0 with nothing done, as Linux)
 *   -ENOMEM  part of the range is in no area: the advice is still
 *            applied to the parts in areas (Linux's unmapped_error) */
long sys_madvise(struct proc *p, uint64_t addr, uint64_t len, uint64_t advice);

#endif
