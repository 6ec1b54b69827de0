/* version.h - the kernel's version string. */
#ifndef TALLY_VERSION_H
#define TALLY_VERSION_H

#define TALLY_VERSION "0.1.0"
#define TALLY_VERSION_STRING "Tally " TALLY_VERSION " riscv64 (gcc " __VERSION__ ")"

#endif
