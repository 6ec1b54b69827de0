/* args.c - number and key=value parsing for shell commands, and the
 * number formats their tables share. */
#include <string.h>
#include "shell/args.h"
#include "kernel/console.h"
#include "shell/shell.h"
#include "kerrno.h"
#include "mm/page.h"

int sh_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int sh_parse_size(const char *s, uint64_t *out)
{
	char num[24];
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	uint64_t v;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'K': case 'k': shift = 10; break;
	case 'M': case 'm': shift = 20; break;
	case 'G': case 'g': shift = 30; break;
	default: break;
	}
	if (shift)
		num[n - 1] = 0;
	if (sh_parse_u64(num, &v) || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

const char *sh_kv(const char *arg, const char *key)
{
	size_t k = strlen(key);

	return !strncmp(arg, key, k) && arg[k] == '=' ? arg + k + 1 : NULL;
}

char *sh_take_kv(int *argc, char **argv, const char *key)
{
	for (int i = 1; i < *argc; i++) {
		char *word = argv[i];

		if (!sh_kv(word, key))
			continue;
		for (int j = i; j + 1 < *argc; j++)
			argv[j] = argv[j + 1];
		(*argc)--;
		return word;
	}
	return NULL;
}

void sh_print_pm(unsigned pm)
{
	kprintf("%u.%u", pm / 10, pm % 10);
}

int sh_addr_width(void)
{
	uint64_t end = (page_base_pfn + page_nr_frames) << PAGE_SHIFT;
	int w = 1;

	while (end >>= 4)
		w++;
	return w < 9 ? 9 : w;
}

int sh_bad_number(const char *cmd, const char *what, const char *why)
{
	kprintf("%s: %s: %s\n", cmd, what, why);
	return SH_USAGE;
}
