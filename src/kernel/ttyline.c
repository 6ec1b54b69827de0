/* ttyline.c - the console's line discipline for processes (kernel/ttyline.h).
 *
 * line[0..len) is what has been typed; line[0..ready) of it is complete
 * (ended by Enter or Ctrl-D) and waits to be read, from line[0] on: a read
 * takes from the front and moves the rest down. Nothing is typed past a
 * complete line: a read takes the whole line before the next is edited,
 * so ready is 0 or len. eof: a Ctrl-D on an empty line, for the next read. */
#include <string.h>
#include "kernel/ttyline.h"
#include "kernel/console.h"
#include "kernel/proc.h"
#include "arch/riscv.h"
#include "kerrno.h"

#define CTRL_C 0x03
#define CTRL_D 0x04
#define CTRL_U 0x15
#define BS     0x08
#define DEL    0x7f

static char line[TTYLINE_MAX];
static size_t len, ready;
static int eof;

void ttyline_flush(void)
{
	len = ready = 0;
	eof = 0;
}

/* Erase the last character: a UTF-8 sequence whole, a ^X echo as two
 * columns. */
static void erase_one(void)
{
	unsigned char c;
	int cols;

	if (len == 0)
		return;
	while (len > 1 && (line[len - 1] & 0xC0) == 0x80)
		len--;   /* continuation bytes of the last sequence */
	c = (unsigned char)line[--len];
	cols = c < 0x20 && c != '\t' ? 2 : 1;
	while (cols--)
		kputs("\b \b");
}

/* One typed byte: edit the line, echo it. */
static void take(int c)
{
	switch (c) {
	case '\r': case '\n':
		line[len++] = '\n';   /* room is kept for it */
		kputc('\n');
		ready = len;
		return;
	case CTRL_D:
		if (len == 0)
			eof = 1;
		ready = len;
		return;
	case BS: case DEL:
		erase_one();
		return;
	case CTRL_U:
		while (len)
			erase_one();
		return;
	}
	if (len >= TTYLINE_MAX - 1)
		return;   /* full: dropped, the newline still fits */
	line[len++] = (char)c;
	if (c < 0x20 && c != '\t') {
		kputc('^');
		kputc((char)(c + '@'));
	} else {
		kputc((char)c);
	}
}

/* Wait for the next byte; a Ctrl-C or a pending kill ends p. Interrupts are on only
 * around the wait: the check and the wfi run with them off, so a byte
 * arriving in between still ends the wfi (it is pending). */
static int next_byte(struct proc *p)
{
	uint64_t s = irq_save();
	int c;

	for (;;) {
		if (console_interrupted()) {
			ttyline_flush();
			proc_die(p, PROC_SIGINT);   /* says "pid N (name): interrupted" */
		}
		if (p->killed) {                    /* kill from another process */
			ttyline_flush();
			proc_die(p, p->killed);
		}
		c = console_getc();
		if (c >= 0)
			break;
		wfi();
		csr_set(sstatus, SSTATUS_SIE);   /* take what woke us */
		csr_clear(sstatus, SSTATUS_SIE);
	}
	irq_restore(s);
	return c;
}

long ttyline_read(struct proc *p, uint64_t buf, size_t n)
{
	size_t k;

	if (n == 0)
		return 0;
	while (!ready && !eof)
		take(next_byte(p));
	if (!ready) {
		eof = 0;
		return 0;
	}
	k = n < ready ? n : ready;
	if (copy_to_user(p, buf, line, k) != 0)
		return -EFAULT;
	memmove(line, line + k, len - k);
	len -= k;
	ready -= k;
	return (long)k;
}
