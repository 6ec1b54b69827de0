#!/usr/bin/env python3
"""Typing and quoting (issue 15): words are read as a POSIX shell reads
them, Tab completion writes what the parser reads back as the same name,
and the line editor moves by the columns a terminal gives a character.

Expected values come from outside Tally: what /bin/sh makes of a line
(its words, printed with printf), and how a terminal lays out text with
Unicode's widths (East Asian Wide and Fullwidth take two columns, a
combining mark none: a small terminal model below, over Python's
unicodedata). The disk is crafted: names with spaces, apostrophes,
double quotes, backslashes, a leading '#', wide characters and a
directory with a space; '"' and '\\' are not allowed in FAT long names,
so mtools writes placeholders and the long name entries are rewritten."""
import os
import subprocess
import sys
import unicodedata

from fatcraft import find_long, geometry, mtools, patch_lfn, put
from tally import PROMPT, ROOT, Tally, finish, guarded, ok, parse_kv

WORK = os.path.join(ROOT, "build", "test", "typing")
IMG = os.path.join(WORK, "disk.img")
FILES = {                                     # name in / -> (Tab prefix, contents)
    "two words.txt": ("two", b"two words\n"),
    "it's here.txt": ("it", b"an apostrophe\n"),
    'say "hi".txt': ("say", b"double quotes\n"),
    "back\\slash.txt": ("back", b"a backslash\n"),
    "mix 'a' \"b\" \\c.txt": ("mix", b"all of them\n"),
    "#hash.txt": ("\\#", b"a hash first\n"),
    "日本 語.txt": ("日", b"wide, with a space\n"),
}
INNER = ("my dir", "in side.txt", b"in a directory with a space\n")


def placeholder(name):
    return name.replace('"', "_").replace("\\", "_")


def build():
    os.makedirs(WORK, exist_ok=True)
    vol, src = IMG, os.path.join(WORK, "src")
    with open(vol, "wb") as f:
        f.truncate(300 << 20)
    subprocess.run(["mkfs.fat", "-F", "32", "-s", "8", "-n", "QUOTES", vol],
                   check=True, capture_output=True)
    mtools("mmd", "-i", vol, "::/" + INNER[0])
    put(os.path.join(src, "inner"), INNER[2])
    mtools("mcopy", "-i", vol, os.path.join(src, "inner"), f"::/{INNER[0]}/{INNER[1]}")
    for i, (name, (_, data)) in enumerate(FILES.items()):
        put(os.path.join(src, str(i)), data)
        mtools("mcopy", "-i", vol, os.path.join(src, str(i)), "::/" + placeholder(name))
    with open(vol, "r+b") as f:
        at, root, cb = geometry(f)
        f.seek(at(root))
        blob = bytearray(f.read(cb))
        for name in FILES:
            if placeholder(name) != name:
                patch_lfn(blob, find_long(blob, placeholder(name)), name)
        f.seek(at(root))
        f.write(blob)


def sh_words(text):
    """The words /bin/sh reads from text (no expansions in our cases)."""
    r = subprocess.run(["sh", "-c", 'printf "%s\\0" ' + text], capture_output=True)
    return r.stdout.decode().split("\0")[:-1] if r.returncode == 0 else None


def width(ch):
    if unicodedata.category(ch) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def put_cell(cells, x, ch, w):
    while len(cells) < x + w + 1:
        cells.append(" ")
    if cells[x] == "" and x > 0:      # half a wide character overwritten:
        cells[x - 1] = " "            # a terminal blanks the rest of it
    if cells[x + w] == "":
        cells[x + w] = " "
    cells[x] = ch
    if w == 2:
        cells[x + 1] = ""


def screen(raw):
    """The line a terminal shows after the prompt and raw (up to its first
    newline): characters by their widths, '\\b' one column left, '\\r'."""
    cells, x = [], 0
    for ch in PROMPT + raw:
        if ch == "\n":
            break
        if ch in "\r\b":
            x = 0 if ch == "\r" else max(0, x - 1)
        elif width(ch) == 0 and x > 0:
            at = x - 1 if cells[x - 1] != "" else x - 2
            cells[at] += ch
        else:
            put_cell(cells, x, ch, width(ch))
            x += width(ch)
    return "".join(cells).rstrip()


def typed(t, keys):
    """Type keys and Enter: (the line shown when Enter was pressed, without
    the prompt; the command's output)."""
    t.send(keys + "\n")
    raw = t.wait_prompt(20)
    line, _, out = raw.partition("\n")
    return screen(line)[len(PROMPT):], out


def words(t):
    cases = ["'a b' \"c d\" e\\ f", '"a\\"b\\\\c\\$d\\xe\\`"', "'it'\\''s'", "'\\n' \"\\n\"",
             '"" x', "a\"b c\"d", "'#' x", "\\#x a#b", "a\\'b\\\"c\\\\d", "'\"' \"'\""]
    for args in cases:
        want = sh_words(args)
        _, out = typed(t, "echo " + args)
        ok(want is not None and out == " ".join(want), f"echo {args}: the words sh reads",
           f"sh: {want!r}\ntally: {out!r}")
    for line, quote in (("echo 'abc", "'"), ('echo "abc', '"'), ("echo \"it's", '"'),
                        ("echo 'say \"hi", "'")):
        _, out = typed(t, line)
        ok(sh_words(line[5:]) is None and out == f"error: unbalanced quote ({quote})",
           f"{line}: the open quote named", out)
    _, out = typed(t, "echo a\\")
    ok(out == "error: a backslash ends the line (nothing to escape)",
       "a backslash at the end of the line: its own message", out)
    _, out = typed(t, "echo" + " 'a b'" * 16)
    ok(out == "error: too many arguments (at most 15)", "quoted words count as words", out)


def by_hand(t):
    forms = ["'/it'\\''s here.txt'", '"/it\'s here.txt"', "/it\\'s\\ here.txt",
             '"/say \\"hi\\".txt"', "'/say \"hi\".txt'", '/say\\ \\"hi\\".txt',
             "/back\\\\slash.txt", "'/back\\slash.txt'", '"/back\\\\slash.txt"',
             '"/back\\slash.txt"', '/two" "words.txt', "/two' 'words.txt",
             "'/mix '\\''a'\\'' \"b\" \\c.txt'", '"/mix \'a\' \\"b\\" \\\\c.txt"',
             "'/my dir/in side.txt'", '/my\\ dir/"in side".txt', "/'日本 語'.txt"]
    for form in forms:
        name = sh_words(form)
        want = FILES.get(name[0][1:], ("", INNER[2] if name and "my dir" in name[0] else None))[1]
        _, out = typed(t, "cat " + form)
        ok(want and out + "\n" == want.decode(), f"cat {form}: opens {name}", out)
    t.cmd("cd /")
    for form in ("\\#hash.txt", "'#hash.txt'", '"#hash.txt"'):
        _, out = typed(t, "cat " + form)
        ok(out + "\n" == FILES["#hash.txt"][1].decode(), f"cat {form} (a word that starts with #)", out)


def completion(t):
    for name, (prefix, data) in FILES.items():
        for cmd, quote in (("cat", ""), ("stat", ""), ("cat", "'"), ("cat", '"')):
            start = quote + "/" + prefix
            if quote and prefix.startswith("\\"):
                start = quote + "/#"
            line, out = typed(t, f"{cmd} {start}\t")
            got = sh_words(line[len(cmd) + 1:])
            ok(got == ["/" + name], f"{cmd} {start}<Tab>: sh reads the line as the name",
               f"line {line!r}, sh {got!r}")
            if cmd == "cat":
                ok(out + "\n" == data.decode(), f"{cmd} {start}<Tab>: opens it", out)
            else:
                ok(parse_kv(out).get("name") == name, f"stat {start}<Tab>: the file's name", out)
    t.send("cat '/my\t")
    t.send("in\t\n")
    line, _, out = t.wait_prompt(20).partition("\n")
    ok(screen(line)[len(PROMPT):] == "cat '/my dir/in side.txt'" and out + "\n" == INNER[2].decode(),
       "in an open quote, a directory keeps it open, a file closes it", screen(line))
    t.cmd("cd /")
    line, out = typed(t, "cat \\#\t")
    ok(line == "cat \\#hash.txt" and out + "\n" == FILES["#hash.txt"][1].decode(),
       "a name that starts with # is escaped", line)


def listing(t, start, want):
    """Tab Tab after `ls start`: the list of candidates as sh reads it."""
    t.send(f"ls {start}\t\t")
    before = t.expect(PROMPT + f"ls {start}", 20)
    t.send("\x15\n")
    t.wait_prompt(20)
    shown = before.rstrip("\n").split("\n")[-1]
    got = sh_words(shown)
    ok(got is not None and sorted(got) == sorted(want), f"ls {start}<Tab><Tab>: names as typed",
       f"shown {shown!r}\nsh {got!r}")


def listings(t):
    names = ["/" + n for n in FILES] + ["/" + INNER[0] + "/"]
    for start in ("/", "'/", '"/'):
        listing(t, start, names)
    t.cmd("cd /")
    listing(t, "", [n[1:] for n in names])


def wide(t):
    L, R, HOME, END, DEL, UP, DOWN = "\x1b[D", "\x1b[C", "\x1b[H", "\x1b[F", "\x1b[3~", "\x1b[A", "\x1b[B"
    cases = [("echo 日本x" + L + L + "Z", "echo 日Z本x"),
             ("echo 日本x" + L + "\x7f", "echo 日x"),
             ("echo 日本x" + L + L + DEL, "echo 日x"),
             ("echo 日本x" + L + L + L + R + "Z", "echo 日Z本x"),
             ("cho 日本" + HOME + "e", "echo 日本"),
             ("cho 日本" + HOME + "e" + END + "!", "echo 日本!"),
             ("echo ＡＢ" + L + "c", "echo ＡcＢ"),
             ("echo 日本語" + L + L + "\x7f", "echo 本語"),
             ("echo e\u0301x" + L + L + "Z", "echo Ze\u0301x"),
             ("echo ae\u0301b" + L + "\x7f", "echo ab"),
             ("echo 日e\u0301本" + HOME + R * 7 + "Z", "echo 日e\u0301Z本")]
    for keys, want in cases:
        line, out = typed(t, keys)
        ok(line == want and out == want[5:], f"{keys!r}: the terminal shows the line",
           f"shown {line!r}, ran {out!r}")
    t.cmd("echo 日本語日本語")
    t.cmd("echo a")
    line, out = typed(t, UP + UP + DOWN)
    ok(line == "echo a" and out == "a", "history: a shorter line over a wide one", repr(line))
    line, out = typed(t, "echo abcdefghijklmnop" + UP + UP)
    ok(line == "echo 日本語日本語" and out == "日本語日本語", "history: a wide line over a longer one", repr(line))


def main():
    build()
    with Tally(drive=IMG) as t:
        t.boot()
        for fn in (words, by_hand, completion, listings, wide):
            guarded(lambda: fn(t), fn.__name__)


guarded(main, "typing")
sys.exit(finish())
