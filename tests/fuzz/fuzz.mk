# tests/fuzz/fuzz.mk - libFuzzer harnesses (included by the top-level Makefile).
#
#   make fuzz-build           build-fuzz/fuzz_classify and build-fuzz/fuzz_pipe: clang,
#                             -fsanitize=fuzzer,address,undefined -O1 -g, the library
#                             compiled again by clang into build-fuzz/
#   make fuzz-smoke           about a minute, part of `make check`: both harnesses on a copy
#                             of tests/fuzz/corpus in a temporary directory; prints
#                             executions, exec/s and corpus size; fails on any crash, leak
#                             or timeout (the input is kept under build-fuzz/artifacts/)
#   make fuzz                 the long run (FUZZ_SECONDS, default 1800, plus a sixth of that
#                             for pipe mode); new inputs that add coverage are merged back
#                             into tests/fuzz/corpus with -merge=1
#   make fuzz-replay FILE=f   runs one input again (FUZZER=pipe for the pipe harness)
#
# Knobs: FUZZ_SECONDS, FUZZ_PIPE_SECONDS, FUZZ_SMOKE_SECONDS, FUZZ_PIPE_SMOKE_SECONDS,
# FUZZ_MAX_LEN (raw input size; records up to twice max_record_bytes come from the
# harness's own expansion, see tests/fuzz/fuzz_checks.h), FUZZ_TIMEOUT (seconds per input),
# FUZZ_FORK (parallel fuzzing processes for `make fuzz`). Only these rules use clang;
# the main build keeps its CC. The checks themselves (fz_* in fuzz_checks.h) are left out
# of coverage instrumentation (coverage_ignore.txt): coverage steers through the library.

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
                -Wstrict-prototypes -Wno-missing-field-initializers -Iinclude \
                $(PKG_CFLAGS) $(FUZZ_SAN) -pthread -MMD -MP
FUZZ_LIB_OBJS := $(LIB_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB     := $(FUZZ_BUILD)/liblogclassify.a
FUZZ_BINS    := $(FUZZ_BUILD)/fuzz_classify $(FUZZ_BUILD)/fuzz_pipe

export FUZZ_SECONDS FUZZ_PIPE_SECONDS FUZZ_SMOKE_SECONDS FUZZ_PIPE_SMOKE_SECONDS
export FUZZ_MAX_LEN FUZZ_TIMEOUT FUZZ_FORK

.PHONY: fuzz-build fuzz-smoke fuzz fuzz-replay fuzz-clean

fuzz-build: $(FUZZ_BINS)

# The library, instrumented for coverage but without libFuzzer's main.
$(FUZZ_BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB) \
                     tests/fuzz/coverage_ignore.txt
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt \
	    -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm

fuzz-smoke: fuzz-build
	tests/fuzz/run.sh smoke $(FUZZ_BUILD)

fuzz: fuzz-build
	tests/fuzz/run.sh long $(FUZZ_BUILD)

fuzz-replay: fuzz-build
	@test -n "$(FILE)" || { echo "usage: make fuzz-replay FILE=crash-file [FUZZER=pipe]"; exit 2; }
	tests/fuzz/run.sh replay $(FUZZ_BUILD) $(or $(FUZZER),classify) $(FILE)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# `make check` runs the smoke test too (the top-level Makefile, after deps installs clang);
# `make clean` removes build-fuzz/ as well (new inputs of `make fuzz` are in
# tests/fuzz/corpus by then).
clean: fuzz-clean

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:=.d)
