# Tally - build, run and test.
#
#   make            build/kernel.elf
#   make image      build/disk.img, a FAT32 volume made from rootfs/, the
#                   user programs in /bin and EXTRA=dir/'s tree (mk/user.mk)
#   make user       build/user/: tally-cc, the C runtime, the programs
#   make run        boot both in QEMU (installs missing tools first)
#   make test       host unit tests + QEMU tests; ends with "N passed, N failed"
#   make debug      boot halted, waiting for gdb-multiarch on :1234 (GDB_PORT=)
#   make test-user  only the user-program tests (tests/user, no kernel)
#   make host-mm    build/host/libmm.a, the mm stack compiled for the host
#   make bench      in-kernel benchmarks (mk/kbench.mk); bench-host, fuzz:
#                   see mk/bench.mk and mk/fuzz.mk

CROSS   ?= riscv64-unknown-elf-
CC      := $(CROSS)gcc
OBJCOPY := $(CROSS)objcopy
NM      := $(CROSS)nm
HOST_CC ?= cc
QEMU    ?= qemu-system-riscv64
OPENSBI ?= /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
MEM     ?= 128M
SMP     ?= 1
APPEND  ?=
GDB_PORT ?= 1234

B := build
# Quiet build lines; `make Q=` shows the full commands.
Q ?= @

WARN   := -Wall -Wextra -Werror
CFLAGS := -std=c11 $(WARN) -ffreestanding -nostdlib -mcmodel=medany \
          -fno-omit-frame-pointer -g -O2 -march=rv64gc -mabi=lp64d \
          -mno-relax -fno-pic -fno-tree-loop-distribute-patterns -MMD -MP \
          -Iinclude -Iinclude/klibc -Iinclude/env/kernel
ASFLAGS := $(CFLAGS) -D__ASSEMBLY__
LDFLAGS := -nostdlib -static -T $(B)/kernel.ld -Wl,--gc-sections \
           -Wl,-z,max-page-size=4096

# Kernel sources: every .c/.S under src/ except the host-only glue.
KSRC := $(sort $(wildcard src/arch/riscv/*.S src/arch/riscv/*.c src/kernel/*.c \
          src/drivers/*.c src/lib/*.c src/mm/*.c src/fs/*.c src/proc/*.c src/shell/*.c))
KOBJ := $(patsubst src/%,$(B)/k/%.o,$(KSRC))

# Host builds of the portable layers (mm, fs, proc, the printf engine, the
# benchmark workloads) plus the host glue.
HSRC := $(sort $(wildcard src/mm/*.c src/fs/*.c src/proc/*.c src/host/*.c src/common/*.c) src/lib/printf.c src/lib/escape.c src/lib/utf8.c \
        src/lib/workload.c)
HOST_WARN   := -std=c11 $(WARN) -Iinclude -Iinclude/env/host -D_GNU_SOURCE
# Sibling calls: kmalloc and kfree pass their caller on by a tail call
# (src/mm/kmalloc.c, KM_TAIL).
# MM_GATE_AUDIT: the test builds abort when a thread enters its gate
# holding the mm lock (include/env/host/mm_env_lock.h).
HOST_SAN    := -g -O1 -foptimize-sibling-calls -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all -DMM_GATE_AUDIT
# ThreadSanitizer: a third build of the library for the threaded tests.
HOST_TSAN   := -g -O1 -fno-omit-frame-pointer -fsanitize=thread -DMM_GATE_AUDIT
TSAN_TESTS  := test_threads test_zonelock test_hotadd test_release
HOST_TESTS  := $(patsubst tests/host/%.c,$(B)/host/tests/%,$(wildcard tests/host/test_*.c)) \
               $(patsubst %,$(B)/host/tests/%_tsan,$(TSAN_TESTS))

.PHONY: all deps image run debug test test-host test-user test-qemu host-mm host-malloc clean readme-transcript
all: $(B)/kernel.elf

deps:
	@tools/deps.sh

$(B)/k/%.c.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(B)/k/%.S.o: src/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -c $< -o $@

# Two links: the first with an empty symbol table, whose function addresses
# tools/gensyms.py turns into the real table for the second (see ksyms.h).
$(B)/ksyms0.c:
	@mkdir -p $(B)
	@printf '#include "kernel/ksyms.h"\nconst struct ksym ksyms[1];\nconst unsigned ksyms_count;\n' > $@

$(B)/%.ksyms.o: $(B)/%.c
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The link map through the C preprocessor: its stack sizes are
# include/kernel/smp.h's (-undef: no predefined macro such as riscv).
$(B)/kernel.ld: src/arch/riscv/kernel.ld include/kernel/smp.h
	@mkdir -p $(B)
	$(Q)$(CC) -E -P -undef -x c -D__ASSEMBLY__ -Iinclude $< -o $@

$(B)/kernel.pass1.elf: $(KOBJ) $(B)/ksyms0.ksyms.o $(B)/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(KOBJ) $(B)/ksyms0.ksyms.o -o $@

$(B)/ksyms.c: $(B)/kernel.pass1.elf tools/gensyms.py
	$(Q)python3 tools/gensyms.py $(NM) $< $@

$(B)/kernel.elf: $(KOBJ) $(B)/ksyms.ksyms.o $(B)/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(KOBJ) $(B)/ksyms.ksyms.o -o $@

IMAGE := $(B)/disk.img
QEMU_ARGS = -machine virt -nographic -bios $(OPENSBI) -kernel $(B)/kernel.elf \
            -m $(MEM) -smp $(SMP) $(if $(APPEND),-append "$(APPEND)") \
            -drive file=$(IMAGE),if=none,format=raw,id=hd0,readonly=on \
            -device virtio-blk-device,drive=hd0

include mk/user.mk

# rootfs/ has names with spaces: escape them for make. The user programs
# go to /bin; EXTRA=dir/ merges dir's tree into the root (its files and
# the EXTRA value itself, through a stamp file, are prerequisites).
EXTRA ?=
ROOTFS := $(shell find rootfs -type f 2>/dev/null | sed 's/ /\\ /g')
EXTRA_FILES := $(if $(EXTRA),$(shell find $(EXTRA) -type f 2>/dev/null | sed 's/ /\\ /g'))
EXTRA_STAMP := $(B)/image-extra
$(shell mkdir -p $(B) && { [ -f $(EXTRA_STAMP) ] && [ "$$(cat $(EXTRA_STAMP))" = "$(EXTRA)" ] || \
	printf '%s' "$(EXTRA)" > $(EXTRA_STAMP); })
$(IMAGE): tools/mkimage.py $(ROOTFS) $(USER_PROGS) $(EXTRA_FILES) $(EXTRA_STAMP)
	@echo "  IMAGE   $@"
	$(Q)python3 tools/mkimage.py $@ --bin $(USER_PROGS) $(if $(EXTRA),--extra "$(EXTRA)")

image: deps $(IMAGE)

run: deps $(B)/kernel.elf $(IMAGE)
	$(QEMU) $(QEMU_ARGS)

debug: deps $(B)/kernel.elf $(IMAGE)
	@echo "waiting for gdb: gdb-multiarch $(B)/kernel.elf -ex 'target remote :$(GDB_PORT)'"
	$(QEMU) $(QEMU_ARGS) -gdb tcp::$(GDB_PORT) -S

# ---- host builds ---------------------------------------------------------
# libtally.so (make host-malloc): src/mm and the host glue, position
# independent, every symbol hidden but the allocation functions of
# src/preload/libtally.c; initial-exec TLS (it is preloaded, never
# dlopened), so a thread's index is one load from the thread pointer.
PIC_SRC   := $(sort $(wildcard src/mm/*.c src/host/*.c src/common/*.c)) src/lib/printf.c src/lib/escape.c src/lib/utf8.c \
             src/preload/libtally.c
PIC_FLAGS := -O2 -g -fPIC -fvisibility=hidden -ftls-model=initial-exec -fno-plt

$(B)/host/pic/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (pic)"
	$(Q)$(HOST_CC) $(HOST_WARN) $(PIC_FLAGS) -MMD -MP -c $< -o $@

$(B)/host/libtally.so: $(patsubst src/%.c,$(B)/host/pic/%.o,$(PIC_SRC))
	@echo "  LD      $@"
	$(Q)$(HOST_CC) -shared -Wl,--no-undefined -Wl,-z,now $^ -lpthread -o $@

host-malloc: $(B)/host/libtally.so

# tests/preload: malloc_prog built plainly (run under LD_PRELOAD; -rdynamic
# so its own mremap is the one the library's calls reach) and, with
# the library's own objects under AddressSanitizer, calling tally_malloc
# & co. (ASan keeps the system's malloc for itself).
PRELOAD_TESTS := $(B)/host/preload/malloc_prog $(B)/host/preload/malloc_prog_asan

$(B)/host/preload/malloc_prog: tests/preload/malloc_prog.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOST_CC) -std=gnu11 $(WARN) -O1 -g -pthread -rdynamic $< -o $@

$(B)/host/preload/malloc_prog_asan: tests/preload/malloc_prog.c src/preload/libtally.c $(B)/host/libmm_san.a
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (asan, tally_malloc)"
	$(Q)$(HOST_CC) $(HOST_WARN) -std=gnu11 $(HOST_SAN) -DUSE_TALLY_API -DLIBTALLY_NO_OVERRIDE \
		tests/preload/malloc_prog.c src/preload/libtally.c $(B)/host/libmm_san.a -lpthread -o $@

-include $(wildcard $(B)/host/pic/*/*.d)

$(B)/host/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (sanitizers)"
	$(Q)$(HOST_CC) $(HOST_WARN) $(HOST_SAN) -MMD -MP -c $< -o $@

$(B)/host/opt/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOST_CC) $(HOST_WARN) -O2 -g -MMD -MP -c $< -o $@

$(B)/host/tsan/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (tsan)"
	$(Q)$(HOST_CC) $(HOST_WARN) $(HOST_TSAN) -MMD -MP -c $< -o $@

$(B)/host/libmm_tsan.a: $(patsubst src/%.c,$(B)/host/tsan/%.o,$(HSRC))
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(B)/host/libmm_san.a: $(patsubst src/%.c,$(B)/host/san/%.o,$(HSRC))
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

$(B)/host/libmm.a: $(patsubst src/%.c,$(B)/host/opt/%.o,$(HSRC))
	@rm -f $@
	@echo "  AR      $@"
	$(Q)ar rcs $@ $^

host-mm: $(B)/host/libmm.a

$(B)/host/tests/%: tests/host/%.c $(B)/host/libmm_san.a
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOST_CC) $(HOST_WARN) $(HOST_SAN) -MMD -MP $< $(B)/host/libmm_san.a -lpthread -o $@

# A real static rv64 executable for test_elf (tests/host/elf_fixture.c),
# linked by the cross toolchain as user programs are: ld's default script,
# its first segment at USER_VA_BASE (include/proc/uspace.h).
$(B)/host/elf/rv64_static.elf: tests/host/elf_fixture.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (rv64 fixture)"
	$(Q)$(CC) -std=c11 $(WARN) -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany -ffreestanding -nostdlib \
		-static -Wl,--build-id=none -Wl,-Ttext-segment=0x2000000000 $< -o $@

# ... and a FAT32 volume holding it as /bin/hello (the loader's reads
# through the FAT32 reader, elf_file_init_fat).
$(B)/host/elf/fat.img: $(B)/host/elf/rv64_static.elf
	@echo "  IMAGE   $@"
	$(Q)rm -f $@ && truncate -s 40M $@ && mkfs.fat -F 32 -n ELF $@ >/dev/null && \
		MTOOLS_SKIP_CHECK=1 mmd -i $@ ::/bin && MTOOLS_SKIP_CHECK=1 mcopy -i $@ $< ::/bin/hello

# test_elf also validates every program of /bin (mk/user.mk).
$(B)/host/tests/test_elf: $(B)/host/elf/rv64_static.elf $(B)/host/elf/fat.img $(USER_PROGS)

# The threaded tests again, under ThreadSanitizer (any race fails them).
$(B)/host/tests/%_tsan: tests/host/%.c $(B)/host/libmm_tsan.a
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (tsan)"
	$(Q)$(HOST_CC) $(HOST_WARN) $(HOST_TSAN) -MMD -MP $< $(B)/host/libmm_tsan.a -lpthread -o $@

include mk/fuzz.mk
include mk/kbench.mk
include mk/bench.mk

# ---- tests ---------------------------------------------------------------
test: deps $(B)/kernel.elf $(IMAGE) $(HOST_TESTS) $(USER_PROGS) $(USER_SDK) \
		$(B)/host/libtally.so $(PRELOAD_TESTS)
	@python3 tests/run.py $(HOST_TESTS) $(sort $(wildcard tests/user/test_*.py)) \
		$(sort $(wildcard tests/preload/test_*.py)) \
		$(sort $(wildcard tests/qemu/test_*.py)) \
		tests/fuzz/smoke.py $(sort $(wildcard tests/bench/smoke_*.py)) \
		$(sort $(wildcard tests/lint/test_*.py))

test-host: $(HOST_TESTS)
	@python3 tests/run.py $(HOST_TESTS)

# The user programs and their runtime on the host (tests/user: ELF layout,
# the image's /bin, runs under qemu-riscv64).
test-user: deps $(IMAGE) $(USER_PROGS) $(USER_SDK)
	@python3 tests/run.py $(sort $(wildcard tests/user/test_*.py))

test-qemu: deps $(B)/kernel.elf $(IMAGE)
	@python3 tests/run.py $(sort $(wildcard tests/qemu/test_*.py))

# README's session transcript, made by booting and typing (never edited).
readme-transcript: deps $(B)/kernel.elf $(IMAGE)
	python3 tools/readme_transcript.py --write

clean:
	rm -rf $(B)

-include $(KOBJ:.o=.d)
-include $(wildcard $(B)/host/*/*/*.d $(B)/host/*/*.d $(B)/host/tests/*.d)
