# mk/kbench.mk - the in-kernel benchmarks (included by Makefile).
#
#   make bench          every workload in every mode under QEMU -icount
#                       shift=0, file reading cost, boot instructions at
#                       128M and 3G -> build/bench/kernel.txt
#   BENCH_OPS=N         operations per workload (default 100000)

BENCH_OPS ?= 100000

.PHONY: bench
bench: deps $(B)/kernel.elf $(IMAGE)
	python3 tools/bench/kernel_bench.py --ops $(BENCH_OPS)
