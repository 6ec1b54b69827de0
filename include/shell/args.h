/* args.h - argument parsing shared by shell commands. */
#ifndef TALLY_SHELL_ARGS_H
#define TALLY_SHELL_ARGS_H

#include <stdint.h>

/* Decimal (or 0x hex) unsigned number. 0, or -EINVAL. */
int sh_parse_u64(const char *s, uint64_t *out);

/* A size: a number with an optional K, M or G suffix (powers of 1024).
 * 0, or -EINVAL (garbage or overflow). */
int sh_parse_size(const char *s, uint64_t *out);

/* "key=value": returns value when arg starts with key and '=', else NULL. */
const char *sh_kv(const char *arg, const char *key);

/* Print a per-mille figure as a percentage with one decimal: "12.3". */
void sh_print_pm(unsigned pm);

#endif
