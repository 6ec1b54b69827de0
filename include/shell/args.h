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

/* Take the first "key=..." word of argv[1..*argc-1] out of the list, for
 * an option that may stand anywhere among positional words: the words
 * after it move up and *argc drops by one. Returns the word (sh_kv gives
 * its value), or NULL when there is none; a second one stays in argv, to
 * fail the caller's positional parsing. */
char *sh_take_kv(int *argc, char **argv, const char *key);

/* Print a per-mille figure as a percentage with one decimal: "12.3". */
void sh_print_pm(unsigned pm);

/* Say why a number was refused ("cmd: what: why") and return SH_USAGE,
 * so the usage line follows. */
int sh_bad_number(const char *cmd, const char *what, const char *why);

/* Hex digits a physical address of this machine's RAM needs (at least 9),
 * so address columns stay aligned however much RAM there is. */
int sh_addr_width(void);

#endif
