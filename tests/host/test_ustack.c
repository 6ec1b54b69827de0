/* test_ustack.c - the initial user stack (src/proc/ustack.c).
 *
 * One layout checked byte for byte against an image written here at
 * literal offsets; the same stack read back as a libc's _start would
 * (argc, argv, envp, auxv by type); alignment and bounds over many
 * argument shapes (a fixed seed); every error, with the buffer left
 * untouched. */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "kerrno.h"
#include "lib/le.h"
#include "lib/xorshift.h"
#include "proc/ustack.h"
#include "proc/uspace.h"

#define TOP      USER_STACK_TOP
#define BUFSZ    4096u
#define FILL     0xa5

static uint8_t buf[BUFSZ];

static const char *const argv3[] = { "prog", "a b", "" };
static const char *const envp1[] = { "TALLY_MODE=twotier" };

static struct ustack_args args3(void)
{
	struct ustack_args a = { .argv = argv3, .argc = 3, .envp = envp1, .envc = 1,
				 .phdr = 0x10040, .phent = 56, .phnum = 3, .entry = 0x100e8 };

	for (int i = 0; i < 16; i++)
		a.random[i] = (uint8_t)(0xf0 + i);
	return a;
}

/* The byte at user address va in buf. */
static uint8_t *at(uint64_t va)
{
	return buf + (va - (TOP - BUFSZ));
}

/* The expected image for args3, at literal offsets below TOP:
 *   TOP-8   end marker           TOP-37  strings (29 bytes)
 *   TOP-64  AT_RANDOM's bytes    TOP-240 sp: 21 words, then 8 padding */
static void expected_image(uint8_t *e)
{
	static const char strings[] = "prog\0a b\0\0TALLY_MODE=twotier";
	const uint64_t s = TOP - 37, words[21] = {
		3, s, s + 5, s + 9, 0, s + 10, 0,
		3, 0x10040, 4, 56, 5, 3, 6, 4096,      /* AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ */
		9, 0x100e8, 25, TOP - 64, 0, 0,        /* AT_ENTRY, AT_RANDOM, AT_NULL */
	};
	uint8_t *base = e - (TOP - BUFSZ);

	memset(e, FILL, BUFSZ);
	memset(base + TOP - 240, 0, 240);
	for (int i = 0; i < 21; i++)
		put_le64(base + TOP - 240 + 8 * i, words[i]);
	for (int i = 0; i < 16; i++)
		base[TOP - 64 + i] = (uint8_t)(0xf0 + i);
	memcpy(base + s, strings, sizeof(strings));      /* with its NUL: 29 bytes */
}

static void test_layout_bytes(void)
{
	struct ustack_args a = args3();
	struct ustack_layout l;
	static uint8_t want[BUFSZ];
	int err;

	memset(buf, FILL, sizeof(buf));
	err = ustack_build(buf, sizeof(buf), TOP, &a, &l);
	tap_ok(err == 0, "built (%d)", err);
	tap_ok(l.sp == TOP - 240 && l.argv == TOP - 232 && l.envp == TOP - 200 &&
	       l.auxv == TOP - 184 && l.random == TOP - 64 && l.strings == TOP - 37 &&
	       l.used == 240, "layout: sp TOP-%llu, argv, envp, auxv, random, strings, used",
	       (unsigned long long)(TOP - l.sp));
	expected_image(want);
	tap_ok(!memcmp(buf, want, BUFSZ), "the whole page byte for byte, below sp untouched");
	for (unsigned i = 0; i < BUFSZ; i++) {
		if (buf[i] != want[i]) {
			tap_diag("first difference at TOP-%u: 0x%02x, expected 0x%02x", BUFSZ - i,
				 buf[i], want[i]);
			break;
		}
	}
}

static const char *str_at(uint64_t va)
{
	return (const char *)at(va);
}

/* Read the stack as _start does: argc, argv[], envp[], auxv by type. */
static void test_read_back(void)
{
	struct ustack_args a = args3();
	struct ustack_layout l;
	uint64_t sp, p, rnd = 0;
	unsigned n = 0;

	ustack_build(buf, sizeof(buf), TOP, &a, &l);
	sp = l.sp;
	tap_ok(sp % 16 == 0 && le64(at(sp)) == 3, "sp 16-byte aligned, argc 3");
	tap_ok(!strcmp(str_at(le64(at(sp + 8))), "prog") && !strcmp(str_at(le64(at(sp + 16))), "a b") &&
	       !strcmp(str_at(le64(at(sp + 24))), "") && le64(at(sp + 32)) == 0,
	       "argv: prog, \"a b\", \"\", NULL");
	tap_ok(!strcmp(str_at(le64(at(sp + 40))), "TALLY_MODE=twotier") && le64(at(sp + 48)) == 0,
	       "envp: one string, NULL");
	for (p = sp + 56; le64(at(p)) != LINUX_AT_NULL; p += 16, n++) {
		if (le64(at(p)) == LINUX_AT_RANDOM)
			rnd = le64(at(p + 8));
	}
	tap_ok(n == USTACK_AUXV_PAIRS - 1 && rnd % 16 == 0 && !memcmp(at(rnd), a.random, 16),
	       "auxv: 6 pairs then AT_NULL; AT_RANDOM points at the 16 bytes, 16-byte aligned");
	tap_ok(le64(at(TOP - 8)) == 0, "the end marker below TOP is zero");
}

/* Many shapes: sp aligned, everything inside [TOP - size, TOP). */
static void test_shapes(void)
{
	uint64_t rng = 0x57ac4;
	static char pool[64][40];
	const char *v[64];
	unsigned bad = 0, runs = 0;

	tap_seed("ustack shapes", 0x57ac4);
	for (unsigned k = 0; k < 64; k++) {
		size_t len = xorshift64(&rng) % 39;

		memset(pool[k], 'a' + k % 26, len);
		pool[k][len] = 0;
		v[k] = pool[k];
	}
	for (unsigned argc = 0; argc <= 32; argc++) {
		for (unsigned envc = 0; envc <= 32; envc += 4, runs++) {
			struct ustack_args a = { .argv = v, .argc = argc, .envp = v + 32, .envc = envc };
			struct ustack_layout l;
			int err = ustack_build(buf, sizeof(buf), TOP, &a, &l);

			bad += err || l.sp % 16 || l.used > BUFSZ || l.random % 16 ||
			       le64(at(l.sp)) != argc || le64(at(l.envp - 8)) != 0 ||
			       (argc && strcmp(str_at(le64(at(l.argv + 8 * (argc - 1)))), v[argc - 1])) ||
			       (envc && strcmp(str_at(le64(at(l.envp))), v[32]));
		}
	}
	tap_ok(bad == 0, "%u shapes (argc 0..32, envc 0..32): aligned, inside, read back", runs);
}

static void test_errors(void)
{
	struct ustack_args a = args3();
	struct ustack_layout l;
	static char big[USTACK_ARG_MAX + 1];   /* no NUL at first: ASan sees an over-read */
	static uint8_t large[USTACK_ARG_MAX + 8192];
	const char *v[2] = { big, NULL };
	static const char *many[USTACK_ARG_MAX / 16];
	int untouched = 1;

	memset(buf, FILL, sizeof(buf));
	tap_ok(ustack_build(buf, 239, TOP, &a, &l) == -E2BIG, "a buffer a byte too small: -E2BIG");
	tap_ok(ustack_build(buf, 240, TOP, &a, &l) == 0 && l.used == 240, "exactly enough: built");
	memset(buf, FILL, sizeof(buf));
	tap_ok(ustack_build(buf, sizeof(buf), TOP + 8, &a, &l) == -EINVAL, "top unaligned: -EINVAL");
	tap_ok(ustack_build(buf, sizeof(buf), 1024, &a, &l) == -EINVAL, "top below size: -EINVAL");
	tap_ok(ustack_build(NULL, sizeof(buf), TOP, &a, &l) == -EINVAL &&
	       ustack_build(buf, sizeof(buf), TOP, NULL, &l) == -EINVAL &&
	       ustack_build(buf, sizeof(buf), TOP, &a, NULL) == -EINVAL, "NULL arguments: -EINVAL");
	a.argv = NULL;
	tap_ok(ustack_build(buf, sizeof(buf), TOP, &a, &l) == -EINVAL, "argv NULL, argc 3: -EINVAL");
	a = args3();
	a.argv = v + 1;
	a.argc = 1;
	tap_ok(ustack_build(buf, sizeof(buf), TOP, &a, &l) == -EINVAL, "a NULL string: -EINVAL");
	memset(big, 'x', USTACK_ARG_MAX + 1);
	a.argv = v;
	a.envc = 0;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == -E2BIG,
	       "a string longer than USTACK_ARG_MAX: -E2BIG (read no further)");
	for (unsigned i = 0; i < sizeof(buf); i++)
		untouched &= buf[i] == FILL;
	tap_ok(untouched, "no failure wrote a byte");
	big[USTACK_ARG_MAX - 9] = 0;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == 0,
	       "one string of USTACK_ARG_MAX - 9 bytes (with its NUL and pointer: the limit) fits");
	big[USTACK_ARG_MAX - 9] = 'x';
	big[USTACK_ARG_MAX - 8] = 0;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == -E2BIG, "a byte more: -E2BIG");
	big[USTACK_ARG_MAX - 9] = 0;
	tap_ok(ustack_build(buf, sizeof(buf), TOP, &a, &l) == -E2BIG, "not a 4 KiB one: -E2BIG");
	for (unsigned i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = "12345678";       /* 9 bytes + an 8-byte pointer each */
	a.argv = many;
	a.argc = USTACK_ARG_MAX / 17;
	a.envc = 0;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == 0, "%u arguments of 17 bytes "
	       "each, within USTACK_ARG_MAX", a.argc);
	a.argc++;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == -E2BIG,
	       "one more passes USTACK_ARG_MAX: -E2BIG");
	a.argc = 0;
	a.envp = many;
	a.envc = USTACK_ARG_MAX / 17 + 1;
	tap_ok(ustack_build(large, sizeof(large), TOP, &a, &l) == -E2BIG,
	       "the same through envp: -E2BIG");
}

static const struct tap_case cases[] = {
	TAP_CASE(test_layout_bytes),
	TAP_CASE(test_read_back),
	TAP_CASE(test_shapes),
	TAP_CASE(test_errors),
};

int main(void)
{
	return tap_main(TAP_CASES(cases), NULL, NULL);
}
