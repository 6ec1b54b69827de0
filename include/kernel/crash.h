/* crash.h - faults and a panic made on purpose, to show the kernel's
 * reports: the shell's `crash KIND` and the boot argument crash=KIND. */
#ifndef TALLY_KERNEL_CRASH_H
#define TALLY_KERNEL_CRASH_H

/* The kinds, for usage lines. */
#define CRASH_KINDS "null|text|illegal|stack|kstack|panic|lock"

/* Make the fault `kind` names: null (load from address 0), text (store
 * into kernel text), illegal (an illegal instruction), stack (recurse into
 * the stack's guard page), kstack (a process's kernel part recurses into
 * the guard below its kernel stack: "kernel stack overflow", naming it),
 * panic (panic()), lock (take a spinlock twice:
 * the recursion panic, naming both call sites). Returns only for an
 * unknown kind: -EINVAL. */
int crash(const char *kind);

#endif
