/* fat32_name.c - FAT names: 8.3 decoding, VFAT long-name text, the LFN
 * checksum and the lookup comparison.
 *
 * Long names are UTF-16 (spec section 7 "Long File Name Implementation");
 * they become UTF-8 here, surrogate pairs joined, unpaired surrogates
 * replaced by U+FFFD. Short names are OEM code page bytes; like mtools we
 * take code page 850. Comparison folds ASCII letters only. Not a
 * name generator (nothing is ever written). */
#include "fat32_internal.h"

#include <string.h>

/* Code page 850, bytes 0x80..0xFF. */
static const uint16_t cp850[128] = {
	0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7,
	0x00EA, 0x00EB, 0x00E8, 0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5,
	0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2, 0x00FB, 0x00F9,
	0x00FF, 0x00D6, 0x00DC, 0x00F8, 0x00A3, 0x00D8, 0x00D7, 0x0192,
	0x00E1, 0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA,
	0x00BF, 0x00AE, 0x00AC, 0x00BD, 0x00BC, 0x00A1, 0x00AB, 0x00BB,
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00C1, 0x00C2, 0x00C0,
	0x00A9, 0x2563, 0x2551, 0x2557, 0x255D, 0x00A2, 0x00A5, 0x2510,
	0x2514, 0x2534, 0x252C, 0x251C, 0x2500, 0x253C, 0x00E3, 0x00C3,
	0x255A, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256C, 0x00A4,
	0x00F0, 0x00D0, 0x00CA, 0x00CB, 0x00C8, 0x0131, 0x00CD, 0x00CE,
	0x00CF, 0x2518, 0x250C, 0x2588, 0x2584, 0x00A6, 0x00CC, 0x2580,
	0x00D3, 0x00DF, 0x00D4, 0x00D2, 0x00F5, 0x00D5, 0x00B5, 0x00FE,
	0x00DE, 0x00DA, 0x00DB, 0x00D9, 0x00FD, 0x00DD, 0x00AF, 0x00B4,
	0x00AD, 0x00B1, 0x2017, 0x00BE, 0x00B6, 0x00A7, 0x00F7, 0x00B8,
	0x00B0, 0x00A8, 0x00B7, 0x00B9, 0x00B3, 0x00B2, 0x25A0, 0x00A0,
};

/* Append code point cp as UTF-8; false when it does not fit (cap counts
 * the NUL). */
static bool put_utf8(char *out, size_t cap, size_t *len, uint32_t cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	if (*len + n + 1 > cap)
		return false;
	memcpy(out + *len, b, n);
	*len += n;
	out[*len] = '\0';
	return true;
}

int fat_utf16_to_utf8(const uint16_t *u, unsigned n, char *out, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return -ENAMETOOLONG;
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		uint32_t cp = u[i];

		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n &&
		    u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (u[i + 1] - 0xDC00);
			i++;
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		if (!put_utf8(out, cap, &len, cp))
			return -ENAMETOOLONG;
	}
	return (int)len;
}

/* Append the bytes raw[0..n) minus trailing blanks, lowered if asked;
 * in the name part (not the extension) a leading 0x05 stands for 0xE5. */
static void short_part(const uint8_t *raw, int n, bool lower, bool name,
		       char *out, size_t *len)
{
	while (n > 0 && raw[n - 1] == ' ')
		n--;
	for (int i = 0; i < n; i++) {
		uint32_t c = raw[i];

		if (name && i == 0 && c == DIR_NAME_E5_ESC)
			c = DIR_NAME_FREE;
		if (c >= 0x80)
			c = cp850[c - 0x80];
		else if (lower && c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		put_utf8(out, 36, len, c);
	}
}

void fat_short_name(const uint8_t *e, bool nt_case, char out[36])
{
	const uint8_t *ext = e + DIR_Name + DIR_NAME_BASE;
	size_t len = 0;

	out[0] = '\0';
	short_part(e + DIR_Name, DIR_NAME_BASE,
		   nt_case && (e[DIR_NTRes] & DIR_NTRES_LOWER_BASE), true, out, &len);
	if (ext[0] == ' ' && ext[1] == ' ' && ext[2] == ' ')
		return;
	put_utf8(out, 36, &len, '.');
	short_part(ext, FAT_NAME11_LEN - DIR_NAME_BASE,
		   nt_case && (e[DIR_NTRes] & DIR_NTRES_LOWER_EXT), false, out, &len);
}

void fat_label_name(const uint8_t *raw11, char *out)
{
	size_t len = 0;

	out[0] = '\0';
	short_part(raw11, FAT_NAME11_LEN, false, true, out, &len);
}

uint8_t fat_lfn_checksum(const uint8_t *name11)
{
	uint8_t sum = 0;

	for (int i = 0; i < FAT_NAME11_LEN; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
	return sum;
}

static char fold(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

bool fat_name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++)
		if (b[i] == '\0' || fold(a[i]) != fold(b[i]))
			return false;
	return b[i] == '\0';
}
