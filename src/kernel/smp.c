/* smp.c - harts (kernel/smp.h): start-up through SBI HSM, the idle loop,
 * cross-hart calls through SBI IPIs, stopping everyone on a fatal error.
 *
 * The mailbox of a hart (struct hart, call_*) holds one call at a time:
 * a caller claims it (call_busy 0 -> 1), writes fn and arg, raises
 * call_pending (release) and sends the IPI; the target's software
 * interrupt takes the call (acquire), runs it, raises call_done (release);
 * the caller waits for that and frees the mailbox. Calls may allocate: the
 * mm lock is a real lock once a second hart is online (mm_env_lock.h). */
#include <stdbool.h>
#include "kernel/smp.h"
#include "kernel/console.h"
#include "kernel/lockdep.h"
#include "kernel/memory.h"
#include "kernel/platform.h"
#include "kernel/power.h"
#include "kernel/sbi.h"
#include "kernel/sections.h"
#include "kernel/timer.h"
#include "kernel/trap.h"
#include "mm/mm_env.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define SIP_SSIP (1ul << 1)

struct hart harts[HART_MAX];
unsigned nharts;
static volatile int stopping;

static __attribute__((noreturn)) void halt_here(void);
static int (*idle_work)(void);   /* smp_set_idle: the scheduler */

extern char _secondary_entry[];   /* entry.S */

uintptr_t hart_boot_stack_top(unsigned i)
{
	return (uintptr_t)_stacks_start + (uintptr_t)i * HART_AREA + HART_GUARD + HART_BOOT_STACK;
}

uintptr_t hart_trap_stack_top(unsigned i)
{
	return (uintptr_t)_stacks_start + (uintptr_t)(i + 1) * HART_AREA;
}

void smp_init_boot(unsigned long hartid)
{
	harts[0] = (struct hart){ .index = 0, .hartid = hartid, .state = HART_ONLINE };
	nharts = 1;
	__asm__ volatile("mv tp, %0" :: "r"(&harts[0]));
}

/* ---- start-up ------------------------------------------------------------ */

/* Run the posted call, if any (the idle loop, or the IPI on a busy hart). */
static void run_call(struct hart *h)
{
	if (!__atomic_load_n(&h->call_pending, __ATOMIC_ACQUIRE))
		return;
	h->call_pending = 0;
	h->call_fn(h->call_arg);
	h->calls++;
	__atomic_store_n(&h->call_done, 1, __ATOMIC_RELEASE);
}

/* A secondary's life: look for a call with interrupts off, then for
 * work (idle_work: a process's time slice), else sleep in wfi (which
 * wakes on a pending interrupt even so: privileged spec 3.3.3), then let
 * the interrupt in. Calls run here, on the boot stack, with interrupts
 * on. */
static __attribute__((noreturn)) void idle_loop(struct hart *h)
{
	for (;;) {
		int (*work)(void);

		csr_clear(sstatus, SSTATUS_SIE);
		if (__atomic_load_n(&h->call_pending, __ATOMIC_ACQUIRE)) {
			csr_set(sstatus, SSTATUS_SIE);
			run_call(h);
			continue;
		}
		work = __atomic_load_n(&idle_work, __ATOMIC_ACQUIRE);
		if (work && work()) {
			csr_set(sstatus, SSTATUS_SIE);
			continue;
		}
		wfi();
		csr_set(sstatus, SSTATUS_SIE);
	}
}

/* A secondary hart, from entry.S with its boot stack and tp set: traps,
 * paging, its tick and its software interrupt, then idle. */
void smp_secondary_main(unsigned long hartid, struct hart *h)
{
	(void)hartid;
	trap_init_hart(h->index);
	kvm_enable_hart();
	timer_init_hart();
	csr_set(sie, SIE_SSIE);
	int starting = HART_STARTING;

	if (!__atomic_compare_exchange_n(&h->state, &starting, HART_ONLINE, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		sbi_hart_stop();   /* too late: the boot hart left it out */
		halt_here();
	}
	idle_loop(h);
}

/* Ask SBI to start hart id into a new slot; false when it refused. */
static bool start_one(unsigned long id)
{
	struct hart *h = &harts[nharts];
	struct mm_cpu_gate gate = h->mm_gate;   /* the mm's, set up before */
	long err;

	*h = (struct hart){ .index = nharts, .hartid = id, .state = HART_STARTING, .mm_gate = gate };
	nharts++;
	err = sbi_hart_start(id, (uintptr_t)_secondary_entry, (unsigned long)h);
	if (err) {
		h->state = HART_FAILED;
		h->start_error = err;
	}
	return err == 0;
}

/* Wait up to SMP_START_WAIT_S seconds for every started hart; the late
 * ones have failed. (On hardware a hart comes up in microseconds; under
 * QEMU a hart is a host thread, which a loaded host -- several QEMUs on
 * two cores while the tests run -- took more than a second to schedule.) */
#define SMP_START_WAIT_S 5

static void wait_online(void)
{
	uint64_t until = rdtime() + platform.timebase_hz * SMP_START_WAIT_S;
	bool pending = true;

	while (pending && rdtime() < until) {
		pending = false;
		for (unsigned i = 1; i < nharts; i++)
			pending |= __atomic_load_n(&harts[i].state, __ATOMIC_ACQUIRE) == HART_STARTING;
	}
	for (unsigned i = 1; i < nharts; i++) {   /* a hart that comes later stops itself */
		int starting = HART_STARTING;

		__atomic_compare_exchange_n(&harts[i].state, &starting, HART_FAILED, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
}

/* The boot log's harts lines; returns the harts online. */
static unsigned report(void)
{
	unsigned online = 0;

	for (unsigned i = 0; i < nharts; i++)
		online += harts[i].state == HART_ONLINE;
	kprintf("harts: %u online (ids", online);
	for (unsigned long last = 0, n = 0; n < online; n++) {   /* ascending */
		unsigned long next = ~0ul;

		for (unsigned i = 0; i < nharts; i++)
			if (harts[i].state == HART_ONLINE && harts[i].hartid < next &&
			    (n == 0 || harts[i].hartid > last))
				next = harts[i].hartid;
		kprintf(" %lu", next);
		last = next;
	}
	kprintf("), booted on %lu\n", harts[0].hartid);
	for (unsigned i = 1; i < nharts; i++) {
		if (harts[i].state != HART_FAILED)
			continue;
		if (harts[i].start_error)
			kprintf("harts: hart %lu left out: hart_start refused (SBI error %ld)\n",
				harts[i].hartid, harts[i].start_error);
		else
			kprintf("harts: hart %lu left out: did not come up in %d s\n",
				harts[i].hartid, SMP_START_WAIT_S);
	}
	if (platform.ncpus > HART_MAX)
		kprintf("harts: %d more left out (Tally runs at most %d)\n",
			platform.ncpus - HART_MAX, HART_MAX);
	for (int i = 0; i < platform.ncpus_no_reg && i < PLAT_MAX_NO_REG; i++)
		kprintf("harts: cpu node %s left out: no readable reg (its hart id)\n",
			platform.cpu_no_reg[i]);
	if (platform.ncpus_no_reg > PLAT_MAX_NO_REG)
		kprintf("harts: %d more cpu nodes without a readable reg left out\n",
			platform.ncpus_no_reg - PLAT_MAX_NO_REG);
	return online;
}

unsigned smp_boot(void)
{
	if (!sbi_probe(SBI_EXT_HSM) || !sbi_probe(SBI_EXT_IPI)) {
		kprintf("harts: 1 online (no SBI HSM or IPI: %d left to the firmware)\n",
			platform.ncpus - 1);
		return 1;
	}
	if (platform.ncpus > 1)
		mm_lock_smp = 1;   /* no mm lock is held here: engage it before anyone else runs */
	for (int i = 0; i < platform.ncpus && i < PLAT_MAX_CPUS && nharts < HART_MAX; i++)
		if (platform.hartid[i] != harts[0].hartid)
			start_one(platform.hartid[i]);
	wait_online();
	return report();
}

/* ---- cross-hart calls ---------------------------------------------------- */

static int send_ipi(const struct hart *h)
{
	return sbi_send_ipi(1, h->hartid) ? -EIO : 0;
}

void smp_set_idle(int (*fn)(void))
{
	__atomic_store_n(&idle_work, fn, __ATOMIC_RELEASE);
}

void smp_kick(unsigned hart)
{
	if (hart < nharts && hart != this_hart()->index && harts[hart].state == HART_ONLINE)
		send_ipi(&harts[hart]);
}

int smp_post(unsigned hart, void (*fn)(void *arg), void *arg)
{
	struct hart *h;
	int busy = 0;

	if (hart >= nharts || harts[hart].state != HART_ONLINE || hart == this_hart()->index)
		return -EINVAL;
	h = &harts[hart];
	if (!__atomic_compare_exchange_n(&h->call_busy, &busy, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	h->call_fn = fn;
	h->call_arg = arg;
	h->call_done = 0;
	__atomic_store_n(&h->call_pending, 1, __ATOMIC_RELEASE);
	if (send_ipi(h)) {
		h->call_pending = 0;
		__atomic_store_n(&h->call_busy, 0, __ATOMIC_RELEASE);
		return -EIO;
	}
	return 0;
}

int smp_wait(unsigned hart, unsigned ms)
{
	uint64_t until = rdtime() + platform.timebase_hz / 1000 * ms;
	struct hart *h;

	if (hart >= nharts || !harts[hart].call_busy)
		return -EINVAL;
	h = &harts[hart];
	while (!__atomic_load_n(&h->call_done, __ATOMIC_ACQUIRE))
		if (rdtime() > until)
			return -ETIMEDOUT;   /* the mailbox stays claimed */
	__atomic_store_n(&h->call_busy, 0, __ATOMIC_RELEASE);
	return 0;
}

int smp_call(unsigned hart, void (*fn)(void *arg), void *arg)
{
	int rc;

	if (hart < nharts && hart == this_hart()->index) {
		fn(arg);
		return 0;
	}
	rc = smp_post(hart, fn, arg);
	while (rc == 0 && (rc = smp_wait(hart, 1000)) == -ETIMEDOUT)
		if (harts[hart].state != HART_ONLINE)
			return -EIO;   /* stopped: it will never run fn */
	return rc;
}

/* ---- several harts at once ----------------------------------------------- */

unsigned smp_online(unsigned *idx)
{
	unsigned me = this_hart()->index, n = 0;

	if (idx)
		idx[n] = me;
	n++;
	for (unsigned i = 0; i < nharts; i++)
		if (i != me && harts[i].state == HART_ONLINE) {
			if (idx)
				idx[n] = i;
			n++;
		}
	return n;
}

/* One run of smp_run_together, on the caller's stack (which outlives every
 * part: the caller returns only once all have finished). */
struct together {
	void (*fn)(void *arg);
	void *const *args;
	int ready;   /* harts at the start line */
	int go;      /* 1: run, -1: a post failed, run nothing */
};

struct together_seat {
	struct together *run;
	unsigned i;
};

static void together_part(void *arg)
{
	struct together_seat *seat = arg;
	struct together *run = seat->run;
	int go;

	__atomic_fetch_add(&run->ready, 1, __ATOMIC_RELEASE);
	while (!(go = __atomic_load_n(&run->go, __ATOMIC_ACQUIRE)))
		;
	if (go > 0)
		run->fn(run->args[seat->i]);
}

/* Sleep until the call posted to `hart` has finished (or the hart has
 * stopped), then free its mailbox. wfi wakes on the next interrupt, the
 * caller's tick at the latest; it is taken once interrupts are on again. */
static void wait_asleep(unsigned hart)
{
	struct hart *h = &harts[hart];
	int done;

	do {
		uint64_t s = irq_save();

		done = __atomic_load_n(&h->call_done, __ATOMIC_ACQUIRE) ||
		       __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) != HART_ONLINE;
		if (!done)
			wfi();
		irq_restore(s);
	} while (!done);
	if (h->call_done)
		__atomic_store_n(&h->call_busy, 0, __ATOMIC_RELEASE);
}

/* Wait until the `posted` harts are at the start line (false: one stopped). */
static bool all_ready(struct together *run, const unsigned *idx, unsigned posted)
{
	while (__atomic_load_n(&run->ready, __ATOMIC_ACQUIRE) < (int)posted)
		for (unsigned i = 1; i <= posted; i++)
			if (harts[idx[i]].state != HART_ONLINE)
				return false;
	return true;
}

int smp_run_together(unsigned n, void (*fn)(void *arg), void *const args[])
{
	struct together run = { .fn = fn, .args = args };
	struct together_seat seat[HART_MAX];
	unsigned idx[HART_MAX], posted = 0;
	int rc = 0;

	if (n == 0 || n > smp_online(idx))
		return -EINVAL;
	for (unsigned i = 1; i < n && !rc; i++) {
		seat[i] = (struct together_seat){ .run = &run, .i = i };
		rc = smp_post(idx[i], together_part, &seat[i]);
		posted += rc == 0;
	}
	if (!rc && !all_ready(&run, idx, posted))
		rc = -EIO;
	__atomic_store_n(&run.go, rc ? -1 : 1, __ATOMIC_RELEASE);
	if (!rc)
		fn(args[0]);
	for (unsigned i = 1; i <= posted; i++)
		wait_asleep(idx[i]);
	return rc;
}

static __attribute__((noreturn)) void halt_here(void)
{
	csr_write(sie, 0);
	csr_clear(sstatus, SSTATUS_SIE);
	__atomic_store_n(&this_hart()->state, HART_STOPPED, __ATOMIC_RELEASE);
	for (;;)
		wfi();
}

void smp_ipi(void)
{
	struct hart *h = this_hart();

	csr_clear(sip, SIP_SSIP);
	if (__atomic_load_n(&stopping, __ATOMIC_ACQUIRE))
		halt_here();
	if (h->index == 0)
		run_call(h);   /* the shell's hart; the others run it from their idle loop */
}

void smp_stop_others(void)
{
	struct hart *me = this_hart();
	uint64_t until;

	/* lock debugging stops too: what follows (a panic's report) takes the
	 * console lock, and must not wait on lockdep's tables, which a fault
	 * inside lockdep may have left taken */
	__atomic_store_n(&lockdep_enabled, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < nharts; i++)
		if (&harts[i] != me && harts[i].state == HART_ONLINE)
			send_ipi(&harts[i]);
	until = rdtime() + platform.timebase_hz / 20;
	for (unsigned i = 0; i < nharts; i++)
		while (&harts[i] != me && harts[i].state == HART_ONLINE && rdtime() < until)
			;
}
