#!/usr/bin/env python3
"""README's session transcript, made by booting the kernel and typing.

    tools/readme_transcript.py --write   boot, run SESSION, put the result
                                         between README.md's transcript markers
    tools/readme_transcript.py --check   boot, run SESSION, compare with what
                                         README.md shows (exit 1 on a difference)

The transcript is regenerated, never edited: `make readme-transcript`.
Figures that legitimately differ from run to run -- instruction and tick
counts that follow host time without -icount, the failure window's span --
are masked before the comparison (VARYING); everything else must match.
"""
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "qemu"))
from tally import Tally  # noqa: E402

README = os.path.join(ROOT, "README.md")
IMG = os.path.join(ROOT, "build", "disk.img")
BEGIN = "<!-- transcript: made by tools/readme_transcript.py; do not edit -->"
END = "<!-- end of transcript -->"

# (command, lines of output kept: None = all). A cut is marked with "...".
SESSION = [
    ("memstat", None),
    ("setmode twotier", None),
    ("hog leave 1M", None),
    ("fsstress 2", None),
    ("hog release", None),
    ("setmode hybrid", None),
    ("bench small all 20000", None),
    ("memmap DMA", 3),
    ("ls /", None),
    ("run /bin/hello from user space", None),
    ("run /bin/segv", None),
]

VARYING = [
    (re.compile(r"(instr_per_op|ticks_per_op)=[\d.]+"), r"\1=N"),
    # right-aligned columns: the padding before each figure follows its width
    (re.compile(r"^(small|mixed|large|frag)( +\w+) +[\d.]+ +[\d.]+", re.M), r"\1\2 N N"),
    (re.compile(r"\(last [\d.]+ s: "), "(last N s: "),
]


def boot_log(log):
    """The kernel's own lines: from its version line to the first prompt."""
    start = log.find("Tally ")
    return log[start:].rstrip("\n").splitlines() if start >= 0 else []


def make():
    lines = []
    with Tally(drive=IMG) as t:
        lines += boot_log(t.boot())
        for cmd, keep in SESSION:
            out = t.cmd(cmd, timeout=120).rstrip("\n").splitlines()
            lines.append("tally> " + cmd)
            if keep is not None and len(out) > keep:
                out = out[:keep] + ["..."]
            lines += out
    return "\n".join(l.rstrip() for l in lines) + "\n"


def shown():
    text = open(README).read()
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < 0:
        sys.exit(f"README.md has no transcript markers ({BEGIN!r} ... {END!r})")
    block = text[i + len(BEGIN):j]
    m = re.search(r"```\n(.*?)```", block, re.S)
    return text, i, j, (m.group(1) if m else "")


def masked(text):
    for pat, rep in VARYING:
        text = pat.sub(rep, text)
    return text


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("--write", "--check"):
        sys.exit(__doc__)
    made = make()
    text, i, j, old = shown()
    if sys.argv[1] == "--write":
        new = text[:i] + BEGIN + "\n```\n" + made + "```\n" + text[j:]
        open(README, "w").write(new)
        print(f"README.md: transcript of {len(made.splitlines())} lines written")
        return 0
    diff = list(difflib.unified_diff(masked(old).splitlines(), masked(made).splitlines(),
                                     "README.md", "this build", lineterm="", n=1))
    print("\n".join(diff) if diff else "README transcript matches this build")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
