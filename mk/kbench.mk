# mk/kbench.mk - the in-kernel benchmarks (included by Makefile).
#
#   make bench          every workload in every mode under QEMU -icount
#                       shift=0, file reading cost, boot instructions at
#                       128M and 3G, and `bench small twotier harts=N` for
#                       N = 1..4 on -smp 4 -> build/bench/kernel.txt;
#                       then the same workloads in user space, /bin/ubench
#                       under each TALLY_MODE (tools/bench/user_bench.py)
#                       -> build/bench/user.txt
#   BENCH_OPS=N         operations per workload (default 100000)
#   BENCH_HARTS_LIMIT=S seconds a harts=N run may take before it is stopped
#                       with Ctrl-C and its partial figures kept (default 30)

BENCH_OPS ?= 100000
BENCH_HARTS_LIMIT ?= 30

.PHONY: bench
bench: deps $(B)/kernel.elf $(IMAGE)
	python3 tools/bench/kernel_bench.py --ops $(BENCH_OPS) --harts-limit $(BENCH_HARTS_LIMIT)
	python3 tools/bench/user_bench.py --ops $(BENCH_OPS)
