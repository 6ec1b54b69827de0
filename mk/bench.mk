# mk/bench.mk - benchmarks on the host and their charts (included by Makefile).
#
#   make bench-host              Tally (twotier, simple, hybrid) against glibc,
#                                jemalloc and mimalloc on the four workloads of
#                                lib/workload.h, then TwoTier against the
#                                three on the live workloads of
#                                tools/bench/bench_live.c (user-style loops;
#                                producer/consumer and churn at 1, 2 and 4
#                                threads); writes build/bench/host.txt
#   make bench-host BENCH_TINY=1 the same on a tiny size, a few seconds, into
#                                build/bench/host-tiny.txt (make test runs it)
#   make bench-real              real programs (python3, sort, gcc, sqlite3,
#                                git) and the classic benchmarks of
#                                tools/bench/classic.c (Larson, producer/
#                                consumer, single-threaded) under glibc,
#                                jemalloc, mimalloc and Tally's three modes
#                                (libtally.so): wall time, peak RSS, output
#                                checked against glibc's
#                                (tools/bench/realprog.py); writes
#                                build/bench/real.txt
#   make bench-plot              PNG charts in docs/bench/ from
#                                build/bench/host.txt and, when present,
#                                build/bench/kernel.txt (make bench)
#
# REAL_ARGS passes options to realprog.py (--size tiny|full --reps N
# --workloads a,b --allocs a,b).
# BENCH_ARGS passes more options to bench_host (--ops N --reps N --seed N
# --workloads a,b --allocs a,b --threads 1,2,4). See tools/bench/bench_host.c for what is
# measured and how; docs/BENCHMARKS.md for the results.

BENCH_TINY ?=
BENCH_ARGS ?=
BENCH_HOST := $(B)/bench/bench_host
BENCH_HOST_OUT := $(B)/bench/$(if $(BENCH_TINY),host-tiny,host).txt

.PHONY: bench-host bench-plot bench-real

# bench_host.c: the driver and the trace replays; bench_live.c: the live
# workloads (user-style and threaded).
BENCH_HOST_OBJS := $(B)/bench/bench_host.o $(B)/bench/bench_live.o

$(B)/bench/%.o: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_WARN) -O2 -g -MMD -MP -c $< -o $@

$(BENCH_HOST): $(BENCH_HOST_OBJS) $(B)/host/libmm.a
	$(HOST_CC) $(BENCH_HOST_OBJS) $(B)/host/libmm.a -lpthread -ldl -o $@

bench-host: deps $(BENCH_HOST)
	$(BENCH_HOST) $(if $(BENCH_TINY),--tiny) $(BENCH_ARGS) --out $(BENCH_HOST_OUT)

bench-real: deps $(B)/host/libtally.so $(B)/bench/classic
	python3 tools/bench/realprog.py --check $(REAL_ARGS) --out $(B)/bench/real.txt

$(B)/bench/classic: tools/bench/classic.c
	@mkdir -p $(dir $@)
	$(HOST_CC) -std=gnu11 $(WARN) -O2 -g -pthread $< -o $@

bench-plot:
	@tools/deps.sh
	python3 tools/bench/plot.py $(B)/bench/host.txt $(B)/bench/kernel.txt docs/bench

-include $(B)/bench/bench_host.d $(B)/bench/bench_live.d
