/* sections.h - section bounds exported by src/arch/riscv/kernel.ld. */
#ifndef TALLY_SECTIONS_H
#define TALLY_SECTIONS_H

extern char _kernel_start[], _kernel_end[];
extern char _text_start[], _text_end[];
extern char _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[];
extern char _bss_start[], _bss_end[];
extern char _boot_stack_guard[], _boot_stack_bottom[], _boot_stack_top[];
extern char _trap_stack_guard[], _trap_stack_bottom[], _trap_stack_top[];
extern char _stacks_start[], _stacks_end[];   /* every hart's (kernel/smp.h) */

#endif
