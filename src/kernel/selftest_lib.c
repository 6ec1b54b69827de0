/* selftest_lib.c - in-kernel tests of src/lib on the real target: the
 * printf engine, the string functions and the device-tree reader. */
#include <string.h>
#include "kernel/ktest.h"
#include "kernel/platform.h"
#include "lib/fdt.h"
#include "lib/printf.h"

static int fmt_is(const char *want, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return strcmp(buf, want) == 0;
}

static void test_printf(struct ktest *t)
{
	KT_EXPECT(t, fmt_is("-42 7 ff", "%d %i %x", -42, 7, 255));
	KT_EXPECT(t, fmt_is("00001234", "%08lx", 0x1234ul));
	KT_EXPECT(t, fmt_is("ab   |", "%-5s|", "ab"));
	KT_EXPECT(t, fmt_is("   ab|", "%5s|", "ab"));
	KT_EXPECT(t, fmt_is("-0042", "%05d", -42));
	KT_EXPECT(t, fmt_is("18446744073709551615", "%lu", ~0ul));
	KT_EXPECT(t, fmt_is("123 x %", "%zu %c %%", (size_t)123, 'x'));
	KT_EXPECT(t, fmt_is("0x80200000", "%p", (void *)0x80200000ul));
	KT_EXPECT(t, fmt_is("(null)", "%s", (char *)0));
}

static void test_snprintf_truncates(struct ktest *t)
{
	char buf[4] = "zzz";

	KT_EXPECT(t, ksnprintf(buf, sizeof(buf), "%s", "hello") == 5);
	KT_EXPECT(t, strcmp(buf, "hel") == 0);
}

static void test_string(struct ktest *t)
{
	char a[16];

	memset(a, 'x', sizeof(a));
	memcpy(a, "abcdef", 7);
	KT_EXPECT(t, strlen(a) == 6);
	memmove(a + 1, a, 6);
	KT_EXPECT(t, memcmp(a, "aabcdef", 7) == 0);
	KT_EXPECT(t, strcmp("abc", "abd") < 0 && strncmp("abc", "abd", 2) == 0);
	KT_EXPECT(t, strchr("hello", 'l') != NULL && strchr("hello", 'z') == NULL);
}

static void test_devtree(struct ktest *t)
{
	KT_EXPECT(t, platform.nram >= 1 && platform.ram[0].size >= (16u << 20));
	KT_EXPECT(t, platform.uart.size != 0);
	KT_EXPECT(t, platform.timebase_hz != 0);
	KT_EXPECT(t, platform.ncpus >= 1);
	KT_EXPECT(t, fdt_total_size((void *)(uintptr_t)platform.dtb_base) == platform.dtb_size);
	KT_EXPECT(t, fdt_total_size("not a device tree") == 0);
}

static const struct ktest_case lib_cases[] = {
	{ "printf_formats", test_printf },
	{ "snprintf_truncates", test_snprintf_truncates },
	{ "string_functions", test_string },
	{ "devtree_parsed", test_devtree },
};
KTEST_SUITE(lib_suite, "lib", lib_cases);
