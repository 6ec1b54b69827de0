#!/usr/bin/env python3
"""The mm layers point down: every #include in src/mm names a header of
the file's own layer or of one below it. The order is read from the
```mm-layers block of docs/ARCHITECTURE.md (top layer first), so the
document and the check cannot disagree. Prints TAP, one line per file."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layers():
    text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
    m = re.search(r"```mm-layers\n(.*?)```", text, re.S)
    if not m:
        sys.exit("Bail out! no ```mm-layers block in docs/ARCHITECTURE.md")
    rows = [l.split("#")[0].split() for l in m.group(1).splitlines()]
    rows = [r for r in rows if r]
    return {mod: len(rows) - i for i, row in enumerate(rows) for mod in row}


def module_of_header(name):
    """mm/NAME.h or NAME_internal.h -> NAME; anything else -> None."""
    m = re.fullmatch(r"mm/(\w+)\.h", name) or re.fullmatch(r"(\w+?)_internal\.h", name)
    return m.group(1) if m else None


def main():
    level = layers()
    src = os.path.join(ROOT, "src", "mm")
    n = failed = 0
    for f in sorted(os.listdir(src)):
        if not f.endswith((".c", ".h")):
            continue
        me = module_of_header(f) if f.endswith("_internal.h") else f[:-2]
        n += 1
        if me not in level:
            print(f"not ok {n} - src/mm/{f}: module {me} has no layer in docs/ARCHITECTURE.md")
            failed += 1
            continue
        up = []
        for inc in INCLUDE.findall(open(os.path.join(src, f)).read()):
            mod = module_of_header(inc)
            if mod is None:
                continue
            if mod not in level:
                up.append(f"{inc} (no layer)")
            elif level[mod] > level[me]:
                up.append(inc)
        print(f"{'not ' if up else ''}ok {n} - src/mm/{f} includes nothing above its layer"
              + (f": {', '.join(up)}" if up else ""))
        failed += bool(up)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
