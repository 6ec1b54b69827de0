# mk/fuzz.mk - libFuzzer build of the FAT32 reader (included by Makefile).
#
#   make fuzz         fuzz mount + walk + read for FUZZ_TIME seconds (30)
#   make fuzz-smoke   the same for FUZZ_SMOKE_TIME seconds (10): make test
#   make fuzz-corpus  rewrite the seed corpus (tests/fuzz/mkcorpus.py)
#
# clang builds the harness with the host library's sources (HSRC), all
# instrumented (-fsanitize=fuzzer,address,undefined). New inputs go to
# build/fuzz/corpus; the committed seeds in tests/fuzz/corpus are read only.
# Crashes land in build/fuzz/ as crash-*; replay one with
#   build/fuzz/fuzz_fat32 build/fuzz/crash-...
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

.PHONY: fuzz fuzz-smoke fuzz-corpus

$(FUZZ_BIN): tests/fuzz/fuzz_fat32.c $(FUZZ_SRC) $(wildcard include/*.h include/*/*.h src/*/*.h)
	@mkdir -p $(dir $@) $(B)/fuzz/corpus
	$(FUZZ_CC) $(FUZZ_FLAGS) tests/fuzz/fuzz_fat32.c $(FUZZ_SRC) -o $@

fuzz: $(FUZZ_BIN)
	$(FUZZ_RUN) -max_total_time=$(FUZZ_TIME) -print_final_stats=1

fuzz-smoke: $(FUZZ_BIN)
	$(FUZZ_RUN) -max_total_time=$(FUZZ_SMOKE_TIME)

fuzz-corpus:
	python3 tests/fuzz/mkcorpus.py
