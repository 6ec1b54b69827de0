#!/bin/sh
# deps.sh - install the Debian packages Tally needs, if any are missing.
# Silent when everything is there; otherwise says what it installs.
# Called by `make run` and `make test`, so a fresh machine needs no set-up.
set -e

# "command-or-file package" pairs.
need="
riscv64-unknown-elf-gcc gcc-riscv64-unknown-elf
/usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs picolibc-riscv64-unknown-elf
qemu-riscv64 qemu-user
qemu-system-riscv64 qemu-system-misc
/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin opensbi
mkfs.fat dosfstools
mcopy mtools
gdb-multiarch gdb-multiarch
python3 python3
cc gcc
clang clang
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
fsck.fat dosfstools
/usr/include/jemalloc/jemalloc.h libjemalloc-dev
/usr/include/mimalloc.h libmimalloc-dev
gnuplot gnuplot-nox
sqlite3 sqlite3
git git
/usr/bin/time time
"

missing=""
echo "$need" | {
	while read -r what pkg; do
		[ -n "$what" ] || continue
		case "$what" in
		/*) [ -e "$what" ] && continue ;;
		*) command -v "$what" >/dev/null 2>&1 && continue ;;
		esac
		missing="$missing $pkg"
	done
	[ -n "$missing" ] || exit 0

	echo "deps: installing$missing (Debian packages)"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
	echo "deps: done"
}
