# mk/fuzz.mk - libFuzzer builds of the FAT32 reader and of the ELF
# validator (included by Makefile).
#
#   make fuzz         fuzz mount + walk + read for FUZZ_TIME seconds (30)
#   make fuzz-smoke   the same for FUZZ_SMOKE_TIME seconds (10): make test
#   make fuzz-corpus  rewrite the seed corpus (tests/fuzz/mkcorpus.py)
#   make fuzz-elf, fuzz-elf-smoke, fuzz-elf-corpus: the same for the ELF
#                     validator and its plan (tests/fuzz/fuzz_elf.c; smoke
#                     FUZZ_ELF_SMOKE_TIME seconds, 5; seeds in
#                     tests/fuzz/corpus_elf by tests/fuzz/mkcorpus_elf.py)
#
# clang builds the harness with the host library's sources (HSRC), all
# instrumented (-fsanitize=fuzzer,address,undefined). New inputs go to
# build/fuzz/corpus; the committed seeds in tests/fuzz/corpus are read only.
# Crashes land in build/fuzz/ as crash-*; replay one with
#   build/fuzz/fuzz_fat32 build/fuzz/crash-...   (build/fuzz/elf-crash-*:
#   build/fuzz/fuzz_elf)
# Needs clang with libclang_rt.fuzzer (Debian: libclang-rt-14-dev, which
# tools/deps.sh installs).

FUZZ_CC         ?= clang
FUZZ_TIME       ?= 30
FUZZ_SMOKE_TIME ?= 10
FUZZ_FLAGS := -std=c11 -Wall -Wextra -Werror -Iinclude -Iinclude/env/host -D_GNU_SOURCE -g -O1 \
              -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all
FUZZ_SRC   := $(HSRC)
FUZZ_BIN   := $(B)/fuzz/fuzz_fat32
FUZZ_RUN    = $(FUZZ_BIN) -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
              -artifact_prefix=$(B)/fuzz/ $(B)/fuzz/corpus tests/fuzz/corpus

.PHONY: fuzz fuzz-smoke fuzz-corpus fuzz-elf fuzz-elf-smoke fuzz-elf-corpus

FUZZ_ELF_SMOKE_TIME ?= 5
FUZZ_ELF_BIN := $(B)/fuzz/fuzz_elf
FUZZ_ELF_RUN  = $(FUZZ_ELF_BIN) -max_len=32768 -timeout=10 -rss_limit_mb=1024 \
                -artifact_prefix=$(B)/fuzz/elf- $(B)/fuzz/corpus_elf tests/fuzz/corpus_elf

$(FUZZ_BIN): tests/fuzz/fuzz_fat32.c $(FUZZ_SRC) $(wildcard include/*.h include/*/*.h src/*/*.h)
	@mkdir -p $(dir $@) $(B)/fuzz/corpus
	$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_fat32.c $(FUZZ_SRC) -o $@

fuzz: $(FUZZ_BIN)
	$(FUZZ_RUN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1

fuzz-smoke: $(FUZZ_BIN)
	$(FUZZ_RUN) -max_total_time=$(FUZZ_SMOKE_TIME)

fuzz-corpus:
	python3 tests/fuzz/mkcorpus.py

$(FUZZ_ELF_BIN): tests/fuzz/fuzz_elf.c $(FUZZ_SRC) $(wildcard include/*.h include/*/*.h src/*/*.h)
	@mkdir -p $(dir $@) $(B)/fuzz/corpus_elf
	$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_elf.c $(FUZZ_SRC) -o $@

fuzz-elf: $(FUZZ_ELF_BIN)
	$(FUZZ_ELF_RUN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1

fuzz-elf-smoke: $(FUZZ_ELF_BIN)
	$(FUZZ_ELF_RUN) -max_total_time=$(FUZZ_ELF_SMOKE_TIME)

fuzz-elf-corpus:
	python3 tests/fuzz/mkcorpus_elf.py
