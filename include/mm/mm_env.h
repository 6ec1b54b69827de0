/* mm_env.h - what the mm layer needs from its environment.
 *
 * src/mm is compiled unchanged for the kernel, for the host and for
 * Tally's user programs (their malloc). Everything that differs between
 * them is behind these few functions: the kernel implements them in
 * src/kernel/mm_env.c and include/env/kernel (lock = interrupts off,
 * reports through kprintf), the host in src/host/mm_env_host.c and
 * include/env/host (a lock and an index per thread, stderr), a user
 * process in user/lib/mm_env_user.c and include/env/user (one thread:
 * no lock, CPU 0, fd 2).
 *
 * mm_report() formats with the subset of printf both sides share:
 * %d %i %u %x %lx %lu %ld %zu %p %s %c %% with widths, '0' and '-'. */
#ifndef TALLY_MM_ENV_H
#define TALLY_MM_ENV_H

#include <stdarg.h>

/* Take / release the one mm lock: unsigned long mm_lock(void) returns the
 * state to hand back to void mm_unlock(unsigned long); the lock nests on
 * the CPU that holds it. unsigned mm_cpu(void) is the calling CPU (hart
 * or host thread), 0 .. MM_MAX_CPUS-1, for what belongs to one CPU (its
 * transactions). They sit on every allocation's path, so each build
 * supplies them inline from its own include directory (include/env/kernel,
 * include/env/host or include/env/user). */
#include "mm_env_lock.h"

/* Per-CPU gates: struct mm_cpu_gate *mm_cpu_gate(cpu), one per CPU,
 * guarding what belongs to that CPU alone (its slab magazines, its page
 * lists in front of the buddy allocator). A fast path enters its own
 * CPU's gate, never while holding the mm lock and never another CPU's;
 * inside, it waits for nothing but, for the page lists' refill and trim,
 * a zone lock, which no stopper holds while stopping (kernel: interrupts off
 * and a store / fence / load handshake with a stopper; host: the same
 * handshake with membarrier(2) in place of the owner's fence; each
 * mm_env_lock.h says its memory ordering).
 *   unsigned long mm_gate_enter(g) / void mm_gate_leave(g, state): enter
 *     (waiting while a stopper holds it) and leave the gate g of the
 *     calling CPU (the page lists);
 *   struct mm_gate_entry mm_gate_try(void) / void mm_gate_exit(state):
 *     kmalloc's and kfree's entry: enter the calling CPU's gate if it is
 *     open to them; .open is the CPU's index + 1, or 0 -- not entered --
 *     while a stopper holds it or mm_gates_close closed it; .state goes
 *     to mm_gate_exit. Per-CPU data is indexed with .open (the kernel's
 *     ordering relies on that address dependency);
 *   void mm_gates_stop(void) / mm_gates_start(void): a CPU holding the mm
 *     lock holds every gate at once, to drain, count or check what every
 *     CPU caches; nothing between them enters a gate;
 *   void mm_gates_close(bool closed): between those two, whether the
 *     gates open to mm_gate_try when given back (mm_slow_paths: so the
 *     fast paths test one word, their gate's, and not the global one).
 * A CPU holding the mm lock may touch its own per-CPU data without its
 * gate: no other CPU touches it without the lock, and its own fast paths
 * are not running. Lock order: mm lock, then gates, then the structures'
 * own mm_spinlock_t locks (the zones', mm/buddy.c: taken inside a gate by
 * the page lists' refill and trim).
 *   mm_spinlock_t, mm_spin_init(l, name), unsigned long mm_spin_lock(l),
 *     mm_spin_unlock(l, state): a lock of an mm structure's own (a zone's),
 *     apart from the mm lock (kernel: the kernel's fair spinlock with lock debugging;
 *     host: compare-and-swap, then yield); not recursive;
 *   void mm_cpu_count(unsigned long *n, v): store a per-CPU counter that
 *     readers sum with the gates stopped;
 *   void mm_store32(uint32_t *w, v): store a word others load atomically
 *     without a lock the storer holds (a frame's flags, changed by a page
 *     list's fast path or a block's owner while a CPU holding a zone's
 *     lock looks at the frame as a buddy);
 *   uint64_t mm_bits_set(w, bits) / void mm_bits_clear(w, bits): change
 *     bits of a word other CPUs change bits of without the mm lock (the
 *     slabs' cached maps); mm_bits_set returns the word before (an
 *     acquire); bool mm_bit_claim(w, i): set bit i, whether it was set;
 *     bool mm_cas32(w, old, want): compare-and-swap a 32-bit word (a
 *     frame's flags, which a page-list free claims). */

/* Milliseconds since an arbitrary start, never going back: the kernel's
 * time CSR scaled by the timebase, the host's monotonic clock. For the
 * statistics' time window; not on any allocation's fast path. */
unsigned long long mm_clock_ms(void);

/* Print a diagnostic line (no trailing newline needed; one is added). */
void mm_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
