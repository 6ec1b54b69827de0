/* fork.h - the mm stack across fork(2) in a threaded host program
 * (libtally.so registers these with pthread_atfork).
 *
 * fork copies only the calling thread: a lock another thread held at that
 * moment would stay held in the child for good, and a gate another thread
 * was inside would stay busy. So, as jemalloc and glibc's malloc do,
 * prepare takes every lock of the stack in the lock order (mm/buddy.c):
 * the mm lock, every CPU's gate (mm_gates_stop), SimpleHeap's lock, each
 * live slab cache's lock, every zone lock; the parent gives them back in
 * reverse after fork, and so does the child. (The host glue's
 * mm_host_atfork_child, mm/mm_host.h, then also frees the indexes of the
 * threads that did not come with the child.) Host only in practice;
 * nothing here is called by the kernel. */
#ifndef TALLY_MM_FORK_H
#define TALLY_MM_FORK_H

void mm_atfork_prepare(void);
void mm_atfork_parent(void);
void mm_atfork_child(void);

#endif
