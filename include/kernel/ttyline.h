/* ttyline.h - the console as a process's standard input: a line
 * discipline in the spirit of a terminal's canonical mode (POSIX XBD
 * 11.1.6; Linux's n_tty with ICANON ECHO ECHOE ICRNL), over the raw bytes
 * console.c receives.
 *
 * A read waits for a whole line and hands out at most that line (a
 * short read: the rest of it goes to the next read). While a line is
 * typed: Enter (CR, turned into '\n' as ICRNL does, or LF) ends it, the
 * '\n' included; Backspace or DEL erases the last character (a whole
 * UTF-8 sequence); Ctrl-U erases the line; Ctrl-D ends the line without
 * a newline, and on an empty line is end of file (the read returns 0);
 * other control characters are kept and echoed as ^X; a line holds at
 * most TTYLINE_MAX - 1 bytes, further bytes are dropped until Enter.
 * Everything is echoed. Ctrl-C belongs to the foreground process: it
 * is not queued (console.c drops the bytes typed ahead and raises its
 * flag) and the waiting process is killed with status 130.
 *
 * One line for the machine: only the foreground process reads it (the
 * one the shell waits for; a background process's fd 0 is at end of
 * file, kernel/fdtable.h). Bytes not yet taken from the UART when the
 * process ends stay for the shell; a line it had begun or not read
 * whole is dropped (ttyline_flush). */
#ifndef TALLY_KERNEL_TTYLINE_H
#define TALLY_KERNEL_TTYLINE_H

#include <stddef.h>
#include <stdint.h>

#define TTYLINE_MAX 4096     /* Linux's N_TTY_BUF_SIZE */

struct proc;

/* Read up to n bytes of the console's next line into user address buf of
 * p, waiting (with wfi, interrupts on) until a line is complete. Returns
 * the bytes copied (at most one line), 0 at end of file (Ctrl-D on an
 * empty line, or n == 0), -EFAULT when buf cannot take the first byte
 * (nothing is consumed then). Does not return when Ctrl-C is typed: p is
 * told "pid N (name): interrupted" and exits with status 130. Process
 * context (a system call) only. */
long ttyline_read(struct proc *p, uint64_t buf, size_t n);

/* Forget the line being typed or not read whole (the foreground process
 * ended). */
void ttyline_flush(void);

#endif
