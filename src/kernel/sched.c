/* sched.c - the process table and the scheduler (kernel/proc.h, second
 * part): pids, parents, states, one run queue, round-robin time slices
 * on every online hart, sleeping in wait4, exit, zombies and reaping,
 * kill. Making a process and its memory are proc.c's.
 *
 * Every hart runs processes from its scheduler context: a secondary's
 * idle loop (smp_set_idle), and hart 0's shell while it waits -- for
 * input at the prompt (console_set_idle) or for a foreground process
 * (proc_wait_kernel). sched_run_one takes the head of the run queue and
 * switches to it (satp, sscratch 0, the kernel stack's top word naming
 * this hart for trapvec.S's tp); the process gives the hart back by
 * switching to the hart's context again: preempted at its tick (one tick
 * = one slice, 10 ms), yielding, asleep in wait4, or exiting. What
 * happens to it then is decided in the scheduler's context, after the
 * switch (finish_switch, as Linux's finish_task_switch): only then is a
 * preempted process queued again or an exited one made a zombie, so no
 * other hart can pick up a context that is still being saved.
 *
 * One lock, proc_lock, guards the table, the queue, every process's
 * scheduler fields (kernel/proc.h) and the parent links. It is never
 * held across a switch, an allocation or a print. A process's kernel
 * part runs with interrupts off (traps), so it is never preempted there.
 * Lock order: proc_lock, then a process's mm_lock (proc_inspect, which
 * holds both while it copies; a struct proc leaves the table under
 * proc_lock before it is freed, so it cannot go meanwhile). */
#include <string.h>
#include "kernel/proc.h"
#include "kernel/console.h"
#include "kernel/kstack.h"
#include "kernel/memory.h"
#include "kernel/platform.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/sys_file.h"
#include "arch/riscv.h"
#include "mm/kmalloc.h"
#include "mm/buddy.h"
#include "mm/page.h"
#include "uapi/tally/types.h"
#include "kerrno.h"

#define SATP_SV39 (8ull << 60)

static struct spinlock proc_lock = SPINLOCK_INIT("proc");
static struct proc *table[PROC_MAX];
static struct proc *rq_head, *rq_tail;
static int next_pid = 1;

/* Per hart: the process it runs, its scheduler context, slices run. */
static struct sched_hart {
	struct proc *current;
	struct proc_context ctx;
	unsigned long slices;
} sched_harts[HART_MAX];

static struct sched_hart *here(void)
{
	return &sched_harts[this_hart()->index];
}

struct proc *proc_current(void)
{
	return here()->current;
}

void proc_account_tick(int user)
{
	struct proc *p = here()->current;

	if (p && user)
		p->utime++;
	else if (p)
		p->stime++;
}

unsigned long sched_hart_slices(unsigned hart)
{
	return hart < HART_MAX ? sched_harts[hart].slices : 0;
}

/* ---- the run queue (proc_lock held) -------------------------------------- */

static void rq_push(struct proc *p)
{
	p->state = PROC_RUNNABLE;
	p->rq_next = NULL;
	if (rq_tail)
		rq_tail->rq_next = p;
	else
		rq_head = p;
	rq_tail = p;
}

static struct proc *rq_pop(void)
{
	struct proc *p = rq_head;

	if (p) {
		rq_head = p->rq_next;
		if (!rq_head)
			rq_tail = NULL;
	}
	return p;
}

/* Wake p if it sleeps: queued, or -- still on its hart, its context being
 * saved -- marked for finish_switch to queue. */
static void wake(struct proc *p)
{
	if (p->state != PROC_SLEEPING)
		return;
	if (p->on_cpu)
		p->wakeup = 1;
	else
		rq_push(p);
}

/* IPI the harts that run no process, so one takes the queue's head now
 * rather than at its next tick. */
static void kick_idle(void)
{
	unsigned me = this_hart()->index;

	for (unsigned i = 0; i < nharts; i++)
		if (i != me && !__atomic_load_n(&sched_harts[i].current, __ATOMIC_RELAXED))
			smp_kick(i);
}

/* A zombie's last remains: its kernel stack and struct (its space went at
 * exit). It is out of the table already. */
static void proc_release(struct proc *p)
{
	kstack_free(p->kstack);   /* off every hart now */
	kfree(p);
}

static void table_remove(struct proc *p)
{
	for (unsigned i = 0; i < PROC_MAX; i++)
		if (table[i] == p)
			table[i] = NULL;
}

/* ---- running ------------------------------------------------------------- */

int sched_add(struct proc *p, struct proc *parent)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock);
	unsigned i;

	for (i = 0; i < PROC_MAX && table[i]; i++)
		;
	if (i == PROC_MAX) {
		spin_unlock_irqrestore(&proc_lock, flags);
		return -EAGAIN;
	}
	p->pid = next_pid++;
	p->parent = parent;
	p->ppid = parent ? parent->pid : 0;
	table[i] = p;
	rq_push(p);
	spin_unlock_irqrestore(&proc_lock, flags);
	kick_idle();
	return p->pid;
}

/* Free orphaned zombies nobody reaps (finish_switch): their kernel
 * stacks first, while they are still in the table (ps shows them as
 * zombies until their memory is back: freeing a stack flushes every
 * hart's TLB, which takes a while), then their slots and structs. Nobody
 * else frees them meanwhile: no parent, and the kernel's wait skips them. */
static void release_orphans(struct proc **freed, unsigned n)
{
	unsigned long flags;

	for (unsigned i = 0; i < n; i++) {
		kstack_free(freed[i]->kstack);
		freed[i]->kstack = NULL;
	}
	flags = spin_lock_irqsave(&proc_lock);
	for (unsigned i = 0; i < n; i++)
		table_remove(freed[i]);
	spin_unlock_irqrestore(&proc_lock, flags);
	for (unsigned i = 0; i < n; i++)
		proc_release(freed[i]);   /* the struct: its stack is gone already */
}

/* After prev gave this hart back (the scheduler's context, proc_lock
 * free): queue it again, leave it asleep, or make it a zombie. */
static void finish_switch(struct proc *prev)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock);
	struct proc *freed[PROC_MAX];
	unsigned nfreed = 0;
	int kick = 0;

	prev->on_cpu = 0;
	if (prev->exiting) {
		for (unsigned i = 0; i < PROC_MAX; i++) {
			struct proc *c = table[i];

			if (!c || c->parent != prev)
				continue;
			c->parent = NULL;   /* an orphan: the kernel's, reaped by nobody */
			c->ppid = 0;
			c->autoreap = 1;
			if (c->state == PROC_ZOMBIE)
				freed[nfreed++] = c;
		}
		prev->state = PROC_ZOMBIE;
		if (prev->parent) {
			kick = prev->parent->state == PROC_SLEEPING;
			wake(prev->parent);
		} else if (prev->autoreap) {
			freed[nfreed++] = prev;
		}
	} else if (prev->state == PROC_RUNNING ||
		   (prev->state == PROC_SLEEPING && prev->wakeup)) {
		rq_push(prev);   /* this hart looks at the queue next; idle ones at their tick */
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	if (nfreed)
		release_orphans(freed, nfreed);
	if (kick)
		kick_idle();
}

static void use_space(const struct vm_space *vs)
{
	sfence_vma();
	csr_write(satp, SATP_SV39 | (virt_to_phys(vs->root) >> PAGE_SHIFT));
	sfence_vma();
}

int sched_run_one(void)
{
	struct sched_hart *h = here();
	uint64_t irq, scratch;
	unsigned long flags;
	struct proc *p;

	if (!__atomic_load_n(&rq_head, __ATOMIC_RELAXED))
		return 0;
	irq = irq_save();
	flags = spin_lock_irqsave(&proc_lock);
	p = rq_pop();
	if (p) {
		p->state = PROC_RUNNING;
		p->on_cpu = 1;
		p->wakeup = 0;
		p->hart = this_hart()->index;
		p->slices++;
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	if (!p) {
		irq_restore(irq);
		return 0;
	}
	h->current = p;
	h->slices++;
	scratch = csr_read(sscratch);
	csr_write(sscratch, 0);      /* its kernel part runs as inside a trap */
	use_space(&p->vm);           /* TLB flushed: nothing stale of its kernel stack */
	*(struct hart **)(uintptr_t)p->kstack_top = this_hart();   /* trapvec.S: tp */
	proc_switch(&h->ctx, &p->ctx);
	kvm_enable_hart();           /* the kernel's table, TLB flushed */
	csr_write(sscratch, scratch);
	h->current = NULL;
	finish_switch(p);
	irq_restore(irq);
	return 1;
}

/* From p's kernel context: back to this hart's scheduler. */
static void switch_out(struct proc *p)
{
	proc_switch(&p->ctx, &here()->ctx);
	/* resumed, maybe on another hart: its tp is that hart's */
}

void sched_yield_proc(struct proc *p)
{
	switch_out(p);
}

void sched_exit_proc(struct proc *p)
{
	p->exiting = 1;   /* read by finish_switch, on this hart, after the switch */
	switch_out(p);
	__builtin_unreachable();   /* nothing switches back to an exited process */
}

static int idle_work(void)
{
	return sched_run_one();
}

void sched_init(void)
{
	smp_set_idle(idle_work);
	console_set_idle(idle_work);
}

/* ---- waiting, killing ---------------------------------------------------- */

/* A child of self (NULL: the kernel) that pid selects. */
static int selects(const struct proc *c, const struct proc *self, int pid)
{
	if (c->parent != self || (!self && c->autoreap))
		return 0;
	return pid == -1 || c->pid == pid;
}

/* kernel/proc.h */
void proc_get_usage(const struct proc *p, enum proc_usage_who who, struct proc_usage *u)
{
	*u = (struct proc_usage){ 0 };
	if (who & PROC_USAGE_CHILDREN)
		*u = (struct proc_usage){ p->cutime, p->cstime, p->cmaxrss, p->cmin_flt };
	if (who & PROC_USAGE_SELF) {
		u->utime += p->utime;
		u->stime += p->stime;
		u->minflt += p->faults;
		if (u->maxrss < p->hiwater_rss)
			u->maxrss = p->hiwater_rss;
	}
}

/* A reaped child c's usage (and its own children's) added to self's
 * children's, as kernel/exit.c's wait_task_zombie does. */
static void add_child_usage(struct proc *self, const struct proc *c)
{
	struct proc_usage u;

	proc_get_usage(c, PROC_USAGE_BOTH, &u);
	self->cutime += u.utime;
	self->cstime += u.stime;
	self->cmin_flt += u.minflt;
	if (self->cmaxrss < u.maxrss)
		self->cmaxrss = u.maxrss;
}

int proc_wait(struct proc *self, int pid, int *wstatus, int options, struct proc_usage *usage)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock);

	for (;;) {
		int found = 0;

		for (unsigned i = 0; i < PROC_MAX; i++) {
			struct proc *c = table[i];

			if (!c || !selects(c, self, pid))
				continue;
			found = 1;
			if (c->state == PROC_ZOMBIE) {
				int cpid = c->pid;

				table[i] = NULL;
				if (self)   /* times(2), getrusage(2): its usage and its children's */
					add_child_usage(self, c);
				spin_unlock_irqrestore(&proc_lock, flags);
				if (wstatus)
					*wstatus = c->wstatus;
				if (usage)
					proc_get_usage(c, PROC_USAGE_BOTH, usage);
				proc_release(c);
				return cpid;
			}
		}
		if (!found || (options & LINUX_WNOHANG) || !self || self->killed) {
			int rc = !found ? -ECHILD : (options & LINUX_WNOHANG) || !self ? 0 : -EINTR;

			spin_unlock_irqrestore(&proc_lock, flags);
			return rc;
		}
		self->state = PROC_SLEEPING;
		self->wakeup = 0;
		spin_unlock_irqrestore(&proc_lock, flags);
		switch_out(self);
		flags = spin_lock_irqsave(&proc_lock);
	}
}

/* Sleep until an interrupt (the tick at the latest), interrupts as they
 * were after it. */
static void idle_wait(void)
{
	uint64_t s = irq_save();

	if (!__atomic_load_n(&rq_head, __ATOMIC_RELAXED))
		wfi();
	irq_restore(s);
}

int proc_wait_kernel(int pid, int *status, int ctrl_c)
{
	int ws = 0, rc, sent = 0;
	int inside = sys_file_kernel_leave();   /* the volume is the processes' meanwhile */

	while ((rc = proc_wait(NULL, pid, &ws, LINUX_WNOHANG, NULL)) == 0) {
		if (ctrl_c && !sent && console_interrupted()) {
			proc_kill(pid, PROC_SIGINT);
			sent = 1;
		}
		if (!sched_run_one())
			idle_wait();
	}
	if (inside)
		sys_file_kernel_enter();
	if (rc < 0)
		return rc;
	*status = proc_status_code(ws);
	return 0;
}

/* Whether process pid has exited: a zombie (every frame it held back),
 * or no longer in the table. */
static int has_exited(int pid)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock);
	int gone = 1;

	for (unsigned i = 0; i < PROC_MAX; i++)
		if (table[i] && table[i]->pid == pid)
			gone = table[i]->state == PROC_ZOMBIE;
	spin_unlock_irqrestore(&proc_lock, flags);
	return gone;
}

int sched_wait_exit(int pid, unsigned ms)
{
	struct proc *self = proc_current();
	uint64_t until = rdtime() + platform.timebase_hz / 1000 * ms;
	int inside = self ? 0 : sys_file_kernel_leave();   /* as proc_wait_kernel */
	int rc = 0;

	while (!has_exited(pid)) {
		if (self && self->killed) {
			rc = -EINTR;
			break;
		}
		if (rdtime() >= until) {
			rc = -ETIMEDOUT;
			break;
		}
		if (self)
			sched_yield_proc(self);
		else if (!sched_run_one())
			idle_wait();
	}
	if (inside)
		sys_file_kernel_enter();
	return rc;
}

/* Linux's default actions (signal(7)): Ign for these, Stop for the job
 * control ones (refused: Tally has none), Term or Core for the rest. */
static int sig_ignored(int sig)
{
	return sig == 17 || sig == 18 || sig == 23 || sig == 28;   /* CHLD CONT URG WINCH */
}

static int sig_stops(int sig)
{
	return sig == 19 || sig == 20 || sig == 21 || sig == 22;   /* STOP TSTP TTIN TTOU */
}

int proc_kill(int pid, int sig)
{
	unsigned long flags;
	struct proc *q = NULL;
	int hart = -1;

	if (sig < 0 || sig > 64 || sig_stops(sig))
		return -EINVAL;
	flags = spin_lock_irqsave(&proc_lock);
	for (unsigned i = 0; i < PROC_MAX && !q; i++)
		if (table[i] && table[i]->pid == pid && pid > 0)
			q = table[i];
	if (q && sig && !sig_ignored(sig) && !q->exiting && q->state != PROC_ZOMBIE && !q->killed) {
		q->killed = sig;
		wake(q);
		if (q->on_cpu)
			hart = (int)q->hart;
		else if (q->state == PROC_RUNNABLE)
			hart = -2;   /* queued: the sooner it runs, the sooner it dies */
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	if (!q)
		return -ESRCH;
	if (hart >= 0)
		smp_kick((unsigned)hart);   /* in U-mode there: it traps and dies now */
	else if (hart == -2)
		kick_idle();
	return 0;
}

/* ---- looking ------------------------------------------------------------- */

unsigned proc_list(struct proc_info *out, unsigned max)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock);
	unsigned n = 0;
	int last = 0;

	for (;;) {   /* in pid order: the next pid above last */
		struct proc *next = NULL;

		for (unsigned i = 0; i < PROC_MAX; i++)
			if (table[i] && table[i]->pid > last && (!next || table[i]->pid < next->pid))
				next = table[i];
		if (!next)
			break;
		if (n < max)
			out[n] = (struct proc_info){
				.pid = next->pid, .ppid = next->ppid, .state = next->state,
				.hart = next->hart, .vsz = next->vmas.bytes, .rss = next->rss,
				.hiwater_rss = next->hiwater_rss, .tables = next->vm.tables,
				.faults = next->faults };
		if (n < max)
			memcpy(out[n].cmd, next->cmd, PROC_CMD_MAX);
		n++;
		last = next->pid;
	}
	spin_unlock_irqrestore(&proc_lock, flags);
	return n;
}

int proc_inspect(int pid, void (*fn)(const struct proc *p, void *arg), void *arg)
{
	unsigned long flags = spin_lock_irqsave(&proc_lock), mm_flags;
	struct proc *p = NULL;

	for (unsigned i = 0; i < PROC_MAX && !p; i++)
		if (table[i] && table[i]->pid == pid && pid > 0)
			p = table[i];
	if (!p) {
		spin_unlock_irqrestore(&proc_lock, flags);
		return -ESRCH;
	}
	mm_flags = spin_lock_irqsave(&p->mm_lock);
	fn(p, arg);   /* short: a copy; p stays in the table meanwhile */
	spin_unlock_irqrestore(&p->mm_lock, mm_flags);
	spin_unlock_irqrestore(&proc_lock, flags);
	return 0;
}

int proc_check_frames(void)
{
	unsigned long user, tables;

	if (proc_count())
		return 0;
	user = page_owner_pages(PAGE_OWNER_USER);
	tables = page_owner_pages(PAGE_OWNER_USER_PGTABLE);
	if (!user && !tables)
		return 0;
	kprintf("memcheck: no process, yet %lu user pages and %lu process page tables held\n",
		user, tables);
	return 1;
}

unsigned proc_count(void)
{
	return proc_list(NULL, 0);
}
