#!/usr/bin/env python3
"""The disk image carries the user programs: build/disk.img has /bin/NAME
for every program of user/bin, byte for byte build/user/bin/NAME, and
/SHA256SUMS lists them. tools/mkimage.py --extra DIR (make image
EXTRA=DIR) merges DIR's tree into the root: DIR/x lands at /x, DIR/bin/y at
/bin/y beside the programs; a path already on the volume is refused and
no image is left half made. Read back with mtools, which made it."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "qemu"))
from tally import ROOT, finish, ok  # noqa: E402

IMG = os.path.join(ROOT, "build", "disk.img")
BIN = os.path.join(ROOT, "build", "user", "bin")
MKIMAGE = os.path.join(ROOT, "tools", "mkimage.py")
ENV = dict(os.environ, MTOOLS_SKIP_CHECK="1")


def image_file(img, path, tmp):
    """The bytes of path on the volume, or None."""
    out = os.path.join(tmp, "out.bin")
    if os.path.exists(out):
        os.remove(out)
    proc = subprocess.run(["mcopy", "-n", "-i", img, "::" + path, out], env=ENV,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if proc.returncode:
        return None
    with open(out, "rb") as f:
        return f.read()


def test_bin(tmp):
    programs = sorted(os.listdir(BIN))
    ok(len(programs) >= 9 and "hello" in programs, "build/user/bin holds the programs", programs)
    for name in programs:
        with open(os.path.join(BIN, name), "rb") as f:
            want = f.read()
        ok(image_file(IMG, "/bin/" + name, tmp) == want, f"/bin/{name} on the image equals the build")
    sums = (image_file(IMG, "/SHA256SUMS", tmp) or b"").decode()
    ok(all(f"  /bin/{n}\n" in sums for n in programs), "/SHA256SUMS lists /bin/*")


def mkimage(img, extra):
    return subprocess.run([sys.executable, MKIMAGE, img, "--bin", os.path.join(BIN, "hello"),
                           "--extra", extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def test_extra(tmp):
    extra = os.path.join(tmp, "extra")
    os.makedirs(os.path.join(extra, "bin"))
    os.makedirs(os.path.join(extra, "data"))
    files = {"/notes.txt": b"mine\n", "/bin/myprog": b"\x7fELF not really",
             "/data/x.bin": bytes(range(256)) * 40}
    for path, data in files.items():
        with open(extra + path, "wb") as f:
            f.write(data)
    img = os.path.join(tmp, "extra.img")
    proc = mkimage(img, extra + "/")
    if not ok(proc.returncode == 0, "mkimage --extra dir/", proc.stdout):
        return
    for path, data in files.items():
        ok(image_file(img, path, tmp) == data, f"EXTRA's {path[1:]} lands at {path}")
    ok(image_file(img, "/bin/hello", tmp) is not None and image_file(img, "/README.txt", tmp),
       "the programs and rootfs are there too")
    clash = os.path.join(tmp, "clash")
    os.makedirs(os.path.join(clash, "bin"))
    with open(os.path.join(clash, "bin", "hello"), "w") as f:
        f.write("not hello\n")
    img2 = os.path.join(tmp, "clash.img")
    proc = mkimage(img2, clash)
    ok(proc.returncode != 0 and "/bin/hello is already on the volume" in proc.stdout and
       not os.path.exists(img2), "an EXTRA path already on the volume is refused, no image made",
       proc.stdout)
    proc = mkimage(img2, os.path.join(tmp, "nowhere"))
    ok(proc.returncode != 0 and "not a directory" in proc.stdout, "a missing EXTRA dir is refused",
       proc.stdout)


def main():
    print("TAP version 13")
    with tempfile.TemporaryDirectory() as tmp:
        test_bin(tmp)
        test_extra(tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
