#!/usr/bin/env python3
"""Fetch a Debian source package's upstream tarball and unpack it.

    python3 tools/debsrc.py PACKAGE FILE SHA256 DIR

Downloads FILE (the package's .orig.tar.*, as Debian's .dsc names it) from
the Debian archive's pool, checks it against SHA256 (the .dsc's
Checksums-Sha256 line), and unpacks it into DIR (DIR/<its top directory>).
A file already in DIR with the right checksum is not fetched again.
Nothing is unpacked from a file whose checksum differs: the error says
both sums. Used by mk/user.mk for programs Tally runs but did not write
(Lua); only Python's standard library.
"""
import hashlib
import os
import sys
import tarfile
import urllib.request

POOL = "http://deb.debian.org/debian/pool/main"


def pool_url(package, name):
    """The archive's path for a source package: pool/main/<prefix>/<pkg>/
    (prefix: the first letter, or "libx" for lib* packages)."""
    prefix = package[:4] if package.startswith("lib") else package[0]
    return f"{POOL}/{prefix}/{package}/{name}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def fetch(package, name, want, dest):
    path = os.path.join(dest, name)
    if os.path.exists(path) and sha256(path) == want:
        return path
    url = pool_url(package, name)
    print(f"debsrc: fetching {url}", flush=True)
    tmp = path + ".part"
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as out:
            while True:
                block = r.read(1 << 16)
                if not block:
                    break
                out.write(block)
    except OSError as e:
        sys.exit(f"debsrc: cannot fetch {url}: {e}")
    got = sha256(tmp)
    if got != want:
        os.unlink(tmp)
        sys.exit(f"debsrc: {name}: sha256 {got}, Debian's .dsc says {want}")
    os.replace(tmp, path)
    return path


def unpack(path, dest):
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            target = os.path.realpath(os.path.join(dest, m.name))
            if not target.startswith(os.path.realpath(dest) + os.sep) or m.issym() or m.islnk():
                sys.exit(f"debsrc: {os.path.basename(path)}: refusing member {m.name}")
        tar.extractall(dest)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    package, name, want, dest = sys.argv[1:]
    os.makedirs(dest, exist_ok=True)
    unpack(fetch(package, name, want.lower(), dest), dest)


if __name__ == "__main__":
    main()
