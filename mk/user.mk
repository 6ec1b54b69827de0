# mk/user.mk - user programs (included by Makefile).
#
#   make user      build/user/: the SDK (tally-cc, include/, lib/crt0.o,
#                  lib/libtallyrt.a, user.ld) and the programs of user/bin
#                  as build/user/bin/NAME (make image puts them in /bin;
#                  build/user/debug/NAME: the same with debug information)
#
# The runtime (user/lib) is compiled like the programs: rv64imac/lp64,
# picolibc's headers. The programs are built through build/user/tally-cc
# itself, so the documented command is what make uses.
#
# malloc (user/lib/malloc.c) is Tally's allocator stack: src/mm and the
# growing arena shared with the host (src/common/mm_grow.c) compiled
# unchanged with the user environment (include/env/user), into
# libtallyrt.a; and, for
# TALLY_MODE=picolibc, picolibc's own malloc objects taken from its libc.a
# with their public names prefixed __picolibc_ (one relocatable object),
# so both are in every program that allocates.

U := $(B)/user
USER_ARCH   := -march=rv64imac -mabi=lp64 -mcmodel=medany --specs=picolibc.specs
USER_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(WARN) -O2 -g
PICOLIBC_SPECS := /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs

# Headers of the SDK: Tally's user headers and the uapi headers shared with
# the kernel, copied so build/user stands alone.
USER_HDRS := $(patsubst user/include/%,$(U)/include/%,$(shell find user/include -name '*.h')) \
             $(patsubst include/%,$(U)/include/%,$(wildcard include/uapi/tally/*.h))
USER_LIB_OBJS := $(patsubst user/lib/%.c,$(U)/obj/%.o,$(wildcard user/lib/*.c))
USER_MM_OBJS := $(patsubst src/%.c,$(U)/obj/%.o,$(wildcard src/mm/*.c src/common/*.c) \
                src/lib/printf.c src/lib/bitops.c src/lib/escape.c src/lib/utf8.c)
USER_MM_FLAGS := -Iinclude -Iinclude/env/user
PICOLIBC_LIBC = /usr/lib/picolibc/riscv64-unknown-elf/lib/$(shell $(CC) $(USER_ARCH) -print-multi-directory)/libc.a
PICOLIBC_MALLOC_MEMBERS := malloc free calloc realloc memalign posix_memalign malloc_usable_size
PICOLIBC_MALLOC_NAMES := malloc free calloc realloc memalign aligned_alloc posix_memalign \
                         malloc_usable_size
USER_PICO_MALLOC := $(U)/obj/picolibc_malloc.o
USER_PROGS := $(patsubst user/bin/%.c,$(U)/bin/%,$(wildcard user/bin/*.c)) $(U)/bin/lua
USER_SDK := $(U)/tally-cc $(U)/user.ld $(U)/lib/crt0.o $(U)/lib/libtallyrt.a $(USER_HDRS)

.PHONY: user
.SECONDARY: $(USER_HDRS) $(patsubst $(U)/bin/%,$(U)/debug/%,$(USER_PROGS))
user: $(USER_PROGS)

$(PICOLIBC_SPECS):
	@tools/deps.sh

$(U)/include/uapi/%.h: include/uapi/%.h
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(U)/include/%.h: user/include/%.h
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(U)/tally-cc: user/tally-cc
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(U)/user.ld: user/user.ld
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(U)/lib/crt0.o: user/lib/crt0.S $(PICOLIBC_SPECS)
	@mkdir -p $(dir $@)
	@echo "  AS      $< (user)"
	$(Q)$(CC) $(USER_ARCH) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(U)/obj/%.o: user/lib/%.c $(USER_HDRS) $(PICOLIBC_SPECS)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (user)"
	$(Q)$(CC) $(USER_ARCH) $(USER_CFLAGS) -MMD -MP -I$(U)/include $(USER_MM_FLAGS) -c $< -o $@

$(U)/obj/%.o: src/%.c $(PICOLIBC_SPECS)
	@mkdir -p $(dir $@)
	@echo "  CC      $< (user)"
	$(Q)$(CC) $(USER_ARCH) $(USER_CFLAGS) -MMD -MP $(USER_MM_FLAGS) -c $< -o $@

# picolibc's nano-malloc, its public names prefixed: the fourth mode.
$(USER_PICO_MALLOC): $(PICOLIBC_SPECS)
	@mkdir -p $(dir $@) $(U)/obj/picolibc
	@echo "  OBJCOPY picolibc malloc -> $@"
	$(Q)cd $(U)/obj/picolibc && rm -f *.o && \
		$(CROSS)ar x $(PICOLIBC_LIBC) $(patsubst %,nano-malloc-%.c.o,$(PICOLIBC_MALLOC_MEMBERS))
	$(Q)$(CROSS)ld -r $(U)/obj/picolibc/*.o -o $@.tmp
	$(Q)$(OBJCOPY) $(foreach n,$(PICOLIBC_MALLOC_NAMES),--redefine-sym $(n)=__picolibc_$(n)) \
		$@.tmp $@ && rm -f $@.tmp

$(U)/lib/libtallyrt.a: $(USER_LIB_OBJS) $(USER_MM_OBJS) $(USER_PICO_MALLOC)
	@mkdir -p $(dir $@)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)$(CROSS)ar rcs $@ $^

# Linked with debug information into $(U)/debug/ (for gdb), copied
# without it into $(U)/bin/ (the image's /bin: a sixth of the size).
# USER_PROG_FLAGS: what one program needs beyond the SDK (ubench: the
# benchmark workloads of src/lib/workload.c, the kernel bench's own).
$(U)/debug/%: user/bin/%.c $(wildcard user/bin/*.h) $(USER_SDK)
	@mkdir -p $(dir $@)
	@echo "  TALLYCC $<"
	$(Q)$(U)/tally-cc $(USER_CFLAGS) $< $(USER_PROG_FLAGS) -o $@

$(U)/debug/ubench: $(U)/obj/lib/workload.o
$(U)/debug/ubench: USER_PROG_FLAGS = -Iinclude $(U)/obj/lib/workload.o

# Programs Tally runs but nobody here wrote, built unchanged with tally-cc
# from Debian's source package (tools/debsrc.py fetches the upstream
# tarball bookworm's lua5.4 uses from the archive and checks it against
# the .dsc's sha256): Lua, the interpreter (lua.c and the library; not
# luac), with upstream's own flags (its src/Makefile), as /bin/lua.
LUA_VER    := 5.4.4
LUA_DIR    := $(B)/src/lua-$(LUA_VER)
LUA_ORIG   := lua5.4_$(LUA_VER).orig.tar.gz
LUA_SHA256 := 164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61

$(LUA_DIR)/src/lua.c: tools/debsrc.py
	$(Q)python3 tools/debsrc.py lua5.4 $(LUA_ORIG) $(LUA_SHA256) $(B)/src
	$(Q)touch $@

$(U)/debug/lua: $(LUA_DIR)/src/lua.c $(USER_SDK)
	@mkdir -p $(dir $@)
	@echo "  TALLYCC lua $(LUA_VER) (Debian's lua5.4 source, unchanged)"
	$(Q)$(U)/tally-cc -std=gnu99 -O2 -g -Wall -Wextra -DLUA_COMPAT_5_3 \
		$$(ls $(LUA_DIR)/src/*.c | grep -v '/luac\.c$$') -o $@ -lm

$(U)/bin/%: $(U)/debug/%
	@mkdir -p $(dir $@)
	$(Q)$(OBJCOPY) --strip-debug $< $@

-include $(wildcard $(U)/obj/*.d $(U)/obj/*/*.d $(U)/lib/*.d)
