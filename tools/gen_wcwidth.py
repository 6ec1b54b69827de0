#!/usr/bin/env python3
"""Write src/lib/wcwidth_table.h: the code point ranges a terminal shows
two columns wide (Unicode East Asian Width W and F, UAX #11, for
assigned code points; planes 2 and 3 whole, as UAX #11's default) and zero
columns wide (general categories Mn and Me: combining marks), from the
Unicode Character Database that Python's unicodedata carries.

    python3 tools/gen_wcwidth.py > src/lib/wcwidth_table.h

The table is committed, so a build needs no Python; rerun this to move to
a newer Unicode version (the header names the one it was made from)."""
import sys
import unicodedata


def ranges(pred):
    out, start = [], None
    for cp in range(0x110000):
        if pred(chr(cp)):
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return out


def table(name, rs):
    lines = [f"static const struct wc_range {name}[] = {{"]
    row = []
    for lo, hi in rs:
        row.append(f"{{0x{lo:05x}, 0x{hi:05x}}},")
        if len(row) == 4:
            lines.append("\t" + " ".join(row))
            row = []
    if row:
        lines.append("\t" + " ".join(row))
    lines.append("};")
    return "\n".join(lines)


def is_wide(c):
    """W or F. Python gives unassigned code points no width of their own,
    so they take UAX #11's default: W in planes 2 and 3, else not wide."""
    cp = ord(c)
    if unicodedata.category(c) == "Cn":
        return 0x20000 <= cp <= 0x3FFFD
    return unicodedata.east_asian_width(c) in ("W", "F")


def main():
    wide = ranges(is_wide)
    zero = ranges(lambda c: unicodedata.category(c) in ("Mn", "Me"))
    print(f"/* wcwidth_table.h - made by tools/gen_wcwidth.py from Unicode "
          f"{unicodedata.unidata_version}; do not edit.\n"
          f" * Sorted, disjoint, inclusive code point ranges. */")
    print(table("wc_wide", wide))
    print()
    print(table("wc_zero", zero))
    return 0


sys.exit(main())
