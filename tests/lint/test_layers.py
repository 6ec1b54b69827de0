#!/usr/bin/env python3
"""The mm layers point down: every #include in src/mm and include/mm names
a header of the file's own layer or of one below it, and none names a
header of a layer above all of mm (fs, proc, shell, kernel, drivers,
arch). The order is read from the ```mm-layers block of
docs/ARCHITECTURE.md (top layer first), so the document and the check
cannot disagree. Prints TAP, one line per file."""
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


# Headers of layers above all of mm: never included from it.
ABOVE = ("fs/", "proc/", "shell/", "kernel/", "drivers/", "arch/")


def check(path, me, level):
    """The includes of one file that point up (or to no known layer)."""
    up = []
    for inc in INCLUDE.findall(open(path).read()):
        mod = module_of_header(inc)
        if inc.startswith(ABOVE):
            up.append(f"{inc} (above mm)")
        elif mod is None:
            continue
        elif mod not in level:
            up.append(f"{inc} (no layer)")
        elif level[mod] > level[me]:
            up.append(inc)
    return up


def files():
    """(path shown, path, module) for src/mm's files and include/mm's headers."""
    for d, headers_only in (("src/mm", False), ("include/mm", True)):
        for f in sorted(os.listdir(os.path.join(ROOT, d))):
            if not f.endswith(".h" if headers_only else (".c", ".h")):
                continue
            me = module_of_header(f) if f.endswith("_internal.h") else f[:-2]
            yield f"{d}/{f}", os.path.join(ROOT, d, f), me


def main():
    level = layers()
    n = failed = 0
    for shown, path, me in files():
        n += 1
        if me == "mm_host":   # host glue's interface: above everything, used by no mm file
            print(f"ok {n} - {shown}: host glue, outside the layers")
            continue
        if me not in level:
            print(f"not ok {n} - {shown}: module {me} has no layer in docs/ARCHITECTURE.md")
            failed += 1
            continue
        up = check(path, me, level)
        print(f"{'not ' if up else ''}ok {n} - {shown} includes nothing above its layer"
              + (f": {', '.join(up)}" if up else ""))
        failed += bool(up)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
